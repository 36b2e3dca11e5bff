"""Partnership-wide roles must use a second factor; organisation users may opt in."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import User
from tests.personas import PASSWORD, World, csrf_from


def sign_in(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    page = client.get("/sign-in")
    return client.post(
        "/sign-in", data={"csrf_token": csrf_from(page.text), "email": email, "password": PASSWORD}
    )


def set_up(client: TestClient) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor")
    secret = re.search(
        r"enter this key in the app instead: <code[^>]*>([A-Z2-7]+)</code>", page.text
    ).group(1)
    assert "<svg" in page.text  # the QR code is drawn on the server
    wrong = client.post(
        "/account/two-factor", data={"csrf_token": csrf_from(page.text), "code": "000000"}
    )
    assert wrong.status_code == 400 and "The security code is not correct" in wrong.text
    done = client.post(
        "/account/two-factor",
        data={"csrf_token": csrf_from(page.text), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200 and "Save your recovery codes" in done.text
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", done.text)
    assert len(codes) == 10
    return secret, codes


def test_admin_must_set_up_two_factor_before_anything_else(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        assert sign_in(client, "admin@test.example").headers["location"] == "/dashboard"
        for path in ("/dashboard", "/users", "/organisations"):
            response = client.get(path)
            assert response.headers["location"] == "/account/two-factor", path
        assert "you must use two-step verification" in client.get("/account/two-factor").text
        secret, codes = set_up(client)
        assert client.get("/users").status_code == 200

    later = clock.travel(clock.now() + timedelta(seconds=30))  # the set-up code is spent
    with later, TestClient(app, follow_redirects=False) as client:
        assert sign_in(client, "admin@test.example").headers["location"].startswith("/sign-in/code")
        assert client.get("/users").status_code == 303, "not signed in until the code is given"
        page = client.get("/sign-in/code")
        ok = client.post(
            "/sign-in/code",
            data={"csrf_token": csrf_from(page.text), "code": pyotp.TOTP(secret).at(clock.now())},
        )
        assert ok.status_code == 303
        assert client.get("/users").status_code == 200

    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "admin@test.example")
        page = client.get("/sign-in/code")
        recovered = client.post(
            "/sign-in/code", data={"csrf_token": csrf_from(page.text), "code": codes[0]}
        )
        assert recovered.status_code == 303
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "admin@test.example")
        page = client.get("/sign-in/code")
        reused = client.post(
            "/sign-in/code", data={"csrf_token": csrf_from(page.text), "code": codes[0]}
        )
        assert reused.status_code == 400, "a recovery code works once"
    with session_scope(clean_db, write=False) as db:
        assert len(db.get(User, world.people["admin"].user_id).recovery_codes) == 9


def test_organisation_users_may_opt_in_and_out(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "respondent_a@test.example")
        assert client.get("/dashboard").status_code == 200, "no second factor required"
        _secret, codes = set_up(client)
        account = client.get("/account")
        assert "Turn off two-step verification" in account.text
        token = csrf_from(account.text)
        for code, message in (
            ("", "Enter the code from the authenticator app you use now"),
            ("123456", "The code from your current authenticator app is not correct"),
        ):
            refused = client.post(
                "/account/two-factor/off", data={"csrf_token": token, "current_code": code}
            )
            assert refused.status_code == 400 and message in refused.text, code
        with session_scope(clean_db, write=False) as db:
            assert db.get(User, world.people["respondent_a"].user_id).totp_enabled
        off = client.post(
            "/account/two-factor/off", data={"csrf_token": token, "current_code": codes[0]}
        )
        assert off.status_code == 303
    with session_scope(clean_db, write=False) as db:
        assert not db.get(User, world.people["respondent_a"].user_id).totp_enabled


def test_partnership_roles_cannot_turn_it_off(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, "qa@test.example")
        set_up(client)
        page = client.get("/account")
        assert "Turn off two-step verification" not in page.text
        refused = client.post("/account/two-factor/off", data={"csrf_token": csrf_from(page.text)})
        assert refused.status_code == 400 and "must use two-step verification" in refused.text
