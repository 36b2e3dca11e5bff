"""Signing in and out, server-side sessions, timeouts and throttling, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, Membership, User, WebSession, utcnow
from tests.personas import PASSWORD, World, csrf_from, signed_in


@pytest.fixture
def browser(app: Starlette, world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, email: str, password: str, next_: str = ""):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/sign-in").text)
    url = f"/sign-in?next={next_}" if next_ else "/sign-in"
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def test_sign_in_rotates_the_session_and_lands_on_the_dashboard(browser: TestClient) -> None:
    browser.get("/sign-in")
    anonymous = browser.cookies[COOKIE_NAME]
    response = sign_in(browser, "respondent_a@test.example", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert browser.cookies[COOKIE_NAME] != anonymous, "session id must change at sign-in"
    dashboard = browser.get("/dashboard")
    assert dashboard.status_code == 200
    assert "Alpha Primary School" in dashboard.text
    assert "Beta Academy" not in dashboard.text


def test_session_cookie_flags(browser: TestClient) -> None:
    cookie = sign_in(browser, "respondent_a@test.example", PASSWORD).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # BASE_URL is http in tests


def test_secure_cookie_when_base_url_is_https(
    settings,
    engine: Engine,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    from dataclasses import replace

    from audit_portal.web.app import create_app

    app = create_app(replace(settings, base_url="https://audit.example.org"), engine=engine)
    with TestClient(app, base_url="https://audit.example.org", follow_redirects=False) as client:
        assert "Secure" in client.get("/sign-in").headers["set-cookie"]
        assert client.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_next_goes_back_to_the_page_asked_for_but_never_off_site(browser: TestClient) -> None:
    response = sign_in(browser, "respondent_a@test.example", PASSWORD, next_="/account")
    assert response.headers["location"] == "/account"
    browser.cookies.clear()
    response = sign_in(browser, "respondent_a@test.example", PASSWORD, next_="//evil.example/")
    assert response.headers["location"] == "/dashboard"


def test_wrong_password_and_unknown_account_get_the_same_answer(browser: TestClient) -> None:
    wrong = sign_in(browser, "respondent_a@test.example", "not the password")
    unknown = sign_in(browser, "nobody@test.example", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Enter a correct email address and password" in response.text
        assert 'value="respondent_a@test.example"' in wrong.text  # typed email kept
    assert COOKIE_NAME in browser.cookies
    assert browser.get("/dashboard").status_code == 303


def test_missing_fields_are_explained(browser: TestClient) -> None:
    response = sign_in(browser, "", "")
    assert response.status_code == 400
    assert "Enter your email address" in response.text and "Enter your password" in response.text
    assert 'href="#email"' in response.text  # the error summary links to the field


def test_throttled_after_repeated_failures_whether_or_not_the_account_exists(
    browser: TestClient, clean_db: Engine
) -> None:
    for email in ("respondent_a@test.example", "ghost@test.example"):
        for _ in range(5):
            assert sign_in(browser, email, "wrong").status_code == 400
        blocked = sign_in(browser, email, PASSWORD if "respondent" in email else "x")
        assert blocked.status_code == 400
        assert "You have tried to sign in too many times" in blocked.text
    with session_scope(clean_db, write=False) as db:
        actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert actions.count("security.sign_in_failed") == 10
    assert actions.count("security.sign_in_throttled") == 2


def test_throttling_is_per_account_too(browser: TestClient) -> None:
    for _ in range(5):
        sign_in(browser, "respondent_a@test.example", "wrong")
    # Another account from the same address can still sign in.
    assert sign_in(browser, "respondent_b@test.example", PASSWORD).status_code == 303


def test_sign_out_ends_the_session_on_the_server(browser: TestClient, clean_db: Engine) -> None:
    sign_in(browser, "respondent_a@test.example", PASSWORD)
    stolen = browser.cookies[COOKIE_NAME]
    token = csrf_from(browser.get("/dashboard").text)
    response = browser.post("/sign-out", data={"csrf_token": token})
    assert response.headers["location"] == "/signed-out"
    browser.cookies.set(COOKIE_NAME, stolen)  # even a copied cookie no longer works
    assert browser.get("/dashboard").status_code == 303


def test_disabling_an_account_takes_effect_on_the_next_request(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["respondent_a"])
        assert client.get("/dashboard").status_code == 200
        with session_scope(clean_db, write=True) as db:
            db.get(User, world.people["respondent_a"].user_id).is_active = False
        assert client.get("/dashboard").status_code == 303


def test_removing_a_role_takes_effect_on_the_next_request(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["admin"])
        assert client.get("/users").status_code == 200
        with session_scope(clean_db, write=True) as db:
            for m in db.exec(
                select(Membership).where(Membership.user_id == world.people["admin"].user_id)
            ):
                db.delete(m)
        assert client.get("/users").status_code == 403


@pytest.mark.parametrize(
    ("field", "age", "message"),
    [
        ("last_seen_at", timedelta(minutes=61), "had not done anything for a while"),
        ("authenticated_at", timedelta(hours=13), "signed in a long time ago"),
    ],
)
def test_idle_and_absolute_timeouts(
    app: Starlette, clean_db: Engine, world: World, field: str, age: timedelta, message: str
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["respondent_a"])
        assert client.get("/dashboard").status_code == 200
        with session_scope(clean_db, write=True) as db:
            for record in db.exec(select(WebSession)).all():
                setattr(record, field, utcnow() - age)
                if field == "authenticated_at":
                    record.last_seen_at = utcnow()
                db.add(record)
        response = client.get("/dashboard")
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in")
        assert message in client.get("/sign-in").text


def test_signed_in_people_visiting_sign_in_go_to_their_dashboard(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["signatory_a"])
        assert client.get("/sign-in").headers["location"] == "/dashboard"
