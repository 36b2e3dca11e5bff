"""Where everyone lands after signing in: their organisations' returns and what they can do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from audit_portal.models import Campaign, Organisation, Return, ReturnStatus
from audit_portal.policy import Permission
from audit_portal.questionnaires import current_catalogue
from audit_portal.returns.store import actions_of, answers_of, assess_return
from audit_portal.web.context import render, run_db
from audit_portal.web.guard import page


@dataclass(frozen=True)
class ReturnCard:
    ret: Return
    campaign: Campaign
    organisation: Organisation
    percent: int

    @property
    def status(self) -> ReturnStatus:
        return ReturnStatus(self.ret.status)


async def dashboard(request: Request) -> Response:
    actor = request.state.actor
    ids = list(actor.organisation_roles)
    catalogue = current_catalogue(request.app.state.settings.questionnaires_dir)

    def load(db: Session) -> tuple[list[Organisation], list[ReturnCard]]:
        if not ids:
            return [], []
        orgs = list(
            db.exec(
                select(Organisation)
                .where(col(Organisation.id).in_(ids))
                .order_by(Organisation.name)
            ).all()
        )
        rows = db.exec(
            select(Return, Campaign, Organisation)
            .join(Campaign, Campaign.id == Return.campaign_id)
            .join(Organisation, Organisation.id == Return.organisation_id)
            .where(col(Return.organisation_id).in_(ids), Campaign.status != "draft")
            .order_by(col(Campaign.closes_on).desc())
        ).all()
        cards = []
        for ret, campaign, org in rows:
            definition = catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
            percent = 0
            if definition is not None:
                readiness = assess_return(
                    definition, org, answers_of(db, ret.id), actions_of(db, ret.id)
                )
                percent = readiness.percent
            cards.append(ReturnCard(ret, campaign, org, percent))
        return orgs, cards

    organisations, cards = await run_db(request, load)
    return render(
        request,
        "pages/dashboard.html",
        {
            "title": "Dashboard",
            "organisations": organisations,
            "cards": cards,
        },
    )


routes = [page("/dashboard", dashboard, permission=Permission.SIGNED_IN)]
