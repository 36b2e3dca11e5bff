"""Where everyone lands after signing in: their organisations and what they can do."""

from __future__ import annotations

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from audit_portal.models import Organisation
from audit_portal.policy import Permission
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page


async def dashboard(request: Request) -> Response:
    actor = request.state.actor
    ids = list(actor.organisation_roles)

    def load(db: Session) -> list[Organisation]:
        if not ids:
            return []
        return list(
            db.exec(
                select(Organisation)
                .where(col(Organisation.id).in_(ids))
                .order_by(Organisation.name)
            ).all()
        )

    organisations = await run_db(request, load)
    return render(
        request,
        "pages/dashboard.html",
        {
            "title": "Dashboard",
            "organisations": organisations,
        },
    )


routes = [page("/dashboard", dashboard, permission=Permission.SIGNED_IN)]
