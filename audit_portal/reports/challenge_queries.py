"""Reading a campaign's evidence challenges into the plain data of ``challenge_figures``.

One query: every item challenged in the campaign (challenges that have been issued; a draft
asks nothing of anyone yet), with its organisation's kind and, where QA has reviewed it, the
outcome and moderated rating. The self-rating is the one stored with the challenged item, as
the frozen submission had it.
"""

from __future__ import annotations

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from audit_portal.models import (
    ChallengedItem,
    ChallengeStage,
    EvidenceChallenge,
    ItemOutcome,
    Organisation,
    Return,
)
from audit_portal.models.organisations import KINDS
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.challenge_figures import ChallengeData, ChallengedRow, RatingOrder
from audit_portal.reports.queries import ReportFilters, _organisations

MAX_RATING_DIGITS = 3  # scale values run from 0 to 100


def rating_value(stored: str | None, scale: RatingOrder) -> int | None:
    """A stored rating ("3") as a scale value; None for anything else ("None", "na", "")."""
    text = (stored or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_RATING_DIGITS:
        return None
    value = int(text)
    return value if value in scale.values else None


def rating_order(definition: Definition) -> RatingOrder:
    return RatingOrder(tuple(p.value for p in definition.rating_scale.points))


def challenge_data(
    db: Session,
    campaign_id: int,
    definition: Definition,
    filters: ReportFilters | None = None,
) -> ChallengeData:
    """The campaign's challenged items as plain rows, with the scale and the group names;
    ``filters`` narrow the organisations as they narrow the rest of the campaign report."""
    scale = rating_order(definition)
    wanted = filters or ReportFilters()
    standard_of = {item.id: section.id for section in definition.sections for item in section.items}
    found = db.execute(  # SQLAlchemy's select: SQLModel's is typed for four columns at most
        sa_select(
            col(EvidenceChallenge.organisation_id),
            col(Organisation.kind),
            col(ChallengedItem.item_id),
            col(ChallengedItem.self_rating),
            col(ItemOutcome.outcome),
            col(ItemOutcome.moderated_rating),
        )
        .join(ChallengedItem, col(ChallengedItem.challenge_id) == col(EvidenceChallenge.id))
        .join(Return, col(Return.id) == col(EvidenceChallenge.return_id))
        .join(Organisation, col(Organisation.id) == col(EvidenceChallenge.organisation_id))
        .outerjoin(ItemOutcome, col(ItemOutcome.challenged_item_id) == col(ChallengedItem.id))
        .where(col(Return.campaign_id) == campaign_id)
        .where(col(EvidenceChallenge.stage) != ChallengeStage.DRAFT.value)
        .where(col(EvidenceChallenge.organisation_id).in_(_organisations(wanted)))
        .order_by(col(EvidenceChallenge.organisation_id), col(ChallengedItem.item_id))
    ).all()
    rows = tuple(
        ChallengedRow(
            organisation_id=organisation_id,
            kind=kind,
            standard=standard_of.get(item_id, ""),
            item_id=item_id,
            outcome=outcome,
            self_rating=rating_value(self_rating, scale),
            moderated_rating=rating_value(moderated, scale) if outcome else None,
        )
        for organisation_id, kind, item_id, self_rating, outcome, moderated in found
    )
    return ChallengeData(
        rows=rows,
        scale=scale,
        standards={s.id: s.title for s in definition.sections},
        kinds=dict(KINDS),
    )
