"""`audit-portal create-user` and `audit-portal seed-demo`."""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import Session, func, select

from audit_portal.accounts.tokens import Purpose, make_link_token
from audit_portal.accounts.users import AccountError, create_user, set_password
from audit_portal.audit import AuditContext
from audit_portal.cli.errors import CommandError
from audit_portal.config import Settings
from audit_portal.db import create_db_engine, session_scope
from audit_portal.models import Organisation, Role
from audit_portal.organisations import create_organisation

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (development-only demo accounts)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("create-user", help="create a user and print their invitation link")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--organisation", type=int, help="organisation id (respondents and signatories)")
    p.add_argument("--name", help="full name (default: from the email address)")
    p.set_defaults(handler=cmd_create_user)

    p = sub.add_parser(
        "seed-demo", help="add a demo partnership (development only; skips if data exists)"
    )
    p.set_defaults(handler=cmd_seed_demo)


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:

    name = args.name or args.email.split("@")[0].replace(".", " ").title()
    engine = create_db_engine(settings)
    try:
        with session_scope(engine, write=True) as db:
            user = create_user(
                db,
                AuditContext.command_line(),
                email=args.email,
                full_name=name,
                role=Role(args.role),
                organisation_id=args.organisation,
            )
            token = make_link_token(settings, user, Purpose.INVITATION)
    except AccountError as problem:
        raise CommandError(str(problem)) from None
    finally:
        engine.dispose()
    print(f"Created {user.email} ({Role(args.role).label}).")
    print("Send them this link to set their password (it works once and expires in 7 days):")
    print(f"  {settings.base_url}/invitation/{token}")
    return 0


DEMO_ORGANISATIONS: list[dict[str, Any]] = [
    {
        "name": "Oakfield Primary School",
        "duty_type": "section-175-school",
        "phase": "primary",
        "identifier_scheme": "urn",
        "identifier": "900001",
        "district": "North",
        "features": ["early-years-provision"],
    },
    {
        "name": "Riverside Academy",
        "duty_type": "section-157-school",
        "phase": "secondary",
        "identifier_scheme": "urn",
        "identifier": "900002",
        "district": "South",
        "features": ["sixth-form"],
    },
    {
        "name": "Hillcrest Special School",
        "duty_type": "section-175-school",
        "phase": "all-through",
        "identifier_scheme": "urn",
        "identifier": "900003",
        "district": "North",
        "features": ["special-school", "boarding"],
    },
    {
        "name": "Little Acorns Nursery",
        "duty_type": "early-years-group",
        "identifier_scheme": "ofsted-urn",
        "identifier": "EY900004",
        "district": "South",
    },
    {
        "name": "Demoshire Constabulary",
        "duty_type": "section-11-agency",
        "sector": "police",
        "district": "",
        "features": ["direct-services-to-children", "prevent-specified-authority"],
    },
    {
        "name": "Demoshire Community Health NHS Trust",
        "duty_type": "section-11-agency",
        "sector": "health",
        "identifier_scheme": "ods",
        "identifier": "RXX",
        "features": ["direct-services-to-children"],
    },
]


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:

    if settings.is_production:
        raise CommandError(
            "seed-demo adds demo accounts with a known password: it refuses to run in production."
        )
    engine = create_db_engine(settings)
    try:
        with session_scope(engine, write=True) as db:
            if db.exec(select(func.count()).select_from(Organisation)).one():
                print("The database already has organisations: no demo data added.")
                return 0
            people = _seed(db, settings)
    finally:
        engine.dispose()
    count = len(DEMO_ORGANISATIONS)
    print(f"Added a demo partnership: {count} organisations and {len(people)} people.")
    print(f"Sign in at {settings.base_url}/sign-in with any of these, password {DEMO_PASSWORD!r}:")
    for email, label in people:
        print(f"  {email:32} {label}")
    print("Partnership-wide roles set up two-step verification on first sign-in.")
    return 0


def _seed(db: Session, settings: Settings) -> list[tuple[str, str]]:
    ctx = AuditContext.command_line()
    orgs = [create_organisation(db, ctx, values) for values in DEMO_ORGANISATIONS]
    people = [
        ("admin@demo.example", "Ada Administrator", Role.ADMIN, None),
        ("qa@demo.example", "Quinn Assurance", Role.QA, None),
        ("scrutineer@demo.example", "Sam Scrutineer", Role.SCRUTINEER, None),
        ("dsl@oakfield.example", "Dee Lead", Role.RESPONDENT, orgs[0].id),
        ("head@oakfield.example", "Hal Head", Role.SIGNATORY, orgs[0].id),
        ("safeguarding@police.example", "Pat Constable", Role.RESPONDENT, orgs[4].id),
    ]
    for email, name, role, org_id in people:
        user = create_user(db, ctx, email=email, full_name=name, role=role, organisation_id=org_id)
        set_password(db, settings, ctx, user, DEMO_PASSWORD, reason="demo_password")
    return [(email, role.label) for email, _, role, _ in people]
