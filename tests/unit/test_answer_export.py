"""The answer-level download's lines from one frozen submission, without a database."""

from __future__ import annotations

from datetime import date

from audit_portal.config import PROJECT_ROOT
from audit_portal.models import Role
from audit_portal.policy import Actor, Permission, allows
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.reports.answer_export import ANSWER_HEADER, SubmittedReturn, submission_lines

CATALOGUE = load_catalogue(PROJECT_ROOT / "questionnaires")
SCHOOLS = CATALOGUE.get("section-175-schools", "2025.1")


def submitted(answers: dict, less_effective: list[str] | None = None) -> SubmittedReturn:
    return SubmittedReturn(
        organisation_id=7,
        organisation="Oakfield Primary",
        identifier="100001",
        kind="school",
        sector=None,  # type: ignore[arg-type]  (the column may be empty)
        phase="primary",
        district="North",
        status="accepted",
        revision=2,
        signed_on=date(2026, 3, 1),
        content={
            "answers": answers,
            "score": {"items": {"s175.1.1": "amber"}, "less_effective": less_effective or []},
        },
    )


def test_one_line_per_item_in_questionnaire_order_with_the_scale_label() -> None:
    assert SCHOOLS is not None
    lines = list(
        submission_lines(
            SCHOOLS,
            submitted(
                {
                    "zz.9.9": {"value": "kept from an older version"},
                    "s175.1.2": {"value": None, "not_applicable": True, "na_reason": "No board"},
                    "s175.1.1": {"value": 2, "narrative": "Named governor left in May"},
                },
                less_effective=["s175.1.1"],
            ),
        )
    )
    assert [line[11] for line in lines] == ["s175.1.1", "s175.1.2", "zz.9.9"]
    first = dict(zip(ANSWER_HEADER, lines[0], strict=True))
    label = SCHOOLS.rating_scale.point(2)
    assert label is not None
    assert first["Answer"] == 2 and first["Rating"] == label.label
    assert (first["RAG"], first["Less effective"], first["Not applicable"]) == (
        "amber",
        True,
        False,
    )
    assert first["Narrative"] == "Named governor left in May"
    assert (first["Return status"], first["Sector"], first["Standard"]) == (
        "Accepted",
        "",
        "s175.1",
    )
    second = dict(zip(ANSWER_HEADER, lines[1], strict=True))
    assert (second["Answer"], second["Rating"], second["Not applicable"]) == ("", "", True)
    assert second["Reason not applicable"] == "No board"
    last = dict(zip(ANSWER_HEADER, lines[2], strict=True))
    assert (last["Standard"], last["Answer"]) == ("", "kept from an older version")


def test_several_choices_share_one_cell() -> None:
    assert SCHOOLS is not None
    lines = submission_lines(SCHOOLS, submitted({"s175.9.1": {"value": ["a", "b"]}}))
    chosen = {line[11]: line[12] for line in lines}
    assert chosen["s175.9.1"] == "a; b"
    assert chosen["s175.1.1"] == ""  # scored but not answered: still listed, with no answer


def test_answer_level_data_is_for_qa_and_administrators_only() -> None:
    def actor(role: Role) -> Actor:
        return Actor(1, "x@example.org", "X", partnership_roles=frozenset({role}))

    assert allows(actor(Role.QA), Permission.REPORTS_ANSWERS)
    assert allows(actor(Role.ADMIN), Permission.REPORTS_ANSWERS)
    assert not allows(actor(Role.SCRUTINEER), Permission.REPORTS_ANSWERS)
    assert allows(actor(Role.SCRUTINEER), Permission.REPORTS_VIEW)


def test_a_number_answer_is_a_number_not_a_rating() -> None:
    """s175.2.6 asks how many staff: its 2 is two people, not 'Partly in place'."""
    assert SCHOOLS is not None
    lines = submission_lines(SCHOOLS, submitted({"s175.2.6": {"value": 2}}))
    line = next(dict(zip(ANSWER_HEADER, x, strict=True)) for x in lines if x[11] == "s175.2.6")
    assert (line["Answer"], line["Rating"]) == (2, "")
