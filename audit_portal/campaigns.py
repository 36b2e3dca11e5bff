"""Campaigns (audit rounds): set up, choose who is invited, open, remind, close.

Opening a campaign locks its questionnaire version, creates a draft return for every invited
organisation and emails their respondents, all in one transaction with its audit events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.config import Settings
from audit_portal.errors import NotFound
from audit_portal.mail import send_email
from audit_portal.models import (
    Campaign,
    CampaignStatus,
    Membership,
    Organisation,
    Return,
    ReturnStatus,
    Role,
    User,
    utcnow,
)
from audit_portal.organisations import current_flags_by_organisation
from audit_portal.questionnaires import Catalogue
from audit_portal.questionnaires.locks import lock_version
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.editing import ReturnError, profile_of
from audit_portal.returns.progress import Progress, ReturnRow, campaign_progress
from audit_portal.vocabulary import matches
from audit_portal.wording import long_date

SELECTION_FIELDS = ("duty_types", "sectors", "phases", "features", "districts", "flags")
OUTSTANDING = (ReturnStatus.NOT_STARTED, ReturnStatus.IN_PROGRESS, ReturnStatus.RETURNED)


class CampaignNotFound(NotFound):
    """No campaign has that id."""


@dataclass(frozen=True)
class CampaignDraft:
    title: str
    questionnaire_key: str
    questionnaire_version: str
    opens_on: date
    closes_on: date
    follow_up_months: int
    selection: dict


def get_campaign(db: Session, campaign_id: int) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def list_campaigns(db: Session) -> list[Campaign]:
    return list(db.exec(select(Campaign).order_by(col(Campaign.opens_on).desc())).all())


def organisations_by_identifier(db: Session, identifiers: list[str]) -> tuple[list[int], list[str]]:
    """Organisation ids for the identifiers given, and the identifiers nobody has."""
    if not identifiers:
        return [], []
    rows = db.exec(
        select(Organisation.id, Organisation.identifier).where(
            col(Organisation.identifier).in_(identifiers)
        )
    ).all()
    known = {identifier: org_id for org_id, identifier in rows if org_id is not None}
    return sorted(set(known.values())), [i for i in identifiers if i not in known]


def create_campaign(db: Session, ctx: AuditContext, draft: CampaignDraft) -> Campaign:
    campaign = Campaign(
        title=draft.title,
        questionnaire_key=draft.questionnaire_key,
        questionnaire_version=draft.questionnaire_version,
        opens_on=draft.opens_on,
        closes_on=draft.closes_on,
        follow_up_months=draft.follow_up_months,
        selection=draft.selection,
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
            "questionnaire": f"{draft.questionnaire_key}/{draft.questionnaire_version}",
            "selection": draft.selection,
        },
    )
    return campaign


def invitation_list(db: Session, definition: Definition, selection: dict) -> list[Organisation]:
    """Active organisations the questionnaire's audience and the campaign's selection both admit.

    ``selection`` may hold duty_types, sectors, phases, features (as in questionnaire
    audiences), districts, flags (organisations with a current intelligence flag of that type)
    and organisation_ids (an explicit list, which replaces the other criteria).
    """
    orgs = db.exec(
        select(Organisation).where(Organisation.status == "active").order_by(Organisation.name)
    ).all()
    audience = definition.audience.as_dict()
    explicit = set(selection.get("organisation_ids") or [])
    wanted_flags = set(selection.get("flags") or [])
    flags = current_flags_by_organisation(db) if wanted_flags and not explicit else {}
    conditions = {
        k: selection.get(k) or [] for k in ("duty_types", "sectors", "phases", "features")
    }
    chosen = []
    for org in orgs:
        profile = profile_of(org)
        if not matches(audience, profile):
            continue
        if explicit:
            if org.id in explicit:
                chosen.append(org)
            continue
        if not matches(conditions, profile):
            continue
        if selection.get("districts") and org.district not in selection["districts"]:
            continue
        if wanted_flags and not flags.get(org.id, set()) & wanted_flags:  # type: ignore[arg-type]
            continue
        chosen.append(org)
    return chosen


@dataclass(frozen=True)
class CampaignOverview:
    campaign: Campaign
    definition: Definition | None
    progress: Progress
    preview: list[Organisation]  # active organisations it would invite, not invited yet


def campaign_overview(
    db: Session, catalogue: Catalogue, campaign_id: int, today: date
) -> CampaignOverview:
    campaign = get_campaign(db, campaign_id)
    definition = catalogue.get(campaign.questionnaire_key, campaign.questionnaire_version)
    preview = invitation_list(db, definition, campaign.selection) if definition else []
    rows = db.exec(
        select(Return, Organisation)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(Return.campaign_id == campaign_id)
    ).all()
    progress = campaign_progress(
        [ReturnRow(r.id, o.name, o.kind, o.district, ReturnStatus(r.status)) for r, o in rows],  # type: ignore[arg-type]
        campaign.closes_on,
        today,
    )
    invited = {r.organisation_id for r, _ in rows}
    return CampaignOverview(
        campaign, definition, progress, [o for o in preview if o.id not in invited]
    )


@dataclass(frozen=True)
class Opened:
    returns_created: int
    respondents_emailed: int


def open_campaign(
    db: Session, settings: Settings, ctx: AuditContext, catalogue: Catalogue, campaign_id: int
) -> Opened:
    """Lock the questionnaire version, create a draft return per invited organisation not yet
    invited, and email their respondents. Opening again invites only newcomers."""
    campaign = get_campaign(db, campaign_id)
    if campaign.status == CampaignStatus.CLOSED:
        raise ReturnError("This campaign is closed")
    definition = lock_version(
        db,
        catalogue,
        campaign.questionnaire_key,
        campaign.questionnaire_version,
        campaign.title,
        ctx,
    )
    organisations = invitation_list(db, definition, campaign.selection)
    existing = set(
        db.exec(select(Return.organisation_id).where(Return.campaign_id == campaign.id)).all()
    )
    created = [org for org in organisations if org.id not in existing]
    for org in created:
        db.add(Return(campaign_id=campaign.id, organisation_id=org.id))  # type: ignore[arg-type]
    if campaign.status == CampaignStatus.DRAFT:
        campaign.status, campaign.opened_at = CampaignStatus.OPEN.value, utcnow()
        db.add(campaign)
    db.flush()
    record(
        db,
        ctx,
        "campaign.open",
        object_type="campaign",
        object_id=campaign.id,
        new={"organisation_ids": [o.id for o in created], "status": campaign.status},
    )
    emailed = sum(email_respondents(db, settings, campaign, org, reminder=False) for org in created)
    return Opened(len(created), emailed)


def close_campaign(db: Session, ctx: AuditContext, campaign_id: int) -> None:
    campaign = get_campaign(db, campaign_id)
    campaign.status, campaign.closed_at = CampaignStatus.CLOSED.value, utcnow()
    db.add(campaign)
    record(
        db,
        ctx,
        "campaign.close",
        object_type="campaign",
        object_id=campaign.id,
        new={"status": "closed"},
    )


def respondents_of(db: Session, organisation_id: int) -> list[User]:
    return list(
        db.exec(
            select(User)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(
                Membership.organisation_id == organisation_id,
                Membership.role == Role.RESPONDENT.value,
                col(User.is_active).is_(True),
            )
        ).all()
    )


def invitation_text(
    settings: Settings, campaign: Campaign, org: Organisation, user: User, reminder: bool
) -> tuple[str, str]:
    """The subject and body of a campaign's invitation or reminder to one respondent."""
    subject = ("Reminder: " if reminder else "") + (
        f"{campaign.title}: your safeguarding self-assessment"
    )
    body = (
        f"Dear {user.full_name},\n\n"
        + ("This is a reminder that " if reminder else "")
        + f"{org.name}'s safeguarding self-assessment for {campaign.title} is "
        + f"{'due' if reminder else 'now open'}. Please complete and submit it by "
        + f"{long_date(campaign.closes_on)}.\n\n"
        + f"Sign in at {settings.base_url}/sign-in to start.\n"
    )
    return subject, body


def email_respondents(
    db: Session, settings: Settings, campaign: Campaign, org: Organisation, reminder: bool
) -> int:
    sent = 0
    for user in respondents_of(db, org.id):  # type: ignore[arg-type]
        subject, body = invitation_text(settings, campaign, org, user, reminder)
        send_email(db, settings, user.email, subject, body)
        sent += 1
    return sent


def send_reminders(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    campaign_id: int,
    return_id: int | None = None,
) -> int:
    """Remind one organisation (``return_id``) or every one not yet submitted; people emailed."""
    campaign = get_campaign(db, campaign_id)
    query = (
        select(Return, Organisation)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(Return.campaign_id == campaign_id)
    )
    if return_id is not None:
        query = query.where(Return.id == return_id)
    else:
        query = query.where(col(Return.status).in_([s.value for s in OUTSTANDING]))
    sent = 0
    for ret, org in db.exec(query).all():
        sent += email_respondents(db, settings, campaign, org, reminder=True)
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
