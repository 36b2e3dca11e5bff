"""Attacks on the second factor found by probing the running portal, each now refused.

A reset link must not get past an enrolled authenticator; an authenticator can only be replaced
with the current one; the code step is throttled and expires; a code works once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.accounts import totp
from audit_portal.db import session_scope
from audit_portal.models import OutboxEmail, User
from tests.personas import PASSWORD, World, csrf_from, signed_in

NEW_PASSWORD = "purple elephant marmalade"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def enrolled_admin(clean_db: Engine, world: World) -> list[str]:
    """The administrator already has an authenticator (SECRET) and ten recovery codes."""
    codes = totp.new_recovery_codes()
    with session_scope(clean_db, write=True) as db:
        user = db.get(User, world.people["admin"].user_id)
        user.totp_secret, user.totp_enabled = SECRET, True
        user.recovery_codes = [totp.hash_recovery_code(c) for c in codes]
        db.add(user)
    return codes


@pytest.fixture
def client(app: Starlette, world: World) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as c:
        yield c


def password_step(client: TestClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/sign-in").text)
    return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


def code_step(client: TestClient, code: str):  # type: ignore[no-untyped-def]
    page = client.get("/sign-in/code")
    if page.status_code != 200:
        return page
    return client.post("/sign-in/code", data={"csrf_token": csrf_from(page.text), "code": code})


def reset_by_email(client: TestClient, engine: Engine, email: str):  # type: ignore[no-untyped-def]
    page = client.get("/forgotten-password")
    client.post("/forgotten-password", data={"csrf_token": csrf_from(page.text), "email": email})
    with session_scope(engine, write=False) as db:
        body = db.exec(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first().body  # type: ignore[union-attr]
    link = re.search(r"http://127\.0\.0\.1:8000(/reset-password/\S+)", body).group(1)  # type: ignore[union-attr]
    form = client.get(link)
    return client.post(
        link,
        data={
            "csrf_token": csrf_from(form.text),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )


def test_a_reset_link_does_not_get_past_an_enrolled_authenticator(
    client: TestClient, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    done = reset_by_email(client, clean_db, "admin@test.example")
    assert done.status_code == 303
    assert done.headers["location"].startswith("/sign-in/code"), "the code is still needed"
    assert client.get("/users").headers["location"].startswith("/sign-in?")
    # The attack: ask for a new authenticator instead of proving the old one.
    setup = client.get("/account/two-factor")
    assert setup.status_code == 303 and setup.headers["location"].startswith("/sign-in")
    attacker_secret = pyotp.random_base32()
    forged = client.post(
        "/account/two-factor",
        data={
            "csrf_token": csrf_from(client.get("/sign-in/code").text),
            "code": pyotp.TOTP(attacker_secret).now(),
        },
    )
    assert forged.status_code == 303 and forged.headers["location"].startswith("/sign-in")
    with session_scope(clean_db, write=False) as db:
        assert db.get(User, world.people["admin"].user_id).totp_secret == SECRET
    # The owner, with their authenticator, gets in with the new password.
    assert code_step(client, pyotp.TOTP(SECRET).now()).status_code == 303
    assert client.get("/users").status_code == 200


def test_replacing_an_authenticator_needs_the_current_code(
    client: TestClient, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    signed_in(client, clean_db, world.people["admin"])
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "Replace your authenticator" in page.text
    new_secret = re.search(r"<code[^>]*>([A-Z2-7]{16,})</code>", page.text).group(1)  # type: ignore[union-attr]
    token = csrf_from(page.text)
    without = client.post(
        "/account/two-factor", data={"csrf_token": token, "code": pyotp.TOTP(new_secret).now()}
    )
    assert without.status_code == 400
    assert "Enter the code from the authenticator app you use now" in without.text
    wrong = client.post(
        "/account/two-factor",
        data={"csrf_token": token, "current_code": "000000", "code": pyotp.TOTP(new_secret).now()},
    )
    assert wrong.status_code == 400
    with session_scope(clean_db, write=False) as db:
        assert db.get(User, world.people["admin"].user_id).totp_secret == SECRET
    replaced = client.post(
        "/account/two-factor",
        data={
            "csrf_token": token,
            "current_code": enrolled_admin[0],  # a recovery code proves the old factor too
            "code": pyotp.TOTP(new_secret).now(),
        },
    )
    assert replaced.status_code == 200 and "Save your recovery codes" in replaced.text
    with session_scope(clean_db, write=False) as db:
        assert db.get(User, world.people["admin"].user_id).totp_secret == new_secret


def test_wrong_codes_are_throttled_and_the_half_sign_in_is_dropped(
    client: TestClient, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    assert (
        password_step(client, "admin@test.example").headers["location"].startswith("/sign-in/code")
    )
    for _ in range(5):
        wrong = code_step(client, "000000")
        assert wrong.status_code == 400
    throttled = code_step(client, pyotp.TOTP(SECRET).now())
    assert throttled.status_code in {303, 400}
    assert client.get("/users").status_code == 303, "even the right code is refused now"
    again = password_step(client, "admin@test.example")
    assert again.status_code == 400 and "too many times" in again.text


def test_recovery_code_guesses_count_towards_the_throttle(
    client: TestClient, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    password_step(client, "admin@test.example")
    for _ in range(5):
        code_step(client, "aaaa-bbbb-cccc")
    late = code_step(client, enrolled_admin[0])
    assert late.status_code != 303 or not late.headers["location"].startswith("/dashboard")
    assert client.get("/users").status_code == 303
    with session_scope(clean_db, write=False) as db:
        assert len(db.get(User, world.people["admin"].user_id).recovery_codes) == 10


def test_the_half_signed_in_state_expires(
    client: TestClient, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    password_step(client, "admin@test.example")
    with clock.travel(clock.now() + timedelta(minutes=6)):
        late = code_step(client, pyotp.TOTP(SECRET).at(clock.now()))
        assert late.status_code == 303 and late.headers["location"].startswith("/sign-in")
        assert client.get("/users").status_code == 303


def test_a_code_signs_in_once(
    app: Starlette, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    code = pyotp.TOTP(SECRET).now()
    with TestClient(app, follow_redirects=False) as first:
        password_step(first, "admin@test.example")
        assert code_step(first, code).status_code == 303
    with TestClient(app, follow_redirects=False) as replay:
        password_step(replay, "admin@test.example")
        refused = code_step(replay, code)
        assert refused.status_code == 400 and "already been used" in refused.text
        assert replay.get("/users").status_code == 303


def test_a_code_from_a_later_time_step_is_refused(
    client: TestClient, clean_db: Engine, world: World, enrolled_admin: list[str]
) -> None:
    # At the start of a 30-second step, so the request is checked in the same step as the
    # code was made in: near a step's end, "the next step's code" became the current one.
    now = clock.now()
    with clock.travel(now - timedelta(seconds=now.timestamp() % 30 - 1)):
        password_step(client, "admin@test.example")
        future = pyotp.TOTP(SECRET).at(clock.now() + timedelta(seconds=30))
        assert code_step(client, future).status_code == 400
