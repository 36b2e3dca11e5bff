"""Personas for web tests, and a fast way to be signed in as one (no password round trip).

Two organisations, A and B; a respondent and a signatory at A, a respondent at B; and the
three partnership-wide roles. ``signed_in(client, persona)`` creates a server-side session
directly and sets its cookie, as a browser would have after signing in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from audit_portal.accounts.passwords import hash_password
from audit_portal.accounts.sessions import COOKIE_NAME, hash_token
from audit_portal.accounts.users import new_stamp
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    Campaign,
    ChallengeEvent,
    DipSample,
    FollowUp,
    FollowUpSubmission,
    Membership,
    Organisation,
    Return,
    Role,
    Submission,
    User,
    WebSession,
    saved_id,
    utcnow,
)
from audit_portal.sampling import SampleSpec, spec_to_dict
from audit_portal.web import csrf

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Persona:
    name: str
    user_id: int
    email: str
    role: Role | None
    organisation_id: int | None


@dataclass(frozen=True)
class World:
    org_a: int
    org_b: int
    people: dict[str, Persona]
    campaign_id: int
    returns: dict[int, int]  # organisation id -> its return in the campaign


def make_world(engine: Engine, settings: Settings) -> World:
    with session_scope(engine, write=True) as db:
        a = Organisation(
            name="Alpha Primary School",
            duty_type="section-175-school",
            kind="school",
            identifier_scheme="urn",
            identifier="100001",
            phase="primary",
            district="North",
        )
        b = Organisation(
            name="Beta Academy",
            duty_type="section-157-school",
            kind="school",
            identifier_scheme="urn",
            identifier="100002",
            phase="secondary",
            district="South",
        )
        db.add(a)
        db.add(b)
        db.flush()
        specs = {
            "respondent_a": (Role.RESPONDENT, a.id),
            "signatory_a": (Role.SIGNATORY, a.id),
            "respondent_b": (Role.RESPONDENT, b.id),
            "qa": (Role.QA, None),
            "admin": (Role.ADMIN, None),
            "scrutineer": (Role.SCRUTINEER, None),
            "no_roles": (None, None),
        }
        hashed = hash_password(settings, PASSWORD)
        people = {}
        for name, (role, org_id) in specs.items():
            user = User(
                email=f"{name}@test.example",
                full_name=name.replace("_", " ").title(),
                password_hash=hashed,
                security_stamp=new_stamp(),
            )
            db.add(user)
            db.flush()
            if role is not None:
                db.add(Membership(user_id=user.id, organisation_id=org_id, role=role.value))
            people[name] = Persona(name, user.id, user.email, role, org_id)
        campaign = Campaign(
            title="Schools audit 2026",
            questionnaire_key="section-175-schools",
            questionnaire_version="2025.1",
            opens_on=date(2026, 1, 5),
            closes_on=date(2026, 3, 31),
            status="open",
        )
        db.add(campaign)
        db.flush()
        returns = {}
        for org in (a, b):
            ret = Return(campaign_id=campaign.id, organisation_id=org.id)
            db.add(ret)
            db.flush()
            returns[org.id] = ret.id
        return World(a.id, b.id, people, campaign.id, returns)


def add_action_and_submission(engine: Engine, world: World) -> dict[int, int]:
    """An action and a past submission on each organisation's return; action ids by organisation."""
    actions = {}
    with session_scope(engine, write=True) as db:
        for org_id, return_id in world.returns.items():
            action = Action(
                return_id=return_id,
                item_id="s175.1.1",
                what="Train governors",
                owner="Chair",
                target_date=date(2026, 6, 30),
            )
            db.add(action)
            db.add(
                Submission(
                    return_id=return_id,
                    revision=1,
                    declaration_name="Earlier",
                    declaration_role="Head",
                    declaration_date=date(2025, 3, 1),
                    questionnaire_key="section-175-schools",
                    questionnaire_version="2025.1",
                    questionnaire_hash="0" * 64,
                    content={"answers": {}, "actions": [], "score": {"overall": None, "items": {}}},
                )
            )
            db.flush()
            actions[org_id] = action.id
            follow_up = FollowUp(
                return_id=return_id,
                due_on=date(2025, 9, 1),
                stage="information_requested",
                round=2,
            )
            db.add(follow_up)
            db.flush()
            db.add(
                FollowUpSubmission(
                    follow_up_id=saved_id(follow_up),
                    round=1,
                    declaration_name="Earlier",
                    declaration_role="Head",
                    declaration_date=date(2025, 8, 20),
                    content={"actions": []},
                )
            )
        add_matrix_sample(db, world)
    return actions


# A dip sample of the world's campaign for the route matrix, under an id no sequence reaches on
# either database (so it never meets an id the database hands out in the same test).
MATRIX_SAMPLE_ID = 2_000_000_000
MATRIX_EVENT_ID = 2_000_000_000  # a challenge event of the same campaign, likewise


def add_matrix_sample(db: Session, world: World) -> None:
    db.add(
        DipSample(
            id=MATRIX_SAMPLE_ID,
            campaign_id=world.campaign_id,
            method="simple",
            spec=spec_to_dict(SampleSpec(method="simple", size=1)),
            seed=123456,
            population_size=0,
            filtered_size=0,
            requested_size=1,
            chosen_by_name="Test QA",
        )
    )
    db.add(
        ChallengeEvent(
            id=MATRIX_EVENT_ID,
            campaign_id=world.campaign_id,
            held_on=date(2026, 4, 1),
            attendees="Test QA",
        )
    )


def signed_in(client: TestClient, engine: Engine, persona: Persona, *, mfa: bool = True) -> str:
    """Sign ``client`` in as ``persona``; returns the CSRF token for its forms."""
    token = secrets.token_urlsafe(32)
    csrf_secret = secrets.token_hex(32)
    now = utcnow()
    with session_scope(engine, write=True) as db:
        db.add(
            WebSession(
                id=hash_token(token),
                user_id=persona.user_id,
                csrf_secret=csrf_secret,
                mfa_verified=mfa,
                created_at=now,
                authenticated_at=now,
                last_seen_at=now,
            )
        )
    client.cookies.set(COOKIE_NAME, token)
    return csrf.token_for(client.app.state.settings.secret_key, csrf_secret)


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
