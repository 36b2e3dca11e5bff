"""Reading the audit trail: filtered, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from audit_portal import clock
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


def read_trail(db: Session, trail_filter: TrailFilter) -> TrailPage:
    query = select(AuditEvent)
    if trail_filter.organisation_id:
        query = query.where(col(AuditEvent.organisation_id) == trail_filter.organisation_id)
    if trail_filter.actor:
        query = query.where(
            func.lower(AuditEvent.actor_label).like(f"%{trail_filter.actor.lower()}%")
        )
    if trail_filter.action:
        query = query.where(col(AuditEvent.action).startswith(trail_filter.action))
    if trail_filter.date_from:
        query = query.where(col(AuditEvent.occurred_at) >= _start_of(trail_filter.date_from))
    if trail_filter.date_to:
        query = query.where(
            col(AuditEvent.occurred_at) < _start_of(trail_filter.date_to + timedelta(days=1))
        )
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    offset = (trail_filter.page - 1) * PER_PAGE
    events = db.exec(query.order_by(col(AuditEvent.id).desc()).offset(offset).limit(PER_PAGE)).all()
    organisations = db.exec(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    # SQLModel types the stored ids as optional.
    return TrailPage(list(events), total, list(organisations.all()))  # type: ignore[arg-type]


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in England (the page shows England's times), in UTC
    as the events are stored: SQLite compares the stored text, which has no time zone."""
    return datetime.combine(day, time.min, tzinfo=clock.LOCAL_ZONE or UTC).astimezone(UTC)
