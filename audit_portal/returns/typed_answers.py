"""A frozen submission's answers as typed rows for reports (``SubmittedAnswer``).

``answer_rows`` is pure: it reads the submission's content exactly as it was signed, so the rows
written at submission and the rows the migration backfilled for older submissions are the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from audit_portal.models import Return, Submission, SubmittedAnswer


@dataclass(frozen=True)
class AnswerRow:
    item_id: str
    rating: int | None
    rag: str | None
    less_effective: bool
    not_applicable: bool
    evidence_described: bool


def answer_rows(content: Mapping[str, Any]) -> list[AnswerRow]:
    """One row per item that was answered or scored, in item-id order."""
    answers: Mapping[str, Any] = content.get("answers") or {}
    score: Mapping[str, Any] = content.get("score") or {}
    rags: Mapping[str, Any] = score.get("items") or {}
    less_effective = set(score.get("less_effective") or ())
    rows = []
    for item_id in sorted(set(answers) | set(rags)):
        answer = answers.get(item_id) or {}
        value = answer.get("value")
        not_applicable = bool(answer.get("not_applicable"))
        rating = value if isinstance(value, int) and not isinstance(value, bool) else None
        rows.append(
            AnswerRow(
                item_id=str(item_id)[:64],
                rating=None if not_applicable else rating,
                rag=rags.get(item_id),
                less_effective=item_id in less_effective,
                not_applicable=not_applicable,
                evidence_described=bool(str(answer.get("evidence") or "").strip()),
            )
        )
    return rows


def write_answer_rows(db: Session, ret: Return, submission: Submission) -> None:
    """Store the rows for a submission just frozen, in the same transaction."""
    for row in answer_rows(submission.content):
        db.add(
            SubmittedAnswer(
                submission_id=submission.id,  # type: ignore[arg-type]
                return_id=ret.id,  # type: ignore[arg-type]
                campaign_id=ret.campaign_id,
                organisation_id=ret.organisation_id,
                **row.__dict__,
            )
        )
