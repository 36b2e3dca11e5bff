"""How a campaign's follow-ups are going: counts by state, completion, who is overdue, and how
ratings moved. Read in a fixed number of queries; the arithmetic is the pure rules'."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from audit_portal.accounts.users import people_at
from audit_portal.followups.movement import RatingChange, RatingMovement, rating_movement
from audit_portal.followups.records import state_of
from audit_portal.followups.rules import FollowUpStage, FollowUpStatus
from audit_portal.models import (
    Campaign,
    CampaignStatus,
    FollowUp,
    FollowUpSubmission,
    Organisation,
    Return,
    ReturnStatus,
    Role,
    saved_id,
)
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.figures import Share

EDITABLE_RETURN_STATUSES = [s.value for s in ReturnStatus if s.editable]
SORTS = ("organisation", "due", "overdue", "status")


@dataclass(frozen=True)
class FollowUpFilter:
    kind: str = ""
    district: str = ""
    status: str = ""
    sort: str = "overdue"
    descending: bool = True

    def cleaned(self) -> FollowUpFilter:
        return FollowUpFilter(
            self.kind[:20],
            self.district[:100],
            self.status if self.status in {s.value for s in FollowUpStatus} else "",
            self.sort if self.sort in SORTS else "overdue",
            self.descending,
        )


@dataclass(frozen=True)
class FollowUpRow:
    return_id: int
    organisation: str
    kind: str
    district: str
    due_on: date
    status: FollowUpStatus
    label: str
    days_overdue: int
    contacts: str  # the organisation's contact and its respondents, for chasing


@dataclass(frozen=True)
class FollowUpDashboard:
    total: int
    counts: dict[FollowUpStatus, int]
    completed: Share  # accepted, of all
    rows: list[FollowUpRow]
    overdue: list[FollowUpRow]
    movement: RatingMovement | None


def campaign_follow_ups(
    db: Session,
    campaign_id: int,
    definition: Definition | None,
    today: date,
    f: FollowUpFilter,
    *,
    with_contacts: bool,
) -> FollowUpDashboard:
    f = f.cleaned()
    rows = db.exec(
        select(FollowUp, Return, Organisation)
        .join(Return, col(Return.id) == FollowUp.return_id)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(Return.campaign_id == campaign_id)
    ).all()
    lines = []
    for follow_up, ret, org in rows:
        state = state_of(follow_up, today)
        contacts = ""
        if with_contacts and state.status is FollowUpStatus.OVERDUE:
            people = people_at(db, org.id, (Role.RESPONDENT, Role.SIGNATORY))  # type: ignore[arg-type]
            named = [org.contact_name, org.contact_email] + [
                f"{p.full_name} {p.email}" for p in people
            ]
            contacts = "; ".join(x for x in named if x)
        lines.append(
            FollowUpRow(
                saved_id(ret),
                org.name,
                org.kind,
                org.district,
                follow_up.due_on,
                state.status,
                state.label,
                state.days_overdue,
                contacts,
            )
        )
    counts = Counter(line.status for line in lines)
    accepted = counts[FollowUpStatus.ACCEPTED]
    shown = [
        line
        for line in lines
        if (not f.kind or line.kind == f.kind)
        and (not f.district or line.district == f.district)
        and (not f.status or line.status.value == f.status)
    ]
    key = {
        "organisation": lambda r: r.organisation.lower(),
        "due": lambda r: r.due_on,
        "overdue": lambda r: (r.days_overdue, r.organisation.lower()),
        "status": lambda r: (r.status.value, r.organisation.lower()),
    }[f.sort]
    shown.sort(key=key, reverse=f.descending)
    overdue = [line for line in shown if line.status is FollowUpStatus.OVERDUE]
    return FollowUpDashboard(
        len(lines),
        {status: counts[status] for status in FollowUpStatus},
        Share(accepted, len(lines)),
        shown,
        overdue,
        _movement(db, campaign_id, definition) if definition else None,
    )


def _movement(db: Session, campaign_id: int, definition: Definition) -> RatingMovement:
    """Original rating to revised rating, per item, from each follow-up's latest signed round."""
    latest: dict[int, FollowUpSubmission] = {}
    for submission in db.exec(
        select(FollowUpSubmission)
        .join(FollowUp, col(FollowUp.id) == FollowUpSubmission.follow_up_id)
        .join(Return, col(Return.id) == FollowUp.return_id)
        .where(Return.campaign_id == campaign_id)
        .order_by(col(FollowUpSubmission.round))
    ).all():
        latest[submission.follow_up_id] = submission
    changes = [
        RatingChange(a["item_id"], a["original_rating"], a.get("revised_rating"))
        for submission in latest.values()
        for a in submission.content.get("actions", [])
        if isinstance(a.get("original_rating"), int)
    ]
    order = [i.id for i in definition.items()]
    return rating_movement(changes, definition.rating_scale, order)


@dataclass(frozen=True)
class CampaignCount:
    campaign_id: int
    title: str
    count: int


@dataclass(frozen=True)
class ClosingCampaign:
    campaign: Campaign
    not_submitted: int


@dataclass(frozen=True)
class PartnershipWork:
    """What needs a QA member or an administrator now (their home page)."""

    to_review: list[tuple[int, str, str]]  # (return id, organisation, campaign), oldest first
    overdue: list[CampaignCount]  # follow-ups past their due date and not submitted
    closing_soon: list[ClosingCampaign]  # open campaigns closing within 14 days

    @property
    def anything(self) -> bool:
        return bool(self.to_review or self.overdue or self.closing_soon)


def partnership_work(db: Session, today: date) -> PartnershipWork:
    to_review = [
        (saved_id(ret), org.name, campaign.title)
        for ret, org, campaign in db.exec(
            select(Return, Organisation, Campaign)
            .join(FollowUp, col(FollowUp.return_id) == Return.id)
            .join(Organisation, col(Organisation.id) == Return.organisation_id)
            .join(Campaign, col(Campaign.id) == Return.campaign_id)
            .where(FollowUp.stage == FollowUpStage.SUBMITTED)
            .order_by(col(FollowUp.submitted_at))
        ).all()
    ]
    overdue_rows = db.exec(
        select(Campaign.id, Campaign.title, func.count())
        .select_from(FollowUp)
        .join(Return, col(Return.id) == FollowUp.return_id)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .where(
            FollowUp.due_on < today,
            col(FollowUp.stage).in_([FollowUpStage.OPEN, FollowUpStage.DRAFT]),
        )
        .group_by(col(Campaign.id), col(Campaign.title))
        .order_by(col(Campaign.id))
    ).all()
    closing = db.exec(
        select(Campaign, func.count(col(Return.id)))
        .outerjoin(
            Return,
            (col(Return.campaign_id) == Campaign.id)
            & col(Return.status).in_(EDITABLE_RETURN_STATUSES),
        )
        .where(
            Campaign.status == CampaignStatus.OPEN,
            Campaign.closes_on >= today,
            Campaign.closes_on <= today + timedelta(days=14),
        )
        .group_by(col(Campaign.id))
        .order_by(col(Campaign.closes_on))
    ).all()
    return PartnershipWork(
        to_review,
        [CampaignCount(cid or 0, title, n) for cid, title, n in overdue_rows],
        [ClosingCampaign(campaign, n) for campaign, n in closing],
    )
