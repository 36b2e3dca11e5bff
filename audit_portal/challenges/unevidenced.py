"""Candidates for challenge: questions an organisation rated green in its submitted return
without describing any evidence.

A green rating with nothing written under evidence is the claim QA most needs to test, so the
QA sub-group's views list these per return (the dip sample page, the campaign's dip samples).
The rule is the pure ``green_without_evidence`` over plain answer facts; the queries only read
the typed answer rows of each return's latest submission and hand them to it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from audit_portal.models import Organisation, Return, SubmittedAnswer, saved_id
from audit_portal.reports.queries import ReportFilters, counted_submissions

_PARTS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class AnswerFact:
    """What the rule needs from one submitted answer."""

    return_id: int
    item_id: str
    rag: str | None
    not_applicable: bool
    evidence_described: bool


@dataclass(frozen=True)
class ChallengeCandidate:
    """A submitted return with questions rated green and no evidence described."""

    return_id: int
    organisation_id: int
    organisation_name: str
    district: str | None
    item_ids: tuple[str, ...]


def item_order(item_id: str) -> tuple[tuple[int, int, str], ...]:
    """Questionnaire order for references: s175.2 before s175.10, whatever the text says."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _PARTS.split(item_id)
        if part
    )


def green_without_evidence(facts: Iterable[AnswerFact]) -> dict[int, tuple[str, ...]]:
    """The questions of each return rated green, applicable, with no evidence described.

    Returns without any are left out, so the result is exactly the list of candidates.
    """
    found: dict[int, set[str]] = {}
    for fact in facts:
        if fact.rag == "green" and not fact.not_applicable and not fact.evidence_described:
            found.setdefault(fact.return_id, set()).add(fact.item_id)
    return {rid: tuple(sorted(items, key=item_order)) for rid, items in found.items()}


def unevidenced_greens(
    db: Session, campaign_id: int, return_ids: Collection[int] | None = None
) -> dict[int, tuple[str, ...]]:
    """By return id, the green questions without evidence in each return's latest submission
    (of the returns given, or of every submitted or accepted return of the campaign)."""
    if return_ids is not None and not return_ids:
        return {}
    latest = counted_submissions(campaign_id, ReportFilters()).subquery()
    query = (
        select(SubmittedAnswer)
        .join(latest, latest.c.id == SubmittedAnswer.submission_id)
        .where(SubmittedAnswer.rag == "green", col(SubmittedAnswer.evidence_described).is_(False))
    )
    if return_ids is not None:
        query = query.where(col(SubmittedAnswer.return_id).in_(sorted(return_ids)))
    return green_without_evidence(
        AnswerFact(a.return_id, a.item_id, a.rag, a.not_applicable, a.evidence_described)
        for a in db.exec(query).all()
    )


def challenge_candidates(db: Session, campaign_id: int) -> list[ChallengeCandidate]:
    """Every submitted return of the campaign with a green question and no evidence, by
    organisation name."""
    found = unevidenced_greens(db, campaign_id)
    if not found:
        return []
    rows = db.exec(
        select(Return.id, Organisation)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(col(Return.id).in_(sorted(found)))
    ).all()
    candidates = [
        ChallengeCandidate(
            return_id=return_id,
            organisation_id=saved_id(org),
            organisation_name=org.name,
            district=org.district,
            item_ids=found[return_id],
        )
        for return_id, org in rows
        if return_id is not None
    ]
    return sorted(candidates, key=lambda c: (c.organisation_name.casefold(), c.return_id))
