"""Administrators browse the audit trail (read-only: there is no edit or delete) and the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from audit_portal.models import AuditEvent, Organisation, OutboxEmail
from audit_portal.parsing import MAX_PAGE, parse_id, parse_int
from audit_portal.policy import Permission
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page

PER_PAGE = 100


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def audit_trail(request: Request) -> Response:
    q = request.query_params
    organisation_id = parse_id(q.get("organisation_id"))
    actor = q.get("actor", "").strip().lower()[:254]
    action = q.get("action", "").strip()[:60]
    date_from, date_to = _date(q.get("from")), _date(q.get("to"))
    page_no = parse_int(q.get("page"), low=1, high=MAX_PAGE) or 1
    errors = []
    if q.get("from") and date_from is None:
        errors.append(("from", "Enter the ‘from’ date as year-month-day, for example 2026-03-27"))
    if q.get("to") and date_to is None:
        errors.append(("to", "Enter the ‘to’ date as year-month-day, for example 2026-03-27"))

    def load(db: Session) -> tuple[list[AuditEvent], int, list[tuple[int, str]]]:
        query = select(AuditEvent)
        if organisation_id:
            query = query.where(AuditEvent.organisation_id == organisation_id)
        if actor:
            query = query.where(func.lower(AuditEvent.actor_label).like(f"%{actor}%"))
        if action:
            query = query.where(col(AuditEvent.action).startswith(action))
        if date_from:
            query = query.where(
                AuditEvent.occurred_at >= datetime.combine(date_from, time.min, tzinfo=UTC)
            )
        if date_to:
            query = query.where(
                AuditEvent.occurred_at
                < datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
            )
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        rows = db.exec(
            query.order_by(col(AuditEvent.id).desc())
            .offset((page_no - 1) * PER_PAGE)
            .limit(PER_PAGE)
        ).all()
        orgs = db.exec(select(Organisation.id, Organisation.name).order_by(Organisation.name)).all()
        return list(rows), total, list(orgs)

    rows, total, orgs = await run_db(request, load)
    return render(
        request,
        "audit/trail.html",
        {
            "title": "Audit trail",
            "rows": rows,
            "total": total,
            "orgs": orgs,
            "errors": errors,
            "f": {
                "organisation_id": organisation_id,
                "actor": actor,
                "action": action,
                "from": q.get("from", ""),
                "to": q.get("to", ""),
            },
            "page": page_no,
            "pages": max(1, -(-total // PER_PAGE)),
        },
        status_code=400 if errors else 200,
    )


async def outbox(request: Request) -> Response:
    rows = await run_db(
        request,
        lambda db: list(
            db.exec(select(OutboxEmail).order_by(col(OutboxEmail.id).desc()).limit(200)).all()
        ),
    )
    return render(
        request,
        "audit/outbox.html",
        {
            "title": "Outbox",
            "rows": rows,
            "smtp": bool(request.app.state.settings.smtp_host),
        },
    )


routes = [
    page("/audit", audit_trail, permission=Permission.AUDIT_VIEW),
    page("/outbox", outbox, permission=Permission.OUTBOX_VIEW),
]
