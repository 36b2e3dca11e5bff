"""Parsing one item's answer, and deciding whether a return is ready: pure, no HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.datastructures import MultiDict

from audit_portal.config import PROJECT_ROOT
from audit_portal.followups import add_months, follow_up_due
from audit_portal.questionnaires import Definition, load_catalogue
from audit_portal.returns.answers import AnswerData, UnknownItem, find_item, parse_item
from audit_portal.returns.readiness import assess
from audit_portal.vocabulary import OrganisationProfile
from tests.factories import definition, item

SMALL = Definition.model_validate(
    definition(
        sections=[
            {
                "id": "s175.1",
                "title": "One",
                "items": [
                    item("s175.1.1"),
                    item("s175.1.2", applies_to={"features": ["boarding"]}),
                    {
                        "id": "s175.1.3",
                        "kind": "number",
                        "prompt": "How many?",
                        "guidance": "Count.",
                        "min": 0,
                        "max": 100,
                        "required": False,
                    },
                    {
                        "id": "s175.1.4",
                        "kind": "date",
                        "prompt": "When?",
                        "guidance": "Date.",
                        "required": False,
                    },
                    {
                        "id": "s175.1.5",
                        "kind": "multiple_choice",
                        "prompt": "Which?",
                        "guidance": "Tick.",
                        "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
                        "required": False,
                    },
                ],
            },
        ]
    )
)
DAY_SCHOOL = OrganisationProfile(duty_type="section-175-school", phase="primary")


def parse(item_id: str, **fields: str | list[str]):  # type: ignore[no-untyped-def]
    prefix = "item-" + item_id.replace(".", "-")
    form = MultiDict(
        [
            (f"{prefix}-{k.replace('_', '-')}", v)
            for k, vs in fields.items()
            for v in (vs if isinstance(vs, list) else [vs])
        ]
    )
    return parse_item(SMALL, SMALL.item(item_id), form)


def test_rating_values() -> None:
    assert parse("s175.1.1", value="2", narrative=" Partly \r\ndone ").answer == AnswerData(
        2, narrative="Partly \ndone"
    )
    assert parse("s175.1.1", value="na", na_reason="Day school").answer.not_applicable
    assert parse("s175.1.1", value="").answer.is_empty
    assert parse("s175.1.1", value="7").errors == {"value": "Choose one of the ratings shown"}
    assert parse("s175.1.1", value="<script>").errors == {
        "value": "Choose one of the ratings shown"
    }


def test_over_long_text_is_refused_not_truncated() -> None:
    result = parse("s175.1.1", value="3", narrative="x" * 5001, evidence="y" * 2001)
    assert result.answer is None
    assert result.errors == {
        "narrative": "The narrative must be 5,000 characters or fewer",
        "evidence": "The evidence description must be 2,000 characters or fewer",
    }


@pytest.mark.parametrize(
    ("raw", "expected", "error"),
    [
        ("42", 42, None),
        ("12.5", 12.5, None),
        ("1,000", None, "Enter a number of 100 or less"),
        ("-1", None, "Enter a number of 0 or more"),
        ("lots", None, "Enter a number, like 12 or 85.5"),
        ("NaN", None, "Enter a number, like 12 or 85.5"),
    ],
)
def test_numbers(raw: str, expected: object, error: str | None) -> None:
    result = parse("s175.1.3", value=raw)
    assert (result.answer.value if result.answer else None, result.errors.get("value")) == (
        expected,
        error,
    )


def test_dates_and_choices() -> None:
    assert (
        parse("s175.1.4", value_day="27", value_month="3", value_year="2026").answer.value
        == "2026-03-27"
    )
    assert (
        parse("s175.1.4", value_day="31", value_month="2", value_year="2026")
        .errors["value"]
        .startswith("Enter a real date")
    )
    assert parse("s175.1.5", value=["b", "a"]).answer.value == ["a", "b"]
    assert parse("s175.1.5", value=["c"]).errors == {"value": "Choose from the options shown"}


def test_unknown_and_non_applying_items_are_refused() -> None:
    with pytest.raises(UnknownItem, match=r"s175\.9\.9 is not a question"):
        find_item(SMALL, "s175.9.9", DAY_SCHOOL)
    with pytest.raises(UnknownItem, match="does not apply to your organisation"):
        find_item(SMALL, "s175.1.2", DAY_SCHOOL)
    assert find_item(SMALL, "s175.1.1", DAY_SCHOOL).id == "s175.1.1"


def test_readiness_lists_every_problem_in_order() -> None:
    answers = {"s175.1.1": AnswerData(2)}
    result = assess(SMALL, DAY_SCHOOL, answers, {})
    assert [p.message for p in result.problems] == [
        "Explain the rating ‘Partly in place’ in the narrative",
        "Add at least one action for this rating",
    ]
    assert (result.applicable, result.answered, result.percent) == (4, 1, 25)
    fixed = assess(
        SMALL, DAY_SCHOOL, {"s175.1.1": AnswerData(2, narrative="Because")}, {"s175.1.1": 1}
    )
    assert fixed.ready and fixed.score.less_effective == ("s175.1.1",)


def test_readiness_not_applicable_needs_a_reason_and_carried_answers_need_confirming() -> None:
    result = assess(
        SMALL, DAY_SCHOOL, {"s175.1.1": AnswerData(not_applicable=True)}, {}, carried=["s175.1.1"]
    )
    assert [p.message for p in result.problems] == [
        "Confirm or change last year's answer",
        "Say why this does not apply",
    ]
    assert assess(SMALL, DAY_SCHOOL, {}, {}).problems[0].message == "Answer this question"


def test_shipped_questionnaires_all_green_are_ready() -> None:
    for d in load_catalogue(PROJECT_ROOT / "questionnaires").definitions:
        best = d.rating_scale.points[0].value
        answers = {i.id: AnswerData(best if i.kind == "rating" else "x") for i in d.items()}
        result = assess(d, None, answers, {})
        assert result.ready and result.score.overall == "green", d.key


def test_follow_up_dates() -> None:
    assert follow_up_due(date(2026, 3, 14), 6) == date(2026, 9, 14)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
