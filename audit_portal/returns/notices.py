"""The emails people expect when a return moves on: ready to sign, submitted, returned, accepted.

Each is written in the same transaction as the change that causes it (through the outbox), in
plain English, with the organisation's name, what happened, what happens next and a direct link.
"""

from __future__ import annotations

from sqlmodel import Session

from audit_portal.accounts.users import people_at
from audit_portal.config import Settings
from audit_portal.mail import send_email
from audit_portal.models import Campaign, Organisation, Return, Role
from audit_portal.returns.reading import long_date

EVERYONE = (Role.RESPONDENT, Role.SIGNATORY)


def _send(
    db: Session,
    settings: Settings,
    organisation: Organisation,
    roles: tuple[Role, ...],
    subject: str,
    body: str,
) -> int:
    people = people_at(db, organisation.id, roles)  # type: ignore[arg-type]
    for person in people:
        send_email(db, settings, person.email, subject, f"Dear {person.full_name},\n\n{body}")
    return len(people)


def _link(settings: Settings, ret: Return, path: str = "") -> str:
    return f"{settings.base_url}/returns/{ret.id}{path}"


def ready_to_sign(
    db: Session, settings: Settings, ret: Return, org: Organisation, campaign: Campaign, by: str
) -> int:
    """Tell the organisation's signatories that the return is complete and waiting for them."""
    body = (
        f"{by} has finished {org.name}'s safeguarding self-assessment for {campaign.title}. "
        f"It is ready for you to check and sign. It is due by {long_date(campaign.closes_on)}.\n\n"
        f"Read it and sign the declaration here:\n{_link(settings, ret, '/check')}\n"
    )
    return _send(
        db, settings, org, (Role.SIGNATORY,), f"Ready to sign: {org.name}'s {campaign.title}", body
    )


def submitted(
    db: Session,
    settings: Settings,
    ret: Return,
    org: Organisation,
    campaign: Campaign,
    signed_by: str,
    follow_up_due: str | None,
) -> int:
    next_steps = (
        f"Because some arrangements were rated less than effective, an update on the actions is "
        f"due by {follow_up_due}. The portal will remind you.\n\n"
        if follow_up_due
        else ""
    )
    body = (
        f"{signed_by} signed and submitted {org.name}'s safeguarding self-assessment for "
        f"{campaign.title}. It is now a frozen record that the partnership's quality assurance "
        "sub-group will read; it may be chosen for a dip sample, when you would be asked for "
        f"evidence.\n\n{next_steps}"
        f"You can read what was submitted here:\n{_link(settings, ret)}\n"
    )
    return _send(db, settings, org, EVERYONE, f"Submitted: {org.name}'s {campaign.title}", body)


def returned_for_amendment(
    db: Session, settings: Settings, ret: Return, org: Organisation, campaign: Campaign, reason: str
) -> int:
    body = (
        f"The partnership has returned {org.name}'s safeguarding self-assessment for "
        f"{campaign.title} for amendment. This is what needs to change:\n\n{reason}\n\n"
        "Make the changes, then your signatory signs it again.\n\n"
        f"Open the return here:\n{_link(settings, ret)}\n"
    )
    return _send(
        db, settings, org, EVERYONE, f"Changes needed: {org.name}'s {campaign.title}", body
    )


def accepted(
    db: Session, settings: Settings, ret: Return, org: Organisation, campaign: Campaign
) -> int:
    body = (
        f"The partnership has accepted {org.name}'s safeguarding self-assessment for "
        f"{campaign.title}. Thank you.\n\n"
        f"You can read it, and the summary for your governors or board, here:\n"
        f"{_link(settings, ret)}\n"
    )
    return _send(db, settings, org, EVERYONE, f"Accepted: {org.name}'s {campaign.title}", body)


def follow_up_submitted(
    db: Session, settings: Settings, ret: Return, org: Organisation, campaign: Campaign, by: str
) -> int:
    body = (
        f"{by} signed and submitted {org.name}'s six-month follow-up on the actions from "
        f"{campaign.title}. The partnership will read it and either accept it or ask for more "
        f"information.\n\nYou can read what was submitted here:\n"
        f"{_link(settings, ret, '/follow-up')}\n"
    )
    return _send(
        db, settings, org, EVERYONE, f"Follow-up submitted: {org.name}'s {campaign.title}", body
    )


def follow_up_reviewed(
    db: Session,
    settings: Settings,
    ret: Return,
    org: Organisation,
    campaign: Campaign,
    accepted: bool,
    comment: str,
) -> int:
    if accepted:
        subject = f"Follow-up accepted: {org.name}'s {campaign.title}"
        body = (
            f"The partnership has accepted {org.name}'s six-month follow-up on the actions from "
            f"{campaign.title}. Thank you.\n\n"
            + (f"Their comment:\n{comment}\n\n" if comment else "")
        )
    else:
        subject = f"More information needed: {org.name}'s follow-up"
        body = (
            f"The partnership has read {org.name}'s six-month follow-up on the actions from "
            f"{campaign.title} and needs more information:\n\n{comment}\n\n"
            "Update the follow-up, then your signatory submits it again.\n\n"
        )
    body += f"Open the follow-up here:\n{_link(settings, ret, '/follow-up')}\n"
    return _send(db, settings, org, EVERYONE, subject, body)


def action_added(
    db: Session,
    settings: Settings,
    ret: Return,
    org: Organisation,
    campaign: Campaign,
    what: str,
    due: str | None,
) -> int:
    body = (
        f"The partnership has added an action to {org.name}'s safeguarding self-assessment for "
        f"{campaign.title}:\n\n{what}\n\n"
        + (f"Report on it in your six-month follow-up, due by {due}.\n\n" if due else "")
        + f"Open the follow-up here:\n{_link(settings, ret, '/follow-up')}\n"
    )
    return _send(db, settings, org, EVERYONE, f"Action added: {org.name}'s {campaign.title}", body)
