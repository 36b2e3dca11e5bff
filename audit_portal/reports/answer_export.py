"""The answer-level download: one line per organisation per item of the submitted returns.

For administrators and QA only (``Permission.REPORTS_ANSWERS``): it names organisations and
carries what they wrote, so it never leaves the partnership the way the aggregate tables do.
The same returns count as in the report (each organisation's latest submitted or accepted
submission, narrowed by the same filters).

A national campaign is millions of lines, so nothing is gathered in memory: the database hands
the submissions over a few at a time (``yield_per``, a server-side cursor on PostgreSQL), each
is turned into its lines and let go. ``submission_lines`` is the pure part, over one frozen
submission exactly as it was signed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from audit_portal.models import Organisation, Return, ReturnStatus, Submission
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.queries import ReportFilters, counted_submissions
from audit_portal.returns.typed_answers import answer_rows

ANSWER_HEADER = (
    "Organisation id",
    "Organisation",
    "Identifier",
    "Kind",
    "Sector",
    "Phase",
    "District",
    "Return status",
    "Revision",
    "Signed on",
    "Standard",
    "Item",
    "Answer",
    "Rating",
    "RAG",
    "Less effective",
    "Not applicable",
    "Reason not applicable",
    "Narrative",
    "Evidence",
)
SUBMISSIONS_AT_A_TIME = 20  # each is one frozen return (tens of kilobytes with its texts)


@dataclass(frozen=True)
class SubmittedReturn:
    """Who submitted, and what: one row of the query, as plain data."""

    organisation_id: int
    organisation: str
    identifier: str
    kind: str
    sector: str
    phase: str
    district: str
    status: str
    revision: int
    signed_on: date
    content: Mapping[str, Any]


def answer_lines(
    db: Session, definition: Definition, campaign_id: int, filters: ReportFilters
) -> Iterator[tuple[Any, ...]]:
    """Every line of the download, read lazily: organisations by name, items in order."""
    query = (
        sa_select(
            col(Organisation.id),
            col(Organisation.name),
            col(Organisation.identifier),
            col(Organisation.kind),
            col(Organisation.sector),
            col(Organisation.phase),
            col(Organisation.district),
            col(Return.status),
            col(Submission.revision),
            col(Submission.declaration_date),
            col(Submission.content),
        )
        .join(Return, col(Return.organisation_id) == Organisation.id)
        .join(Submission, col(Submission.return_id) == Return.id)
        .where(col(Submission.id).in_(counted_submissions(campaign_id, filters)))
        .order_by(col(Organisation.name), col(Organisation.id))
        .execution_options(yield_per=SUBMISSIONS_AT_A_TIME)
    )
    result = db.execute(query)
    try:
        for row in result:
            yield from submission_lines(definition, SubmittedReturn(*row))
    finally:
        result.close()  # stopped early (the client hung up): close the server-side cursor now


def submission_lines(definition: Definition, submitted: SubmittedReturn) -> Iterator[tuple]:
    """One line per item the submission answered or scored, in the questionnaire's order
    (items the questionnaire no longer has come last, by id)."""
    answers: Mapping[str, Any] = submitted.content.get("answers") or {}
    typed = {row.item_id: row for row in answer_rows(submitted.content)}
    standard = {i.id: s.id for s in definition.sections for i in s.items}
    # A whole number is a rating only on a rating question: "how many staff" answered 2 is two.
    not_rated = {i.id for s in definition.sections for i in s.items if i.kind != "rating"}
    order = {item_id: n for n, item_id in enumerate(standard)}
    scale = definition.rating_scale
    who = (
        submitted.organisation_id,
        submitted.organisation,
        submitted.identifier,
        submitted.kind,
        submitted.sector or "",
        submitted.phase or "",
        submitted.district,
        _status(submitted.status),
        submitted.revision,
        submitted.signed_on,
    )
    for item_id in sorted(typed, key=lambda i: (i not in order, order.get(i, 0), i)):
        row, answer = typed[item_id], answers.get(item_id) or {}
        rated = row.rating is not None and item_id not in not_rated
        point = scale.point(row.rating or 0) if rated else None
        yield (
            *who,
            standard.get(item_id, ""),
            item_id,
            _answer(answer.get("value"), row.not_applicable),
            point.label if point else "",
            row.rag or "",
            row.less_effective,
            row.not_applicable,
            str(answer.get("na_reason") or ""),
            str(answer.get("narrative") or ""),
            str(answer.get("evidence") or ""),
        )


def _answer(value: Any, not_applicable: bool) -> Any:
    """The answer as one cell: a number stays a number, several choices are joined."""
    if not_applicable or value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool | int | float):
        return value
    return str(value)


def _status(value: str) -> str:
    try:
        return ReturnStatus(value).label
    except ValueError:
        return value
