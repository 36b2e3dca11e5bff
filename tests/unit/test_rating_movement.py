"""Rating movement between returns and follow-ups: a worked table, then totals for any rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_portal.config import PROJECT_ROOT
from audit_portal.followups.movement import (
    MovementSummary,
    RatingChange,
    RatingHeading,
    rating_movement,
)
from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.model import RatingScale
from tests.factories import THREE_POINT_SCALE

# Declared best first: 3 Fully in place (green), 2 Partly (amber), 1 Not in place (red).
SCALE = RatingScale.model_validate(THREE_POINT_SCALE)
SECTION_11 = next(
    d for d in load_catalogue(PROJECT_ROOT / "questionnaires").definitions if d.key == "section-11"
).rating_scale


def test_worked_example() -> None:
    changes = [
        RatingChange("s175.1.2", 1, 3),  # red to green
        RatingChange("s175.1.2", 1, 3),
        RatingChange("s175.1.2", 2, 2),
        RatingChange("s175.1.2", 2, None),
        RatingChange("s175.2.1", 2, 1),  # worse
        RatingChange("s175.2.1", 1, 2),
    ]
    movement = rating_movement(changes, SCALE)

    assert list(movement.items) == ["s175.1.2", "s175.2.1"]
    first = movement.items["s175.1.2"]
    assert first.item_id == "s175.1.2"
    assert first.columns == (
        RatingHeading(3, "Fully in place", "green"),
        RatingHeading(2, "Partly in place", "amber"),
        RatingHeading(1, "Not in place", "red"),
    )
    assert [(r.original.value, r.counts, r.no_revised) for r in first.rows] == [
        (3, (0, 0, 0), 0),
        (2, (0, 1, 0), 1),
        (1, (2, 0, 0), 0),
    ]
    assert first.summary == MovementSummary(improved=2, same=1, worse=0, no_revised=1)
    assert first.count(1, 3) == 2 and first.count(2, None) == 1 and first.count(3, 1) == 0

    overall = movement.overall
    assert overall.item_id is None
    assert [r.counts for r in overall.rows] == [(0, 0, 0), (0, 1, 1), (2, 1, 0)]
    assert overall.summary == MovementSummary(improved=3, same=1, worse=1, no_revised=1)
    assert overall.total == 6


def test_moves_within_one_colour_still_count() -> None:
    # Section 11: 3 Mostly met and 2 Partly met are both amber; 3 is still better.
    movement = rating_movement([("s11.1.1", 2, 3), ("s11.1.1", 4, 3)], SECTION_11)
    assert movement.overall.summary == MovementSummary(1, 0, 1, 0)
    assert [h.label for h in movement.overall.columns] == [
        "Fully met",
        "Mostly met",
        "Partly met",
        "Not met",
    ]


def test_items_named_in_order_get_a_table_even_without_rows() -> None:
    movement = rating_movement([("b", 1, 2)], SCALE, item_order=["a", "b"])
    assert list(movement.items) == ["a", "b"]
    assert movement.items["a"].total == 0
    assert all(sum(r.counts) == 0 for r in movement.items["a"].rows)


def test_no_rows() -> None:
    movement = rating_movement([], SCALE)
    assert movement.items == {}
    assert movement.overall.summary == MovementSummary(0, 0, 0, 0)
    assert len(movement.overall.rows) == 3


@pytest.mark.parametrize("change", [("x", 7, 1), ("x", 1, 0)])
def test_values_off_the_scale_are_refused(change: tuple[str, int, int]) -> None:
    with pytest.raises(ValueError, match="not a value on the rating scale"):
        rating_movement([change], SCALE)


changes = st.lists(
    st.tuples(
        st.sampled_from(["s175.1.1", "s175.1.2", "s175.2.1"]),
        st.sampled_from([1, 2, 3]),
        st.one_of(st.none(), st.sampled_from([1, 2, 3])),
    ),
    max_size=60,
)


@given(changes)
def test_totals_equal_the_number_of_rows(rows: list[tuple[str, int, int | None]]) -> None:
    movement = rating_movement(rows, SCALE)
    assert movement.overall.total == len(rows)
    assert sum(r.total for r in movement.overall.rows) == len(rows)
    assert sum(t.total for t in movement.items.values()) == len(rows)
    for item_id, table in movement.items.items():
        assert table.total == sum(1 for r in rows if r[0] == item_id)
        assert sum(r.total for r in table.rows) == table.total
    assert movement.overall.summary.no_revised == sum(1 for r in rows if r[2] is None)


@given(changes)
def test_overall_is_the_sum_of_the_items(rows: list[tuple[str, int, int | None]]) -> None:
    movement = rating_movement(rows, SCALE)
    for index, row in enumerate(movement.overall.rows):
        per_item = [t.rows[index] for t in movement.items.values()]
        for column in range(len(movement.overall.columns)):
            assert row.counts[column] == sum(r.counts[column] for r in per_item)
        assert row.no_revised == sum(r.no_revised for r in per_item)


@given(changes)
def test_improved_and_worse_swap_when_the_direction_is_reversed(
    rows: list[tuple[str, int, int | None]],
) -> None:
    forward = rating_movement(rows, SCALE).overall.summary
    back = rating_movement([(i, r, o) for i, o, r in rows if r is not None], SCALE).overall.summary
    assert (back.improved, back.same, back.worse) == (forward.worse, forward.same, forward.improved)
