"""Administrators set up and open campaigns, watch progress and send reminders."""

from __future__ import annotations

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from wtforms.fields.choices import SelectChoice

from audit_portal import clock
from audit_portal.campaigns import (
    SELECTION_FIELDS,
    CampaignDraft,
    CampaignNotFound,
    CampaignOverview,
    campaign_overview,
    close_campaign,
    create_campaign,
    list_campaigns,
    open_campaign,
    organisations_by_identifier,
    send_reminders,
)
from audit_portal.models import ReturnStatus
from audit_portal.models.organisations import KINDS
from audit_portal.organisations import districts
from audit_portal.parsing import parse_id
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import Catalogue, current_catalogue
from audit_portal.questionnaires.locks import VersionRefused
from audit_portal.returns.editing import ReturnError
from audit_portal.returns.listing import ReturnListing, list_returns
from audit_portal.web.admin_forms import CampaignForm
from audit_portal.web.context import redirect_with_message, render, return_filter_from, run_db
from audit_portal.web.guard import audit_context, page
from audit_portal.wording import counted


def _catalogue(request: Request) -> Catalogue:
    return current_catalogue(request.app.state.settings.questionnaires_dir)


def _questionnaire_choices(catalogue: Catalogue) -> list[SelectChoice]:
    return [
        SelectChoice(f"{d.key}/{d.version}", f"{d.title} (version {d.version})")
        for d in catalogue.definitions
        if d.is_published
    ]


async def campaign_list(request: Request) -> Response:
    return render(
        request,
        "campaigns/list.html",
        {
            "title": "Campaigns",
            "campaigns": await run_db(request, list_campaigns),
            "can_manage": allows(request.state.actor, Permission.CAMPAIGNS_MANAGE),
        },
    )


async def campaign_new(request: Request) -> Response:
    form = CampaignForm(await request.form()) if request.method == "POST" else CampaignForm()
    form.questionnaire.choices = _questionnaire_choices(_catalogue(request))
    form.districts.choices = [SelectChoice(d, d) for d in await run_db(request, districts)]
    context = {"title": "Set up a campaign", "form": form}
    if request.method == "GET" or not form.validate():
        return render(
            request, "campaigns/form.html", context, status_code=400 if form.errors else 200
        )
    wanted = [line.strip() for line in (form.identifiers.data or "").splitlines() if line.strip()]
    found, unknown = await run_db(request, lambda db: organisations_by_identifier(db, wanted))
    if unknown:
        form.identifiers.errors = [f"No organisation has the identifier {', '.join(unknown[:10])}"]
        return render(request, "campaigns/form.html", context, status_code=400)
    selection = {
        name: getattr(form, name).data for name in SELECTION_FIELDS if getattr(form, name).data
    }
    if found:
        selection = {"organisation_ids": found}  # an explicit list replaces the other choices
    key, version = form.questionnaire.data.split("/", 1)
    opens_on, closes_on = form.opens_on.data, form.closes_on.data
    assert opens_on is not None and closes_on is not None  # required fields, validated
    draft = CampaignDraft(
        title=form.title.data,
        questionnaire_key=key,
        questionnaire_version=version,
        opens_on=opens_on,
        closes_on=closes_on,
        follow_up_months=form.follow_up_months.data,
        selection=selection,
    )
    ctx = audit_context(request)
    campaign = await run_db(request, lambda db: create_campaign(db, ctx, draft), write=True)
    return await redirect_with_message(
        request,
        f"/campaigns/{campaign.id}",
        "Campaign set up. Check the invitation list before you open it.",
    )


async def campaign_view(request: Request) -> Response:
    campaign_id, catalogue, today = (
        request.path_params["campaign_id"],
        _catalogue(request),
        clock.today(),
    )
    return_filter = return_filter_from(request)

    def load(db: Session) -> tuple[CampaignOverview, list[ReturnListing], list[str]]:
        overview = campaign_overview(db, catalogue, campaign_id, today)
        listings = list_returns(db, return_filter, campaign_id=campaign_id)
        return overview, listings, districts(db)

    try:
        overview, listings, all_districts = await run_db(request, load)
    except CampaignNotFound:
        raise HTTPException(404) from None
    return render(
        request,
        "campaigns/view.html",
        {
            "title": overview.campaign.title,
            "campaign": overview.campaign,
            "definition": overview.definition,
            "progress": overview.progress,
            "preview": overview.preview,
            "listings": listings,
            "return_filter": return_filter,
            "kinds": list(KINDS.items()),
            "districts": all_districts,
            "statuses": list(ReturnStatus),
            "can_manage": allows(request.state.actor, Permission.CAMPAIGNS_MANAGE),
        },
    )


async def campaign_open(request: Request) -> Response:
    campaign_id, settings = request.path_params["campaign_id"], request.app.state.settings
    ctx, catalogue = audit_context(request), _catalogue(request)
    try:
        opened = await run_db(
            request,
            lambda db: open_campaign(db, settings, ctx, catalogue, campaign_id),
            write=True,
        )
    except CampaignNotFound:
        raise HTTPException(404) from None
    except (VersionRefused, ReturnError) as problem:
        return await redirect_with_message(
            request, f"/campaigns/{campaign_id}", str(problem), "important"
        )
    return await redirect_with_message(
        request,
        f"/campaigns/{campaign_id}",
        f"The campaign is open: {counted(opened.returns_created, 'return')} created "
        f"and {counted(opened.respondents_emailed, 'respondent')} emailed.",
    )


async def campaign_close(request: Request) -> Response:
    campaign_id, ctx = request.path_params["campaign_id"], audit_context(request)
    try:
        await run_db(request, lambda db: close_campaign(db, ctx, campaign_id), write=True)
    except CampaignNotFound:
        raise HTTPException(404) from None
    return await redirect_with_message(
        request,
        f"/campaigns/{campaign_id}",
        "The campaign is closed: returns can no longer be changed.",
    )


async def campaign_remind(request: Request) -> Response:
    """Remind one organisation (return_id given) or every outstanding one."""
    campaign_id, settings = request.path_params["campaign_id"], request.app.state.settings
    ctx = audit_context(request)
    return_id = parse_id((await request.form()).get("return_id"))
    try:
        sent = await run_db(
            request,
            lambda db: send_reminders(db, settings, ctx, campaign_id, return_id),
            write=True,
        )
    except CampaignNotFound:
        raise HTTPException(404) from None
    return await redirect_with_message(
        request, f"/campaigns/{campaign_id}", f"Reminder sent to {counted(sent, 'respondent')}."
    )


routes = [
    page("/campaigns", campaign_list, permission=Permission.CAMPAIGNS_VIEW),
    page(
        "/campaigns/new",
        campaign_new,
        permission=Permission.CAMPAIGNS_MANAGE,
        methods=["GET", "POST"],
    ),
    page("/campaigns/{campaign_id:id}", campaign_view, permission=Permission.CAMPAIGNS_VIEW),
    page(
        "/campaigns/{campaign_id:id}/open",
        campaign_open,
        permission=Permission.CAMPAIGNS_MANAGE,
        methods=["POST"],
    ),
    page(
        "/campaigns/{campaign_id:id}/close",
        campaign_close,
        permission=Permission.CAMPAIGNS_MANAGE,
        methods=["POST"],
    ),
    page(
        "/campaigns/{campaign_id:id}/reminders",
        campaign_remind,
        permission=Permission.CAMPAIGNS_MANAGE,
        methods=["POST"],
    ),
]
