"""`questionnaires check`: every problem reported with file, path and a plain message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from audit_portal import cli
from audit_portal.config import PROJECT_ROOT
from audit_portal.questionnaires import check_catalogue, load_catalogue
from tests.factories import definition, item, write_definition


def problems_for(tmp_path: Path, *datas: dict[str, Any]) -> list[str]:
    for data in datas:
        write_definition(tmp_path, data)
    return checked(tmp_path)


def checked(root: Path) -> list[str]:
    """Problems as printed, with the definitions folder's own name taken off the front."""
    return [str(p).removeprefix(f"{root.name}/") for p in check_catalogue(load_catalogue(root))]


def test_shipped_definitions_are_valid() -> None:
    catalogue = load_catalogue(PROJECT_ROOT / "questionnaires")
    assert [str(p) for p in check_catalogue(catalogue)] == []
    keys = {d.key for d in catalogue.definitions}
    assert keys == {"section-11", "section-175-schools", "section-175-early-years"}


def test_shipped_definitions_meet_the_content_minimums() -> None:
    catalogue = load_catalogue(PROJECT_ROOT / "questionnaires")
    for d in catalogue.definitions:
        minimum = 25 if d.key == "section-175-early-years" else 40
        assert d.item_count() >= minimum, f"{d.key} {d.version} has {d.item_count()} items"
        for it in d.items():
            assert it.guidance.strip(), it.id
            if it.kind == "rating":
                assert it.evidence_examples, it.id
    assert len(catalogue.versions("section-175-schools")) >= 2


def test_a_valid_definition_has_no_problems(tmp_path: Path) -> None:
    assert problems_for(tmp_path, definition()) == []


def test_duplicate_item_ids(tmp_path: Path) -> None:
    data = definition()
    data["sections"][1]["items"][1] = item("s175.2.1", "Another question")
    assert problems_for(tmp_path, data) == [
        "section-175-schools/2025.1.yaml: sections[s175.2].items[s175.2.1].id: "
        "item id s175.2.1 is used more than once"
    ]


def test_unknown_rating_value_in_narrative_rule(tmp_path: Path) -> None:
    data = definition()
    data["sections"][0]["items"][0]["narrative_required_for"] = [2, 7]
    assert problems_for(tmp_path, data) == [
        "section-175-schools/2025.1.yaml: sections[s175.1].items[s175.1.1].narrative_required_for: "
        "7 is not a value on the rating scale"
    ]


def test_applies_to_naming_no_known_type(tmp_path: Path) -> None:
    data = definition()
    data["sections"][0]["items"][1]["applies_to"] = {"phases": ["secondary", "tertiary"]}
    [problem] = problems_for(tmp_path, data)
    assert problem.startswith(
        "section-175-schools/2025.1.yaml: sections[s175.1].items[s175.1.2].applies_to.phases: "
        "'tertiary' is not a known phase"
    )


def test_rollup_rule_referring_to_nothing(tmp_path: Path) -> None:
    data = definition()
    data["rollup"]["section"] = {"method": "share", "over": "sections", "green_at_least": 0.5}
    data["rating_scale"]["points"][2]["rag"] = "amber"
    data["rollup"]["overall"]["red_if_any_red"] = True
    assert problems_for(tmp_path, data) == [
        "section-175-schools/2025.1.yaml: rollup.overall: "
        "refers to red but the rating scale has no red point",
        "section-175-schools/2025.1.yaml: rollup.section.over: "
        "a section rule counts its items; over: sections refers to nothing",
    ]


def test_unknown_rollup_method_and_typo_field(tmp_path: Path) -> None:
    data = definition()
    data["rollup"]["overall"] = {"method": "average"}
    data["sections"][0]["items"][0]["guidence"] = "typo"
    problems = problems_for(tmp_path, data)
    assert (
        "section-175-schools/2025.1.yaml: rollup.overall: method must be one of 'worst', 'share'"
        in problems
    )
    assert (
        "section-175-schools/2025.1.yaml: sections[s175.1].items[s175.1.1].guidence: "
        "is not a recognised field (check the spelling against docs/questionnaire-format.md)"
        in problems
    )


def test_scale_that_gets_better_as_it_falls(tmp_path: Path) -> None:
    data = definition()
    data["rating_scale"]["points"][0]["rag"] = "amber"
    data["rating_scale"]["points"][1]["rag"] = "green"
    assert problems_for(tmp_path, data) == [
        "section-175-schools/2025.1.yaml: rating_scale.points: "
        "a lower value cannot have a better RAG colour than a higher one"
    ]


def test_file_name_must_match_version_and_folder_must_match_key(tmp_path: Path) -> None:
    write_definition(tmp_path, definition(), name="2024.9")
    assert checked(tmp_path) == [
        "section-175-schools/2024.9.yaml: version: is '2025.1' but the file is named '2024.9.yaml'"
    ]


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "section-11" / "2025.1.yaml"
    path.parent.mkdir()
    path.write_text("key: section-11\ntitle: [unclosed\n")
    [problem] = checked(tmp_path)
    assert problem.startswith("section-11/2025.1.yaml: line 3, column 1: is not valid YAML")


def test_missing_field_and_wrong_kind(tmp_path: Path) -> None:
    data = definition()
    del data["sections"][1]["items"][0]["prompt"]
    data["sections"][1]["items"][1]["kind"] = "essay"
    problems = problems_for(tmp_path, data)
    assert problems[0] == (
        "section-175-schools/2025.1.yaml: sections[s175.2].items[s175.2.1].prompt: "
        "is required but missing"
    )
    assert problems[1].startswith(
        "section-175-schools/2025.1.yaml: sections[s175.2].items[s175.2.2].kind: must be one of "
    )


# --- versions and lineage -----------------------------------------------------------------


def new_version(old: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(old)
    data["version"] = "2026.1"
    data["supersedes"] = old["version"]
    data["lineage"] = []
    return data


def test_item_id_reused_with_a_different_meaning(tmp_path: Path) -> None:
    old = definition()
    new = new_version(old)
    new["sections"][0]["items"][0]["prompt"] = "A completely different question"
    assert problems_for(tmp_path, old, new) == [
        "section-175-schools/2026.1.yaml: lineage: item s175.1.1 changed its prompt since 2025.1 "
        "but lineage does not say so: add a 'reworded' entry, or give the new question a new id"
    ]


def test_declared_rewording_is_accepted(tmp_path: Path) -> None:
    old = definition()
    new = new_version(old)
    new["sections"][0]["items"][0]["prompt"] = "Reworded question"
    new["lineage"] = [{"id": "s175.1.1", "change": "reworded", "note": "Clearer wording."}]
    assert problems_for(tmp_path, old, new) == []


def test_vanished_item_must_be_declared(tmp_path: Path) -> None:
    old = definition()
    new = new_version(old)
    del new["sections"][1]["items"][1]
    assert problems_for(tmp_path, old, new) == [
        "section-175-schools/2026.1.yaml: lineage: item s175.2.2 of 2025.1 is missing from 2026.1: "
        "declare it removed, or as the source of a split or merge"
    ]


def test_removed_id_may_never_come_back(tmp_path: Path) -> None:
    first = definition()
    second = new_version(first)
    del second["sections"][1]["items"][1]
    second["lineage"] = [{"id": "s175.2.2", "change": "removed", "note": "No longer asked."}]
    third = new_version(second)
    third["version"] = "2027.1"
    third["supersedes"] = "2026.1"
    third["sections"][1]["items"].append(item("s175.2.2", "Something new"))
    assert problems_for(tmp_path, first, second, third) == [
        "section-175-schools/2027.1.yaml: items[s175.2.2]: "
        "id s175.2.2 was retired in 2026.1 and may not be used again"
    ]


def test_lineage_pointing_at_nothing(tmp_path: Path) -> None:
    old = definition()
    new = new_version(old)
    new["sections"][0]["items"].append(item("s175.1.3"))
    new["lineage"] = [
        {"id": "s175.1.3", "change": "merged", "from": ["s175.1.9"], "note": "Merged."},
    ]
    new["supersedes"] = "2025.1"
    assert problems_for(tmp_path, old, new) == [
        "section-175-schools/2026.1.yaml: lineage[0].from: "
        "a merge needs at least two earlier items",
        "section-175-schools/2026.1.yaml: lineage[0].from: "
        "s175.1.9 is not an item of the superseded version",
    ]


def test_superseded_version_must_exist(tmp_path: Path) -> None:
    new = new_version(definition())
    assert problems_for(tmp_path, new) == [
        "section-175-schools/2026.1.yaml: supersedes: section-175-schools 2025.1 does not exist"
    ]


def test_cli_check_exits_non_zero_and_lists_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = definition()
    data["audience"] = {"duty_types": ["school"]}
    write_definition(tmp_path, data)
    assert cli.main(["questionnaires", "--dir", str(tmp_path), "check"]) == 1
    out = capsys.readouterr().out
    assert (
        "section-175-schools/2025.1.yaml: audience.duty_types: 'school' is not a known duty type"
        in out
    )
    assert out.strip().endswith("1 problem(s) in 1 file(s).")


def test_cli_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_definition(tmp_path, definition())
    assert cli.main(["questionnaires", "--dir", str(tmp_path), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["KEY", "VERSION", "STATUS", "SECTIONS", "ITEMS", "FILE"]
    assert lines[1].split() == [
        "section-175-schools",
        "2025.1",
        "published",
        "2",
        "4",
        f"{tmp_path.name}/section-175-schools/2025.1.yaml",
    ]


def test_committed_json_schema_is_current() -> None:
    assert cli.main(["questionnaires", "schema", "--check"]) == 0
