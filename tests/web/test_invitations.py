"""Invitations and password resets: signed, single-use, expiring links sent by email."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.mail.sender import deliver_due
from audit_portal.models import AuditEvent, Membership, OutboxEmail, User, WebSession
from audit_portal.web.app import create_app
from tests.builders import invite
from tests.personas import PASSWORD, World, csrf_from, signed_in
from tests.smtp import free_port, smtp_server, with_smtp

NEW_PASSWORD = "purple elephant marmalade"


def last_link(engine: Engine, kind: str) -> str:
    with session_scope(engine, write=False) as db:
        email = db.exec(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()  # type: ignore[union-attr]
    return re.search(rf"http://127\.0\.0\.1:8000(/{kind}/\S+)", email.body).group(1)


@pytest.fixture
def admin(app: Starlette, clean_db: Engine, world: World) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, clean_db, world.people["admin"])


def test_invitation_journey(admin, app: Starlette, clean_db: Engine, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    response = invite(client, token, organisation_id=str(world.org_a))
    assert response.status_code == 303
    with session_scope(clean_db, write=False) as db:
        user = db.exec(select(User).where(User.email == "nia@school.example")).one()
        assert user.password_hash is None
        membership = db.exec(select(Membership).where(Membership.user_id == user.id)).one()
        assert (membership.role, membership.organisation_id) == ("respondent", world.org_a)
        email = db.exec(select(OutboxEmail)).one()
        assert email.status == "outbox" and email.to_address == "nia@school.example"
        actions = [e.action for e in db.exec(select(AuditEvent)).all()]
        assert {"user.create", "membership.create"} <= set(actions)
    link = last_link(clean_db, "invitation")

    with TestClient(app, follow_redirects=False) as newcomer:
        page = newcomer.get(link)
        assert page.status_code == 200 and "nia@school.example" in page.text
        weak = newcomer.post(
            link, data={"csrf_token": csrf_from(page.text), "password": "short", "confirm": "short"}
        )
        assert weak.status_code == 400 and "12 characters or more" in weak.text
        done = newcomer.post(
            link,
            data={
                "csrf_token": csrf_from(page.text),
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
        )
        assert done.status_code == 303 and done.headers["location"] == "/dashboard"
        assert "Alpha Primary School" in newcomer.get("/dashboard").text

    with TestClient(app, follow_redirects=False) as again:
        reused = again.get(link)
        assert reused.status_code == 400 and "This link has already been used" in reused.text


def test_tampered_and_expired_links(
    app: Starlette,
    clean_db: Engine,
    world: World,
    admin,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, token = admin
    invite(client, token, organisation_id=str(world.org_a))
    link = last_link(clean_db, "invitation")
    with TestClient(app) as visitor:
        assert "This link is not valid" in visitor.get(link[:-3] + "xyz").text
        real_timestamp = TimestampSigner.get_timestamp
        monkeypatch.setattr(
            TimestampSigner, "get_timestamp", lambda self: real_timestamp(self) + 8 * 86400
        )
        assert "This link has expired" in visitor.get(link).text


def test_invitation_needs_a_valid_role_and_organisation(admin, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    missing_org = invite(client, token)
    assert missing_org.status_code == 400
    assert "Choose the organisation this respondent belongs to" in missing_org.text
    partnership_with_org = invite(client, token, role="qa", organisation_id=str(world.org_a))
    assert "is a partnership-wide role" in partnership_with_org.text
    duplicate = invite(
        client, token, email="respondent_a@test.example", organisation_id=str(world.org_a)
    )
    assert "already exists" in duplicate.text
    bad_email = invite(client, token, email="not-an-email", organisation_id=str(world.org_a))
    assert "Enter an email address in the correct format" in bad_email.text


def test_password_reset_signs_out_other_browsers(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    persona = world.people["respondent_a"]
    with TestClient(app, follow_redirects=False) as elsewhere:
        signed_in(elsewhere, clean_db, persona)
        assert elsewhere.get("/dashboard").status_code == 200
        with TestClient(app, follow_redirects=False) as client:
            page = client.get("/forgotten-password")
            sent = client.post(
                "/forgotten-password",
                data={"csrf_token": csrf_from(page.text), "email": persona.email},
            )
            assert "Check your email" in sent.text
            link = last_link(clean_db, "reset-password")
            form = client.get(link)
            done = client.post(
                link,
                data={
                    "csrf_token": csrf_from(form.text),
                    "password": NEW_PASSWORD,
                    "confirm": NEW_PASSWORD,
                },
            )
            assert done.status_code == 303
        assert elsewhere.get("/dashboard").status_code == 303, "the other browser is signed out"
    with session_scope(clean_db, write=False) as db:
        assert (
            len(db.exec(select(WebSession).where(WebSession.user_id == persona.user_id)).all()) == 1
        )


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        page = client.get("/forgotten-password")
        response = client.post(
            "/forgotten-password",
            data={"csrf_token": csrf_from(page.text), "email": "stranger@test.example"},
        )
        assert "If stranger@test.example has an account" in response.text
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(OutboxEmail)).all() == []


def test_invitation_is_delivered_through_a_real_smtp_server(
    settings: Settings, clean_db: Engine, world: World
) -> None:
    with smtp_server() as (inbox, port):
        smtp_settings = with_smtp(settings, port)
        app = create_app(smtp_settings, engine=clean_db)
        with TestClient(app, follow_redirects=False) as client:
            token = signed_in(client, clean_db, world.people["admin"])
            assert invite(client, token, organisation_id=str(world.org_b)).status_code == 303
        assert inbox.messages == [], "the request only queues the email"
        with session_scope(clean_db, write=False) as db:
            assert db.exec(select(OutboxEmail)).one().status == "queued"
        assert deliver_due(clean_db, smtp_settings).sent == 1
    [message] = inbox.parsed()
    assert message["To"] == "nia@school.example"
    assert message["Subject"] == "Your invitation to the Safeguarding Audit Portal"
    assert "Testshire Safeguarding Children Partnership" in message["From"]
    assert "/invitation/" in message.get_payload(decode=True).decode()
    with session_scope(clean_db, write=False) as db:
        stored = db.exec(select(OutboxEmail)).one()
        assert stored.status == "sent" and stored.body == "", "bodies with links are not kept"


def test_unreachable_mail_server_never_fails_the_request(
    settings: Settings, clean_db: Engine, world: World
) -> None:
    smtp_settings = with_smtp(settings, free_port())
    app = create_app(smtp_settings, engine=clean_db)
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        page = invite(client, token, organisation_id=str(world.org_b))
        assert page.status_code == 200
        assert "Invitation sent to nia@school.example" in page.text
    result = deliver_due(clean_db, smtp_settings)
    assert (result.sent, result.retrying) == (0, 1)
    with session_scope(clean_db, write=False) as db:
        stored = db.exec(select(OutboxEmail)).one()
        assert stored.status == "retry" and stored.attempts == 1
        assert "Connection refused" in stored.error or "Errno" in stored.error
        assert "/invitation/" in stored.body, "kept until it is sent"


def test_password_never_reaches_the_audit_trail_or_cookies(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/sign-in")
        client.post(
            "/sign-in",
            data={
                "csrf_token": csrf_from(page.text),
                "email": "respondent_a@test.example",
                "password": PASSWORD,
            },
        )
        assert PASSWORD not in str(client.cookies.get(COOKIE_NAME))
    with session_scope(clean_db, write=False) as db:
        dumped = " ".join(f"{e.old} {e.new}" for e in db.exec(select(AuditEvent)).all())
    assert PASSWORD not in dumped


def test_reset_emails_are_limited_per_account_and_per_address(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    neutral = "If respondent_a@test.example has an account"
    with TestClient(app) as client:
        for _ in range(6):
            page = client.get("/forgotten-password")
            answer = client.post(
                "/forgotten-password",
                data={"csrf_token": csrf_from(page.text), "email": "respondent_a@test.example"},
            )
            assert answer.status_code == 200 and neutral in answer.text
        for n in range(12):
            page = client.get("/forgotten-password")
            client.post(
                "/forgotten-password",
                data={"csrf_token": csrf_from(page.text), "email": f"someone{n}@test.example"},
            )
        page = client.get("/forgotten-password")
        last = client.post(
            "/forgotten-password",
            data={"csrf_token": csrf_from(page.text), "email": "signatory_a@test.example"},
        )
        assert "If signatory_a@test.example has an account" in last.text
    with session_scope(clean_db, write=False) as db:
        sent = db.exec(select(OutboxEmail)).all()
    assert [e.to_address for e in sent] == ["respondent_a@test.example"] * 3, (
        "three a window for one account; the address is then limited for every account"
    )
