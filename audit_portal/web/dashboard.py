"""Where everyone lands after signing in: their organisations' returns and what they can do."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from audit_portal import clock
from audit_portal.campaigns import list_campaigns
from audit_portal.dashboards import OrganisationDashboard, organisation_dashboard
from audit_portal.followups.dashboard import PartnershipWork, partnership_work
from audit_portal.models import Campaign
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import current_catalogue
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page


async def dashboard(request: Request) -> Response:
    actor, today = request.state.actor, clock.today()
    ids = list(actor.organisation_roles)
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)
    partnership = allows(actor, Permission.FOLLOW_UP_REVIEW)
    reports = allows(actor, Permission.REPORTS_VIEW)

    def load(db: Session) -> tuple[OrganisationDashboard, PartnershipWork | None, list[Campaign]]:
        home = organisation_dashboard(db, catalogue, ids, today)
        return (
            home,
            partnership_work(db, today) if partnership else None,
            list_campaigns(db) if reports else [],
        )

    home, work, campaigns = await run_db(request, load)
    return render(
        request,
        "pages/dashboard.html",
        {
            "title": "Dashboard",
            "organisations": home.organisations,
            "cards": home.cards,
            "challenges": home.challenges,
            "work": work,
            "report_campaigns": campaigns,
            "show_reports": reports,
        },
    )


routes = [page("/dashboard", dashboard, permission=Permission.SIGNED_IN)]
