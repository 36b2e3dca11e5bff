"""The demo partnership as a whole: the county, one account per role, and emails sent.

Accounts go through the real account code (with an audit event each), and so do the campaign
invitations and reminders, the dip samples and the evidence challenges, so the outbox and the
audit trail hold what a real cycle would have left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from audit_portal.accounts.users import create_user, set_password
from audit_portal.audit import AuditContext
from audit_portal.campaigns import send_reminders
from audit_portal.config import Settings
from audit_portal.demo.challenges import seed_challenges
from audit_portal.demo.county import DemoOrganisation
from audit_portal.demo.seed import Seeded, seed_county
from audit_portal.models import Campaign, Organisation, Return, ReturnStatus, Role, User
from audit_portal.questionnaires import Catalogue

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (development-only demo accounts)

# email, name, role, what they belong to: "" for the partnership, else a duty type or a name
DEMO_PEOPLE: tuple[tuple[str, str, Role, str], ...] = (
    ("admin@demo.example", "Ada Administrator", Role.ADMIN, ""),
    ("qa@demo.example", "Quinn Assurance", Role.QA, ""),
    ("scrutineer@demo.example", "Sam Scrutineer", Role.SCRUTINEER, ""),
    ("dsl@school.demo.example", "Dee Lead", Role.RESPONDENT, "school"),
    ("head@school.demo.example", "Hal Head", Role.SIGNATORY, "school"),
    ("safeguarding@police.demo.example", "Pat Constable", Role.RESPONDENT,
     "Demoshire Constabulary"),
    ("manager@nursery.demo.example", "Nell Nursery", Role.RESPONDENT, "early-years"),
)  # fmt: skip


@dataclass
class SeededDemo:
    counts: Seeded
    people: list[tuple[str, str]]  # (email, what to tell the person trying the demo)
    challenges: int = 0  # evidence challenges issued


def seed_demo(
    db: Session,
    settings: Settings,
    catalogue: Catalogue,
    today: date,
    step: Callable[[int], object],
    organisations: list[DemoOrganisation] | None = None,
) -> SeededDemo:
    """The county (``organisations``, or the whole demo county), its people, its dip samples
    and challenges, and this year's reminders."""
    ctx = AuditContext.command_line()
    counts, _, campaign_ids = seed_county(
        db, catalogue, ctx, today, lambda _what, n: step(n), organisations
    )
    people: list[tuple[str, str]] = []
    accounts: dict[Role, User] = {}
    respondents: dict[int, User] = {}  # organisations' own demo accounts answer challenges
    for email, name, role, belongs in DEMO_PEOPLE:
        org = _organisation_for(db, belongs, campaign_ids[3:]) if belongs else None
        user = create_user(
            db, ctx, email=email, full_name=name, role=role, organisation_id=org.id if org else None
        )
        set_password(db, settings, ctx, user, DEMO_PASSWORD, reason="demo_password")
        people.append((email, role.label + (f", {org.name}" if org else "")))
        accounts.setdefault(role, user)
        if org is not None and role is Role.RESPONDENT:
            respondents[org.id or 0] = user
    step(1)
    schools = (campaign_ids[0], campaign_ids[3])  # last year's and this year's
    challenges = seed_challenges(
        db, settings, catalogue, schools, accounts[Role.QA], respondents, today
    )
    step(1)
    for campaign_id in campaign_ids[3:]:
        send_reminders(db, settings, ctx, campaign_id)  # reaches the demo respondents
    return SeededDemo(counts, people, challenges)


def _organisation_for(db: Session, belongs: str, this_year: list[int]) -> Organisation:
    """A named organisation, or the first of a kind with this year's return in progress."""
    query = select(Organisation).order_by(col(Organisation.id))
    if belongs not in ("school", "early-years"):
        found = db.exec(query.where(Organisation.name == belongs)).first()
    else:
        found = db.exec(
            query.join(Return, col(Return.organisation_id) == Organisation.id)
            .join(Campaign, col(Campaign.id) == Return.campaign_id)
            .where(
                Organisation.kind == belongs,
                col(Campaign.id).in_(this_year),
                Return.status == ReturnStatus.IN_PROGRESS.value,
                Organisation.duty_type != "childminder",
            )
        ).first()
    assert found is not None, belongs
    return found
