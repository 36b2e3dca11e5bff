"""The emails an evidence challenge sends after it is issued: to the QA sub-group when the
organisation submits its evidence, and to the organisation when the review is complete.

Each goes through the outbox, in the transaction of the change that causes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlmodel import Session, col, select

from audit_portal.accounts.users import people_at
from audit_portal.config import Settings
from audit_portal.mail import send_email
from audit_portal.models import Campaign, Membership, Organisation, Role, User, saved_id
from audit_portal.models.dipsamples import Outcome

ORGANISATION_PEOPLE = (Role.RESPONDENT, Role.SIGNATORY)


def partnership_people(db: Session, roles: tuple[Role, ...]) -> list[User]:
    """Active people holding any of ``roles`` partnership-wide, each once, by name."""
    holders = select(Membership.user_id).where(
        col(Membership.organisation_id).is_(None),
        col(Membership.role).in_([r.value for r in roles]),
    )
    return list(
        db.exec(
            select(User)
            .where(col(User.id).in_(holders), col(User.is_active).is_(True))
            .order_by(col(User.full_name))
        ).all()
    )


def _send_to(db: Session, settings: Settings, people: list[User], subject: str, body: str) -> int:
    for person in people:
        send_email(db, settings, person.email, subject, f"Dear {person.full_name},\n\n{body}")
    return len(people)


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def evidence_submitted(
    db: Session,
    settings: Settings,
    challenge_id: int,
    organisation: Organisation,
    campaign: Campaign,
    item_count: int,
) -> int:
    """Tell the QA sub-group that an organisation's evidence is ready to review."""
    body = (
        f"{organisation.name} has submitted its evidence for {_items(item_count)} of its "
        f"return for {campaign.title}. The evidence is now frozen and ready for the quality "
        "assurance group to review: record an outcome and a moderated rating for each item.\n\n"
        f"Review the evidence here (you will need to sign in):\n"
        f"{settings.base_url}/challenges/{challenge_id}/review\n"
    )
    subject = f"Evidence submitted: {organisation.name}, {campaign.title}"
    return _send_to(db, settings, partnership_people(db, (Role.QA,)), subject, body)


def evidence_reviewed(
    db: Session,
    settings: Settings,
    challenge_id: int,
    organisation: Organisation,
    campaign: Campaign,
    outcomes: Iterable[Outcome],
    actions: int,
) -> int:
    """Tell the organisation's people that every challenged item has an outcome."""
    counts = Counter(outcomes)
    parts = [f"{counts[o]} {o.label.lower()}" for o in Outcome if counts[o]]
    follow_up = ""
    if actions:
        what = "1 required action" if actions == 1 else f"{actions} required actions"
        them = "it" if actions == 1 else "them"
        follow_up = (
            f"The partnership has added {what} to your six-month follow-up; report on {them} "
            "there.\n\n"
        )
    body = (
        f"The partnership has reviewed your evidence for {organisation.name}'s return for "
        f"{campaign.title}. Of {_items(sum(counts.values()))}: {', '.join(parts)}.\n\n"
        f"{follow_up}"
        "You can read the outcome and the moderated rating for each item here (you will need "
        f"to sign in):\n{settings.base_url}/challenges/{challenge_id}\n"
    )
    subject = f"Evidence reviewed: {organisation.name}, {campaign.title}"
    people = people_at(db, saved_id(organisation), ORGANISATION_PEOPLE)
    return _send_to(db, settings, people, subject, body)
