"""No process holds state another needs: two portal processes on one database, one browser.

Two real ``audit-portal serve`` processes, A and B, share one database of the kind under test
(and one var folder), as behind a round-robin load balancer. One browser's requests alternate
between them, and everything that must outlive a request has to work across the two: signing
in (the page from one, the password and the security code to the other), a form's CSRF token
got from one and sent to the other, a message set by a POST on one and shown on the next page
from the other, the sign-in throttle counting failures made on both, an invitation queued by
B and sent by A's outbox worker, and signing out on one ending the session on the other.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from email.message import Message
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlmodel import select

from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.accounts.throttle import GUESSES, THROTTLED_MESSAGE
from audit_portal.db import create_db_engine, migrate, session_scope
from audit_portal.models import OutboxEmail, User
from audit_portal.web.accounts import INVALID_SIGN_IN
from bench.servers import Running
from tests.conftest import make_settings
from tests.personas import PASSWORD, World, csrf_from, make_world
from tests.reliability.portal import SECRET_KEY, portal
from tests.smtp import Inbox, smtp_server

MAIL_WAIT_S = 30.0  # the worker looks at the outbox every 5 seconds
INVITEE = "nia@school.example"


class Browser:
    """One browser (one cookie jar) whose every request must go to the other process.

    Each request names its process; the browser refuses two in a row to the same one, so the
    test cannot quietly stop alternating.
    """

    def __init__(self, a: Running, b: Running) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=30.0)
        self.last: Running | None = None
        self.a, self.b = a, b

    def other(self) -> Running:
        """The process the last request did not go to."""
        return self.b if self.last is self.a else self.a

    def get(self, server: Running, path: str) -> httpx.Response:
        return self._send(server, "GET", path, None)

    def post(self, server: Running, path: str, data: dict[str, str]) -> httpx.Response:
        return self._send(server, "POST", path, data)

    def _send(
        self, server: Running, method: str, path: str, data: dict[str, str] | None
    ) -> httpx.Response:
        assert server is not self.last, f"{method} {path}: two requests in a row to {server.name}"
        self.last = server
        return self.client.request(method, server.base_url + path, data=data)


@pytest.fixture
def prepared(empty_database_url: str, tmp_path: Path) -> Iterator[tuple[World, str, Inbox, int]]:
    """The personas on a fresh database, the admin's authenticator secret, and a mail server
    with its port; the test starts the processes."""
    migrate(empty_database_url)
    settings = make_settings(empty_database_url, tmp_path / "var", SECRET_KEY=SECRET_KEY)
    engine = create_db_engine(settings)
    try:
        world = make_world(engine, settings)
        secret = pyotp.random_base32()
        with session_scope(engine, write=True) as db:
            admin = db.get(User, world.people["admin"].user_id)
            assert admin is not None
            admin.totp_secret, admin.totp_enabled = secret, True
            db.add(admin)
    finally:
        engine.dispose()
    with smtp_server() as (inbox, port):
        yield world, secret, inbox, port


def test_every_request_may_reach_either_process(
    prepared: tuple[World, str, Inbox, int], empty_database_url: str, tmp_path: Path
) -> None:
    world, secret, inbox, port = prepared
    shared = {
        "AUDIT_PORTAL_VAR_DIR": str(tmp_path / "var"),  # one var folder, as on shared storage
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
    }
    with ExitStack() as stack:
        a = stack.enter_context(
            portal(empty_database_url, tmp_path, "portal-a", **shared, EMBEDDED_WORKER="true")
        )
        b = stack.enter_context(portal(empty_database_url, tmp_path, "portal-b", **shared))
        browser = Browser(a, b)
        stack.callback(browser.client.close)

        # Signing in: the page from A, the password to B, the code page from A, the code to B.
        page = browser.get(a, "/sign-in")
        assert page.status_code == 200
        token = csrf_from(page.text)
        admin = world.people["admin"].email
        sent = browser.post(
            b, "/sign-in", {"csrf_token": token, "email": admin, "password": PASSWORD}
        )
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith("/sign-in/code")
        page = browser.get(a, "/sign-in/code")
        assert page.status_code == 200 and "security code" in page.text, "A lost B's half sign-in"
        code = pyotp.TOTP(secret).now()
        signed_in = browser.post(
            b, "/sign-in/code", {"csrf_token": csrf_from(page.text), "code": code}
        )
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"

        # A knows the session B started; its form's CSRF token is accepted by B.
        page = browser.get(a, "/users/invite")
        assert page.status_code == 200 and "Invite someone" in page.text, "not signed in on A"
        token = csrf_from(page.text)
        invitation = {
            "full_name": "Nia Newcomer",
            "email": INVITEE,
            "role": "respondent",
            "organisation_id": str(world.org_a),
        }
        invited = browser.post(b, "/users/invite", {**invitation, "csrf_token": token})
        assert invited.status_code == 303, invited.text
        person = invited.headers["location"]
        assert re.fullmatch(r"/users/\d+", person)

        # The message B set after the POST is shown by A on the next page, and only once.
        shown = browser.get(a, person)
        assert shown.status_code == 200
        assert f"Invitation sent to {INVITEE}." in shown.text, "B's message did not reach A"
        again = browser.get(b, person)
        assert again.status_code == 200 and "Nia Newcomer" in again.text
        assert "Invitation sent to" not in again.text, "B showed the message A had shown"

        # A forged token is refused on either process: the accepted one above meant something.
        forged = browser.post(
            a, "/users/invite", {**invitation, "email": "x@school.example", "csrf_token": "x"}
        )
        assert forged.status_code == 403

        # Signing out on A ends the session on B too, even for a browser that kept the cookie.
        cookie = browser.client.cookies[COOKIE_NAME]
        page = browser.get(b, "/users")
        out = browser.post(a, "/sign-out", {"csrf_token": csrf_from(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/signed-out"
        browser.client.cookies.set(COOKIE_NAME, cookie)
        after = browser.get(b, "/users")
        assert after.status_code == 303 and after.headers["location"].startswith("/sign-in")

        # Wrong passwords on both processes count against one budget: the attempt after the
        # last allowed one is refused, right password or not, though neither process saw all.
        browser.client.cookies.clear()
        respondent = world.people["respondent_a"].email
        page = browser.get(a, "/sign-in")
        token = csrf_from(page.text)
        for attempt in range(GUESSES.per_account):
            wrong = browser.post(
                browser.other(),
                "/sign-in",
                {"csrf_token": token, "email": respondent, "password": "wrong password"},
            )
            assert wrong.status_code == 400 and INVALID_SIGN_IN in wrong.text, attempt
            assert THROTTLED_MESSAGE not in wrong.text, f"throttled after {attempt} failures"
        right = browser.post(
            browser.other(),
            "/sign-in",
            {"csrf_token": token, "email": respondent, "password": PASSWORD},
        )
        assert right.status_code == 400 and THROTTLED_MESSAGE in right.text

        # The invitation B queued is sent by A's outbox worker (B runs none), exactly once.
        message = _wait_for_mail(inbox, INVITEE)
        assert message["Subject"] == "Your invitation to the Safeguarding Audit Portal"
        link = re.search(r"/invitation/[\w.~-]+", message.get_payload(decode=True).decode())
        assert link is not None
        accept = browser.get(browser.other(), link.group(0))
        assert accept.status_code == 200 and "Set your password" in accept.text

    engine = create_db_engine(make_settings(empty_database_url, tmp_path / "check"))
    try:
        with session_scope(engine, write=False) as db:
            emails = db.exec(select(OutboxEmail).where(OutboxEmail.to_address == INVITEE)).all()
    finally:
        engine.dispose()
    assert [e.status for e in emails] == ["sent"]
    assert [m["To"] for m in inbox.parsed()].count(INVITEE) == 1


def _wait_for_mail(inbox: Inbox, to: str) -> Message:
    deadline = time.monotonic() + MAIL_WAIT_S
    while time.monotonic() < deadline:
        found = [m for m in inbox.parsed() if m["To"] == to]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} within {MAIL_WAIT_S:.0f} s: {inbox.subjects()}")
