"""Administrators set up and open campaigns, watch progress and send reminders."""

from __future__ import annotations

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response
from wtforms.fields.choices import SelectChoice

from audit_portal import clock
from audit_portal.accounts.users import AccountError
from audit_portal.audit import record
from audit_portal.config import Settings
from audit_portal.mail import send_email
from audit_portal.models import Campaign, Membership, Organisation, Return, ReturnStatus, Role, User
from audit_portal.organisations import districts
from audit_portal.parsing import parse_id
from audit_portal.policy import Permission, allows
from audit_portal.questionnaires import Catalogue, current_catalogue
from audit_portal.questionnaires.locks import VersionRefused, lock_version
from audit_portal.returns.progress import ReturnRow, campaign_progress
from audit_portal.returns.store import close_campaign, invitation_list, open_campaign
from audit_portal.web.admin_forms import CampaignForm
from audit_portal.web.context import get_or_404, redirect_with_message, render, run_db
from audit_portal.web.guard import audit_context, page

SELECTION_FIELDS = ("duty_types", "sectors", "phases", "features", "districts", "flags")


def _catalogue(request: Request) -> Catalogue:
    return current_catalogue(request.app.state.settings.questionnaires_dir)


def _questionnaire_choices(catalogue: Catalogue) -> list[SelectChoice]:
    return [
        SelectChoice(f"{d.key}/{d.version}", f"{d.title} (version {d.version})")
        for d in catalogue.definitions
        if d.status == "published"
    ]


async def campaign_list(request: Request) -> Response:
    rows = await run_db(
        request, lambda db: list(db.exec(select(Campaign).order_by(Campaign.opens_on.desc())).all())
    )  # type: ignore[union-attr]
    return render(
        request,
        "campaigns/list.html",
        {
            "title": "Campaigns",
            "rows": rows,
            "can_manage": allows(request.state.actor, Permission.CAMPAIGNS_MANAGE),
        },
    )


async def campaign_new(request: Request) -> Response:
    catalogue = _catalogue(request)
    form = CampaignForm(await request.form()) if request.method == "POST" else CampaignForm()
    form.questionnaire.choices = _questionnaire_choices(catalogue)
    form.districts.choices = [SelectChoice(d, d) for d in await run_db(request, districts)]
    context = {"title": "Set up a campaign", "form": form}
    if request.method == "GET" or not form.validate():
        return render(
            request, "campaigns/form.html", context, status_code=400 if form.errors else 200
        )
    key, version = form.questionnaire.data.split("/", 1)
    wanted = [line.strip() for line in (form.identifiers.data or "").splitlines() if line.strip()]
    found, unknown = await run_db(request, lambda db: _by_identifier(db, wanted))
    if unknown:
        form.identifiers.errors = [f"No organisation has the identifier {', '.join(unknown[:10])}"]
        return render(request, "campaigns/form.html", context, status_code=400)
    selection = {
        name: getattr(form, name).data for name in SELECTION_FIELDS if getattr(form, name).data
    }
    if found:
        selection = {"organisation_ids": found}  # an explicit list replaces the other choices
    ctx = audit_context(request)

    def create(db: Session) -> int:
        campaign = Campaign(
            title=form.title.data,
            questionnaire_key=key,
            questionnaire_version=version,
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
            follow_up_months=form.follow_up_months.data,
            selection=selection,
        )
        db.add(campaign)
        db.flush()
        record(
            db,
            ctx,
            "campaign.create",
            object_type="campaign",
            object_id=campaign.id,
            new={
                "title": campaign.title,
                "questionnaire": form.questionnaire.data,
                "selection": selection,
            },
        )
        return campaign.id

    campaign_id = await run_db(request, create, write=True)
    return await redirect_with_message(
        request,
        f"/campaigns/{campaign_id}",
        "Campaign set up. Check the invitation list before you open it.",
    )


def _by_identifier(db: Session, identifiers: list[str]) -> tuple[list[int], list[str]]:
    """Organisation ids for the identifiers given, and the identifiers nobody has."""
    if not identifiers:
        return [], []
    rows = db.exec(
        select(Organisation.id, Organisation.identifier).where(
            col(Organisation.identifier).in_(identifiers)
        )
    ).all()
    known = {identifier: org_id for org_id, identifier in rows}
    return sorted(set(known.values())), [i for i in identifiers if i not in known]


async def campaign_view(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    catalogue = _catalogue(request)
    today = clock.today()

    def load(db: Session) -> dict:
        campaign = get_or_404(db, Campaign, campaign_id)
        definition = catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
        preview = invitation_list(db, definition, campaign.selection) if definition else []
        rows = db.exec(
            select(Return, Organisation)
            .join(Organisation, Organisation.id == Return.organisation_id)
            .where(Return.campaign_id == campaign_id)
        ).all()
        progress = campaign_progress(
            [ReturnRow(r.id, o.name, o.kind, o.district, ReturnStatus(r.status)) for r, o in rows],
            campaign.closes_on,
            today,
        )
        invited = {r.organisation_id for r, _ in rows}
        return {
            "campaign": campaign,
            "definition": definition,
            "progress": progress,
            "preview": [o for o in preview if o.id not in invited],
        }

    data = await run_db(request, load)
    return render(
        request,
        "campaigns/view.html",
        {
            "title": data["campaign"].title,
            **data,
            "statuses": list(ReturnStatus),
            "can_manage": allows(request.state.actor, Permission.CAMPAIGNS_MANAGE),
        },
    )


def _respondents(db: Session, organisation_id: int) -> list[User]:
    return list(
        db.exec(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.role == Role.RESPONDENT.value,
                col(User.is_active).is_(True),
            )
        ).all()
    )


def _email_respondents(
    db: Session, settings: Settings, campaign: Campaign, org: Organisation, reminder: bool
) -> int:
    subject = (
        "Reminder: " if reminder else ""
    ) + f"{campaign.title}: your safeguarding self-assessment"
    sent = 0
    for user in _respondents(db, org.id):
        body = (
            f"Dear {user.full_name},\n\n"
            + ("This is a reminder that " if reminder else "")
            + f"{org.name}'s safeguarding self-assessment for {campaign.title} is "
            + f"{'due' if reminder else 'now open'}. Please complete and submit it by "
            + f"{campaign.closes_on:%d %B %Y}.\n\n"
            + f"Sign in at {settings.base_url}/sign-in to start.\n"
        )
        send_email(db, settings, user.email, subject, body)
        sent += 1
    return sent


async def campaign_open(request: Request) -> Response:
    campaign_id, settings, ctx = (
        request.path_params["campaign_id"],
        request.app.state.settings,
        audit_context(request),
    )
    catalogue = _catalogue(request)

    def work(db: Session) -> str:
        campaign = get_or_404(db, Campaign, campaign_id)
        definition = lock_version(
            db,
            catalogue,
            campaign.questionnaire_key,
            campaign.questionnaire_version,
            campaign.title,
            ctx,
        )
        created = open_campaign(
            db, ctx, campaign, invitation_list(db, definition, campaign.selection)
        )
        emails = sum(
            _email_respondents(db, settings, campaign, org, reminder=False) for org in created
        )
        return (
            f"The campaign is open: {len(created)} returns created "
            f"and {emails} respondents emailed."
        )

    try:
        message = await run_db(request, work, write=True)
    except (VersionRefused, AccountError) as problem:
        message = str(problem)
    return await redirect_with_message(request, f"/campaigns/{campaign_id}", message)


async def campaign_close(request: Request) -> Response:
    campaign_id, ctx = request.path_params["campaign_id"], audit_context(request)
    await run_db(
        request,
        lambda db: close_campaign(db, ctx, get_or_404(db, Campaign, campaign_id)),
        write=True,
    )
    return await redirect_with_message(
        request,
        f"/campaigns/{campaign_id}",
        "The campaign is closed: returns can no longer be changed.",
    )


async def campaign_remind(request: Request) -> Response:
    """Remind one organisation (return_id given) or every outstanding one."""
    campaign_id, settings, ctx = (
        request.path_params["campaign_id"],
        request.app.state.settings,
        audit_context(request),
    )
    raw = str((await request.form()).get("return_id", ""))

    def work(db: Session) -> int:
        campaign = get_or_404(db, Campaign, campaign_id)
        query = (
            select(Return, Organisation)
            .join(Organisation, Organisation.id == Return.organisation_id)
            .where(Return.campaign_id == campaign_id)
        )
        if (return_id := parse_id(raw)) is not None:
            query = query.where(Return.id == return_id)
        else:
            query = query.where(Return.status.in_(["not_started", "in_progress", "returned"]))  # type: ignore[attr-defined]
        sent = 0
        for ret, org in db.exec(query).all():
            sent += _email_respondents(db, settings, campaign, org, reminder=True)
            record(
                db,
                ctx,
                "campaign.reminder",
                object_type="return",
                object_id=ret.id,
                organisation_id=org.id,
                new={"campaign_id": campaign_id},
            )
        return sent

    sent = await run_db(request, work, write=True)
    return await redirect_with_message(
        request, f"/campaigns/{campaign_id}", f"Reminder sent to {sent} respondents."
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
