"""The challenge report figures over plain data: outcome shares by standard and by kind, and the
gap between self-rating and moderated rating in scale steps."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_portal.models import Outcome
from audit_portal.reports.challenge_figures import (
    ChallengeData,
    ChallengedRow,
    RatingOrder,
    challenge_report,
    gap_in_steps,
    outcome_shares,
    rating_gaps,
)
from audit_portal.reports.challenge_queries import rating_value

SCALE = RatingOrder((3, 2, 1))  # Fully in place, Partly in place, Not in place: best first
STANDARDS = {"s175.1": "Governance", "s175.2": "The designated safeguarding lead"}
KINDS = {"school": "School or college", "early-years": "Early years setting"}
S, P, N = Outcome.SUBSTANTIATED.value, Outcome.PARTLY.value, Outcome.NOT.value


def row(
    standard: str = "s175.1",
    kind: str = "school",
    outcome: str | None = S,
    own: int | None = 3,
    moderated: int | None = 3,
    organisation_id: int = 1,
    item_id: str = "s175.1.1",
) -> ChallengedRow:
    return ChallengedRow(organisation_id, kind, standard, item_id, outcome, own, moderated)


# ---------------------------------------------------------------------------------------------
# Outcomes


def test_outcome_shares_by_standard_state_numerator_and_denominator() -> None:
    rows = [
        row("s175.1", outcome=S),
        row("s175.1", outcome=S),
        row("s175.1", outcome=P),
        row("s175.1", outcome=N),
        row("s175.1", outcome=None, moderated=None),  # not reviewed yet
        row("s175.2", outcome=N),
    ]
    figures = outcome_shares(rows, "standard", STANDARDS)
    first, second = figures.groups
    assert (first.key, first.label) == ("s175.1", "Governance")
    assert first.challenged == 5 and first.reviewed == 4 and first.awaiting_review == 1
    assert first.substantiated.text == "50% (2 of 4)"
    assert first.partly.text == "25% (1 of 4)"
    assert first.not_substantiated.text == "25% (1 of 4)"
    assert second.label == "The designated safeguarding lead"
    assert second.not_substantiated.text == "100% (1 of 1)"
    assert figures.overall.reviewed == 5
    assert figures.overall.substantiated.numerator == 2


def test_outcome_shares_by_kind_follow_the_kinds_order_and_name_unknown_ones() -> None:
    rows = [
        row(kind="early-years", outcome=P),
        row(kind="school", outcome=S),
        row(kind="", outcome=N),
    ]
    groups = outcome_shares(rows, "kind", KINDS).groups
    assert [g.label for g in groups] == ["School or college", "Early years setting", "Not recorded"]
    assert groups[1].partly.text == "100% (1 of 1)"


def test_nothing_reviewed_gives_no_figure_rather_than_zero() -> None:
    figures = outcome_shares([row(outcome=None, moderated=None)], "standard", STANDARDS)
    assert figures.overall.reviewed == 0
    assert figures.overall.substantiated.text == "No figure (0 of 0)"
    assert outcome_shares([], "kind").groups == ()


def test_an_unknown_breakdown_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot break down"):
        outcome_shares([row()], "district")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The gap between self-rating and moderated rating


def test_gap_counts_scale_steps_below_the_self_rating() -> None:
    assert gap_in_steps(SCALE, 3, 1) == 2  # said fully in place; QA found not in place
    assert gap_in_steps(SCALE, 3, 2) == 1
    assert gap_in_steps(SCALE, 2, 3) == -1  # harsher on itself than QA
    assert gap_in_steps(SCALE, 2, 2) == 0
    assert gap_in_steps(SCALE, None, 2) is None  # not applicable: nothing to compare
    assert gap_in_steps(SCALE, 7, 2) is None  # not on the scale


def test_the_scale_order_decides_the_gap_not_the_numbers() -> None:
    upside_down = RatingOrder((1, 2, 3))  # a scale whose best point has the lowest value
    assert gap_in_steps(upside_down, 1, 3) == 2


def test_rating_gaps_by_standard_and_kind() -> None:
    rows = [
        row("s175.1", "school", S, 3, 3),
        row("s175.1", "school", P, 3, 2),
        row("s175.1", "early-years", N, 3, 1),
        row("s175.2", "early-years", S, 2, 3),
        row("s175.2", "school", None, 3, None),  # not reviewed: left out
        row("s175.2", "school", S, None, 3),  # no self-rating: reviewed but not compared
    ]
    by_standard = rating_gaps(rows, SCALE, "standard", STANDARDS)
    governance, lead = by_standard.groups
    assert (governance.lower, governance.same, governance.higher) == (2, 1, 0)
    assert governance.mean_gap == Fraction(3, 3)
    assert governance.mean_gap_text == "1.0 steps below the self-rating on average"
    assert governance.lower_share.text == "67% (2 of 3)"
    assert (lead.lower, lead.same, lead.higher, lead.not_compared) == (0, 0, 1, 1)
    assert lead.mean_gap == Fraction(-1)
    assert lead.mean_gap_text == "1.0 steps above the self-rating on average"
    overall = by_standard.overall
    assert overall.compared == 4 and overall.total_steps == 2
    assert overall.mean_gap_text == "0.5 steps below the self-rating on average"

    by_kind = {g.key: g for g in rating_gaps(rows, SCALE, "kind", KINDS).groups}
    assert by_kind["school"].mean_gap == Fraction(1, 2)
    assert by_kind["early-years"].mean_gap == Fraction(1, 2)  # (2 + -1) / 2


def test_no_comparison_gives_no_mean() -> None:
    gap = rating_gaps([row(outcome=None, moderated=None)], SCALE, "kind").overall
    assert gap.mean_gap is None and gap.compared == 0
    assert gap.mean_gap_text == "No figure (nothing compared)"
    assert gap.lower_share.text == "No figure (0 of 0)"


def test_the_whole_report_from_plain_data() -> None:
    data = ChallengeData(
        rows=(row("s175.1", "school", N, 3, 1), row("s175.2", "early-years", S, 2, 2)),
        scale=SCALE,
        standards=STANDARDS,
        kinds=KINDS,
    )
    report = challenge_report(data)
    assert [g.key for g in report.outcomes_by_standard.groups] == ["s175.1", "s175.2"]
    assert [g.key for g in report.outcomes_by_kind.groups] == ["school", "early-years"]
    assert report.gaps_by_standard.overall.mean_gap == 1
    assert report.gaps_by_kind.groups[0].mean_gap_text == (
        "2.0 steps below the self-rating on average"
    )


def test_stored_ratings_are_read_only_when_on_the_scale() -> None:
    assert rating_value("3", SCALE) == 3
    assert rating_value(" 2 ", SCALE) == 2
    for stored in ("None", "", None, "na", "4", "-1", "٣", "1" * 50):
        assert rating_value(stored, SCALE) is None


# ---------------------------------------------------------------------------------------------
# Properties

ratings = st.one_of(st.none(), st.sampled_from(SCALE.values), st.integers(-5, 10))
rows_strategy = st.lists(
    st.builds(
        ChallengedRow,
        organisation_id=st.integers(1, 20),
        kind=st.sampled_from(["school", "early-years", "agency", ""]),
        standard=st.sampled_from(["s175.1", "s175.2", "s175.3", ""]),
        item_id=st.just("s175.1.1"),
        outcome=st.one_of(st.none(), st.sampled_from([S, P, N, "something else"])),
        self_rating=ratings,
        moderated_rating=ratings,
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.sampled_from(["standard", "kind"]))
def test_shares_add_up_to_the_items_reviewed(rows: list[ChallengedRow], by: str) -> None:
    figures = outcome_shares(rows, by, STANDARDS if by == "standard" else KINDS)  # type: ignore[arg-type]
    for shares in (figures.overall, *figures.groups):
        parts = (shares.substantiated, shares.partly, shares.not_substantiated)
        assert {p.denominator for p in parts} == {shares.reviewed}
        assert sum(p.numerator for p in parts) == shares.reviewed
        assert 0 <= shares.reviewed <= shares.challenged
    assert sum(g.challenged for g in figures.groups) == figures.overall.challenged == len(rows)
    assert sum(g.reviewed for g in figures.groups) == figures.overall.reviewed


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.sampled_from(["standard", "kind"]))
def test_gap_counts_add_up_and_the_groups_make_the_whole(
    rows: list[ChallengedRow], by: str
) -> None:
    figures = rating_gaps(rows, SCALE, by)  # type: ignore[arg-type]
    whole = figures.overall
    assert sum(g.compared for g in figures.groups) == whole.compared
    assert sum(g.total_steps for g in figures.groups) == whole.total_steps
    reviewed = sum(1 for r in rows if r.outcome in {S, P, N})
    assert whole.compared + whole.not_compared == reviewed
    steps = len(SCALE.values) - 1
    if whole.mean_gap is not None:
        assert -steps <= whole.mean_gap <= steps


@settings(max_examples=200, deadline=None)
@given(rows_strategy)
def test_the_gap_is_zero_when_moderated_equals_self(rows: list[ChallengedRow]) -> None:
    agreed = [
        ChallengedRow(
            r.organisation_id,
            r.kind,
            r.standard,
            r.item_id,
            r.outcome,
            r.self_rating,
            r.self_rating,
        )
        for r in rows
    ]
    for by in ("standard", "kind"):
        figures = rating_gaps(agreed, SCALE, by)  # type: ignore[arg-type]
        for gap in (figures.overall, *figures.groups):
            assert gap.lower == gap.higher == gap.total_steps == 0
            assert gap.same == gap.compared
            assert gap.mean_gap in (None, 0)
