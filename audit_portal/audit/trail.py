"""Reading the audit trail: filtered, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from audit_portal.models import AuditEvent, Organisation

PER_PAGE = 100


@dataclass(frozen=True)
class TrailFilter:
    organisation_id: int | None = None
    actor: str = ""  # part of who acted (email or command-line label)
    action: str = ""  # the start of an action name, e.g. "answer." or "security."
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1


@dataclass(frozen=True)
class TrailPage:
    events: list[AuditEvent]
    total: int
    organisations: list[tuple[int, str]]  # for the organisation filter


def read_trail(db: Session, f: TrailFilter) -> TrailPage:
    query = select(AuditEvent)
    if f.organisation_id:
        query = query.where(AuditEvent.organisation_id == f.organisation_id)
    if f.actor:
        query = query.where(func.lower(AuditEvent.actor_label).like(f"%{f.actor.lower()}%"))
    if f.action:
        query = query.where(col(AuditEvent.action).startswith(f.action))
    if f.date_from:
        query = query.where(
            AuditEvent.occurred_at >= datetime.combine(f.date_from, time.min, tzinfo=UTC)
        )
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(AuditEvent.occurred_at < end)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    events = db.exec(
        query.order_by(col(AuditEvent.id).desc()).offset((f.page - 1) * PER_PAGE).limit(PER_PAGE)
    ).all()
    organisations = db.exec(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    # SQLModel types the stored ids as optional.
    return TrailPage(list(events), total, list(organisations.all()))  # type: ignore[arg-type]
