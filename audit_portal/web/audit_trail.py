"""Administrators browse the audit trail (read-only: there is no edit or delete) and the outbox."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form

from audit_portal.audit.trail import PER_PAGE, TrailFilter, read_trail
from audit_portal.mail import recent_emails
from audit_portal.parsing import MAX_PAGE
from audit_portal.policy import Permission
from audit_portal.web.context import (
    ORGANISATION_PROBLEM,
    PAGE_PROBLEM,
    query_number,
    render,
    run_db,
)
from audit_portal.web.date_field import DatePartsField
from audit_portal.web.guard import page


class TrailDates(Form):
    """The trail's date filter as GOV.UK date inputs (day, month and year boxes)."""

    date_from = DatePartsField("From", what="the ‘from’ date")
    date_to = DatePartsField("To", what="the ‘to’ date")


async def audit_trail(request: Request) -> Response:
    q = request.query_params
    organisation_id = query_number(request, "organisation_id", ORGANISATION_PROBLEM)
    actor = q.get("actor", "").strip().lower()[:254]
    action = q.get("action", "").strip()[:60]
    dates = TrailDates(q)
    dates.validate()
    date_from, date_to = dates.date_from.data, dates.date_to.data
    page_no = query_number(request, "page", PAGE_PROBLEM, high=MAX_PAGE) or 1
    errors = [(f.id, f.errors[0]) for f in (dates.date_from, dates.date_to) if f.errors]

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
            },
            "dates": dates,
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
