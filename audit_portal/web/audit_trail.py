"""Administrators browse the audit trail (read-only: there is no edit or delete) and the outbox."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import Response

from audit_portal.audit.trail import PER_PAGE, TrailFilter, read_trail
from audit_portal.mail import recent_emails
from audit_portal.parsing import MAX_PAGE, parse_id, parse_int
from audit_portal.policy import Permission
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page


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

    trail_filter = TrailFilter(organisation_id, actor, action, date_from, date_to, page_no)
    trail = await run_db(request, lambda db: read_trail(db, trail_filter))
    return render(
        request,
        "audit/trail.html",
        {
            "title": "Audit trail",
            "events": trail.events,
            "total": trail.total,
            "organisations": trail.organisations,
            "errors": errors,
            # The filter as it was typed, shown back (a date that could not be read included).
            "trail_filter": {
                "organisation_id": organisation_id,
                "actor": actor,
                "action": action,
                "from": q.get("from", ""),
                "to": q.get("to", ""),
            },
            "page": page_no,
            "pages": max(1, -(-trail.total // PER_PAGE)),
        },
        status_code=400 if errors else 200,
    )


async def outbox(request: Request) -> Response:
    emails = await run_db(request, recent_emails)
    return render(
        request,
        "audit/outbox.html",
        {
            "title": "Outbox",
            "emails": emails,
            "smtp": bool(request.app.state.settings.smtp_host),
        },
    )


routes = [
    page("/audit", audit_trail, permission=Permission.AUDIT_VIEW),
    page("/outbox", outbox, permission=Permission.OUTBOX_VIEW),
]
