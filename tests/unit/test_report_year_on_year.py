"""Year on year across questionnaire versions: the real school versions, and a made-up chain."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from audit_portal.config import PROJECT_ROOT
from audit_portal.questionnaires import Definition, load_catalogue
from audit_portal.reports.figures import Share
from audit_portal.reports.year_on_year import year_on_year
from tests.factories import definition, item

KEY = "section-175-schools"
CATALOGUE = load_catalogue(PROJECT_ROOT / "questionnaires")
OLD = CATALOGUE.get(KEY, "2022.1")
NEW = CATALOGUE.get(KEY, "2025.1")


def test_2022_to_2025_lists_what_cannot_be_compared() -> None:
    assert OLD is not None and NEW is not None
    result = year_on_year(NEW, OLD, {}, {})
    assert (result.key, result.current_version, result.previous_version) == (
        KEY,
        "2025.1",
        "2022.1",
    )
    assert [(n.item_id, n.previous_item_ids) for n in result.merged] == [
        ("s175.1.6", ("s175.1.3", "s175.1.4"))
    ]
    assert [(n.item_id, n.previous_item_ids) for n in result.split] == [
        ("s175.10.2", ("s175.10.2",)),  # keeps its id but now covers only part of the old item
        ("s175.10.4", ("s175.10.2",)),
        ("s175.10.5", ("s175.10.2",)),
        ("s175.10.6", ("s175.10.2",)),
    ]
    assert [n.item_id for n in result.new] == ["s175.1.7", "s175.3.6", "s175.11.5"]
    assert [n.item_id for n in result.removed] == ["s175.9.5"]  # merged items are not "removed"
    assert result.removed[0].notes[0].startswith("Questionnaire-design change. The item asked")
    assert result.merged[0].notes[0].startswith("Questionnaire-design change, not a change")
    assert result.split[1].notes[0].startswith("Split from the 2022 filtering")
    # 73 items in 2025.1, less 1 merged, 4 split and 3 new; 69 in 2022.1 = 65 + 2 merged + 1
    # split + 1 removed
    assert len(result.compared) == 65
    reworded = {c.item_id for c in result.compared if c.change == "reworded"}
    assert reworded == {"s175.4.2", "s175.7.2", "s175.7.4", "s175.7.5", "s175.8.4", "s175.10.1"}
    assert all(c.item_id == c.previous_item_id for c in result.compared)
    assert not result.scale_changed


def test_2022_to_2025_changes_in_percentage_points() -> None:
    assert OLD is not None and NEW is not None
    current = {
        "s175.2.1": Share(8, 10),  # 80% now
        "s175.10.1": Share(2, 3),  # 66.67% now, reworded
        "s175.10.4": Share(1, 1),  # split: never compared
        "s175.12.1": Share(1, 8),  # 12.5%
    }
    previous = {
        "s175.2.1": Share(5, 8),  # 62.5% then: +17.5
        "s175.10.1": Share(1, 2),  # 50%: +16.666... -> 16.7
        "s175.10.2": Share(1, 2),
        "s175.12.1": Share(1, 4),  # 25%: -12.5
        "s175.9.5": Share(3, 4),
    }
    result = year_on_year(NEW, OLD, current, previous)
    by_id = {c.item_id: c for c in result.compared}
    assert by_id["s175.2.1"].points == Decimal("17.5")
    assert by_id["s175.2.1"].change == "same" and by_id["s175.2.1"].notes == ()
    assert by_id["s175.10.1"].points == Decimal("16.7")
    assert by_id["s175.10.1"].change == "reworded"
    assert by_id["s175.10.1"].notes[0].startswith("KCSIE 2025 adds misinformation")
    assert by_id["s175.10.1"].prompt == NEW.item("s175.10.1").prompt  # type: ignore[union-attr]
    assert by_id["s175.12.1"].points == Decimal("-12.5")
    assert by_id["s175.13.1"].current == Share(0, 0) and by_id["s175.13.1"].points is None
    assert "s175.10.4" not in by_id and "s175.10.2" not in by_id


def test_the_same_version_compares_every_item() -> None:
    assert NEW is not None
    result = year_on_year(NEW, NEW, {"s175.1.1": Share(3, 4)}, {"s175.1.1": Share(1, 2)})
    assert len(result.compared) == NEW.item_count() == 73
    assert {c.change for c in result.compared} == {"same"}
    assert result.compared[0].item_id == "s175.1.1" and result.compared[0].points == Decimal("25.0")
    assert not (result.new or result.removed or result.split or result.merged)


# --- a made-up chain 2022.1 -> 2023.1 -> 2024.1 ---------------------------------------------


def version(
    number: str, supersedes: str | None, sections: list[Any], lineage: list[Any]
) -> Definition:
    extra: dict[str, Any] = {"sections": sections, "lineage": lineage}
    if supersedes:
        extra["supersedes"] = supersedes
    return Definition.model_validate(definition(number, **extra))


V2022 = version(
    "2022.1",
    None,
    [
        {"id": "s175.1", "title": "Leadership", "items": [item("s175.1.1"), item("s175.1.2")]},
        {"id": "s175.2", "title": "Training", "items": [item("s175.2.1"), item("s175.2.2")]},
    ],
    [],
)
V2023 = version(
    "2023.1",
    "2022.1",
    [
        {
            "id": "s175.1",
            "title": "Leadership",
            "items": [
                item("s175.1.1", "Reworded 1.1"),
                item("s175.1.2", "Half of 1.2"),
                item("s175.1.3", "Other half of 1.2"),
            ],
        },
        {"id": "s175.2", "title": "Training", "items": [item("s175.2.1"), item("s175.2.3")]},
    ],
    [
        {"id": "s175.1.1", "change": "reworded", "from": ["s175.1.1"], "note": "Clearer in 2023."},
        {"id": "s175.1.2", "change": "split", "from": ["s175.1.2"], "note": "Split in 2023 (a)."},
        {"id": "s175.1.3", "change": "split", "from": ["s175.1.2"], "note": "Split in 2023 (b)."},
        {"id": "s175.2.2", "change": "removed", "note": "No longer asked from 2023."},
    ],
)
V2024 = version(
    "2024.1",
    "2023.1",
    [
        {
            "id": "s175.1",
            "title": "Leadership",
            "items": [
                item("s175.1.1", "Reworded 1.1"),
                item("s175.1.2", "Half of 1.2"),
                item("s175.1.3", "Other half of 1.2"),
            ],
        },
        {
            "id": "s175.2",
            "title": "Training",
            "items": [item("s175.2.1", "Reworded 2.1"), item("s175.2.3"), item("s175.2.4")],
        },
    ],
    [{"id": "s175.2.1", "change": "reworded", "from": ["s175.2.1"], "note": "Clearer in 2024."}],
)


def test_a_chain_of_versions_is_followed_step_by_step() -> None:
    """2022 -> 2024 through 2023: 1.1 reworded in 2023, 2.1 reworded in 2024 (both compared);
    1.2 split in 2023 into 1.2 and 1.3 (not compared, even though 2024 left them alone);
    2.3 new in 2023 and 2.4 new in 2024; 2.2 removed in 2023."""
    current = {"s175.1.1": Share(9, 10), "s175.2.1": Share(1, 3)}
    previous = {"s175.1.1": Share(1, 2), "s175.2.1": Share(2, 3), "s175.1.2": Share(1, 1)}
    result = year_on_year(V2024, V2022, current, previous, between=[V2023])
    assert [(c.item_id, c.change, c.points, c.notes) for c in result.compared] == [
        ("s175.1.1", "reworded", Decimal("40.0"), ("Clearer in 2023.",)),
        ("s175.2.1", "reworded", Decimal("-33.3"), ("Clearer in 2024.",)),
    ]
    assert [(n.item_id, n.previous_item_ids, n.notes) for n in result.split] == [
        ("s175.1.2", ("s175.1.2",), ("Split in 2023 (a).",)),
        ("s175.1.3", ("s175.1.2",), ("Split in 2023 (b).",)),
    ]
    assert [n.item_id for n in result.new] == ["s175.2.3", "s175.2.4"]
    assert [(n.item_id, n.notes) for n in result.removed] == [
        ("s175.2.2", ("No longer asked from 2023.",))
    ]
    assert result.merged == []


def test_a_direct_step_of_the_chain() -> None:
    result = year_on_year(V2024, V2023, {}, {})
    assert [(c.item_id, c.change) for c in result.compared] == [
        ("s175.1.1", "same"),
        ("s175.1.2", "same"),
        ("s175.1.3", "same"),
        ("s175.2.1", "reworded"),
        ("s175.2.3", "same"),
    ]
    assert [n.item_id for n in result.new] == ["s175.2.4"]


def test_a_gap_in_the_chain_is_refused_not_guessed() -> None:
    with pytest.raises(
        ValueError, match=re.escape("2024.1 does not follow on from section-175-schools 2022.1")
    ):
        year_on_year(V2024, V2022, {}, {})
    with pytest.raises(ValueError, match="does not follow on"):
        year_on_year(V2022, V2024, {}, {})  # the wrong way round


def test_different_questionnaires_are_refused() -> None:
    other = Definition.model_validate(definition("2024.1", key="section-11"))
    with pytest.raises(ValueError, match="cannot compare"):
        year_on_year(other, V2024, {}, {})
