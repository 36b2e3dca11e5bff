"""Candidates for challenge over plain data: which questions of each return were rated green
with no evidence described, in questionnaire order."""

from __future__ import annotations

from audit_portal.challenges.unevidenced import AnswerFact, green_without_evidence, item_order


def fact(
    return_id: int,
    item_id: str,
    rag: str | None = "green",
    *,
    not_applicable: bool = False,
    evidence: bool = False,
) -> AnswerFact:
    return AnswerFact(return_id, item_id, rag, not_applicable, evidence)


def test_only_applicable_green_answers_without_evidence_are_candidates() -> None:
    found = green_without_evidence(
        [
            fact(1, "s175.1.1"),  # green, nothing written: a candidate
            fact(1, "s175.1.2", evidence=True),  # evidence described
            fact(1, "s175.1.3", "amber"),  # not claimed as green
            fact(1, "s175.1.4", None),  # not rated
            fact(2, "s175.2.1", not_applicable=True),  # not applicable
            fact(3, "s175.3.1", "red"),
        ]
    )
    assert found == {1: ("s175.1.1",)}, "returns without a candidate are left out"


def test_questions_come_in_questionnaire_order_once_each() -> None:
    found = green_without_evidence(
        [fact(7, "s175.10.1"), fact(7, "s175.2.10"), fact(7, "s175.2.9"), fact(7, "s175.2.9")]
    )
    assert found == {7: ("s175.2.9", "s175.2.10", "s175.10.1")}


def test_item_order_compares_numbers_as_numbers_and_never_fails_on_mixed_parts() -> None:
    ids = ["s11.b.2", "s11.10", "s11.2", "s11.a", "x"]
    assert sorted(ids, key=item_order) == ["s11.2", "s11.10", "s11.a", "s11.b.2", "x"]


def test_nothing_given_is_nothing_found() -> None:
    assert green_without_evidence([]) == {}
