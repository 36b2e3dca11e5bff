"""`audit-portal create-user` and `audit-portal seed-demo`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from sqlmodel import func, select
from tqdm import tqdm

from audit_portal import clock
from audit_portal.accounts.tokens import Purpose, make_link_token
from audit_portal.accounts.users import AccountError, create_user
from audit_portal.audit import AuditContext
from audit_portal.cli.errors import CommandError
from audit_portal.config import Settings
from audit_portal.db import create_db_engine, session_scope
from audit_portal.demo.people import DEMO_PASSWORD, DEMO_PEOPLE, seed_demo
from audit_portal.models import Organisation, Role, User
from audit_portal.questionnaires import load_catalogue


def add_parser(sub: Any) -> None:
    p = sub.add_parser("create-user", help="create a user and print their invitation link")
    p.add_argument("email")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--organisation", type=int, help="organisation id (respondents and signatories)")
    p.add_argument("--name", help="full name (default: from the email address)")
    p.set_defaults(handler=cmd_create_user)

    p = sub.add_parser(
        "seed-demo", help="add the demo county partnership (development only; empty database)"
    )
    p.add_argument(
        "--force", action="store_true", help="add the demo even if the database has organisations"
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


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The county demo into an empty database; a database with organisations is left alone
    unless --force (so running the README's first command again simply starts the portal)."""
    if settings.is_production:
        raise CommandError(
            "seed-demo adds demo accounts with a known password: it refuses to run in production."
        )
    engine = create_db_engine(settings)
    catalogue = load_catalogue(settings.questionnaires_dir)
    started = time.monotonic()
    try:
        with session_scope(engine, write=True) as db:
            if db.exec(select(func.count()).select_from(Organisation)).one() and not args.force:
                print(
                    "The database already has organisations: no demo data added "
                    "(use --force to add the demo partnership anyway)."
                )
                return 0
            if db.exec(select(User.id).where(User.email == DEMO_PEOPLE[0][0])).first():
                raise CommandError("The demo partnership is already in this database.")
            with tqdm(total=9, desc="Adding the demo partnership", unit="step") as bar:
                seeded = seed_demo(db, settings, catalogue, clock.today(), bar.update)
    finally:
        engine.dispose()
    took = time.monotonic() - started
    print(
        f"Added a demo partnership in {took:.0f} s: {seeded.counts.organisations:,} organisations, "
        f"{seeded.counts.returns:,} returns in 6 campaigns, {seeded.counts.submissions:,} "
        f"submissions, {seeded.counts.follow_ups:,} follow-ups, {seeded.challenges} evidence "
        "challenges."
    )
    print(f"Sign in at {settings.base_url}/sign-in with any of these (demo only), password "
          f"{DEMO_PASSWORD!r}:")  # fmt: skip
    for email, label in seeded.people:
        print(f"  {email:34} {label}")
    print("Partnership-wide roles set up two-step verification on first sign-in.")
    return 0
