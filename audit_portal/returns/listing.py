"""Lists of returns for the people who oversee them: a campaign's, or an organisation's.

Filtered and sorted by plain values (status, kind, district; organisation, status, submitted
date, overall rating) so a list can be bookmarked and shared as a URL. One query, whatever the
number of returns: the overall rating is the latest submission's, read from its own column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from audit_portal.models import Campaign, Organisation, Return, ReturnStatus, Submission, saved_id

SORTS = ("organisation", "status", "submitted", "overall", "campaign")


@dataclass(frozen=True)
class ReturnFilter:
    status: str = ""
    kind: str = ""
    district: str = ""
    sort: str = "organisation"
    descending: bool = False

    def cleaned(self) -> ReturnFilter:
        """The same filter with anything unknown dropped: odd query strings never fail."""
        return ReturnFilter(
            self.status if self.status in {s.value for s in ReturnStatus} else "",
            self.kind[:20],
            self.district[:100],
            self.sort if self.sort in SORTS else "organisation",
            self.descending,
        )


@dataclass(frozen=True)
class ReturnListing:
    return_id: int
    organisation_id: int
    organisation: str
    kind: str
    district: str
    campaign: str
    status: ReturnStatus
    submitted_at: datetime | None
    overall: str | None  # the latest submission's overall rating


def list_returns(
    db: Session,
    f: ReturnFilter,
    *,
    campaign_id: int | None = None,
    organisation_id: int | None = None,
    limit: int = 5000,
) -> list[ReturnListing]:
    f = f.cleaned()
    latest = (
        select(Submission.return_id, func.max(Submission.revision).label("revision"))
        .group_by(col(Submission.return_id))
        .subquery()
    )
    rank = case(
        (col(Submission.overall_rag) == "red", 0),
        (col(Submission.overall_rag) == "amber", 1),
        (col(Submission.overall_rag) == "green", 2),
        else_=3,
    )
    query = (
        select(Return, Organisation, Campaign.title, Submission.overall_rag)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .outerjoin(latest, latest.c.return_id == Return.id)
        .outerjoin(
            Submission,
            and_(
                col(Submission.return_id) == Return.id,
                col(Submission.revision) == latest.c.revision,
            ),
        )
    )
    if campaign_id is not None:
        query = query.where(Return.campaign_id == campaign_id)
    if organisation_id is not None:
        query = query.where(Return.organisation_id == organisation_id)
    if f.status:
        query = query.where(Return.status == f.status)
    if f.kind:
        query = query.where(Organisation.kind == f.kind)
    if f.district:
        query = query.where(Organisation.district == f.district)
    order = {
        "organisation": col(Organisation.name),
        "status": col(Return.status),
        "submitted": col(Return.submitted_at),
        "overall": rank,
        "campaign": col(Campaign.opens_on),
    }[f.sort]
    query = query.order_by(order.desc() if f.descending else order.asc(), col(Organisation.name))
    return [
        ReturnListing(
            return_id=saved_id(ret),
            organisation_id=saved_id(org),
            organisation=org.name,
            kind=org.kind,
            district=org.district,
            campaign=title,
            status=ReturnStatus(ret.status),
            submitted_at=ret.submitted_at,
            overall=overall,
        )
        for ret, org, title, overall in db.exec(query.limit(limit)).all()
    ]
