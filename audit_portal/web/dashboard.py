"""Where everyone lands after signing in: their organisations' returns and what they can do."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from audit_portal.dashboards import organisation_dashboard
from audit_portal.policy import Permission
from audit_portal.questionnaires import current_catalogue
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page


async def dashboard(request: Request) -> Response:
    ids = list(request.state.actor.organisation_roles)
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    home = await run_db(request, lambda db: organisation_dashboard(db, catalogue, ids))
    return render(
        request,
        "pages/dashboard.html",
        {"title": "Dashboard", "organisations": home.organisations, "cards": home.cards},
    )


routes = [page("/dashboard", dashboard, permission=Permission.SIGNED_IN)]
