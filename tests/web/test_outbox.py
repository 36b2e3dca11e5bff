"""The durable outbox against a real SMTP server on 127.0.0.1: a killed sender loses nothing and
sends nothing twice, a failing server is retried with back-off, and two senders at once never
send the same email."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.config import PROJECT_ROOT, Settings
from audit_portal.db import session_scope
from audit_portal.mail import send_email
from audit_portal.mail.sender import LEASE, MAX_ATTEMPTS, claim, deliver_due
from audit_portal.models import OutboxEmail
from audit_portal.web.app import create_app
from tests.builders import invite
from tests.personas import World, signed_in
from tests.smtp import smtp_server, with_smtp


def queue(engine: Engine, settings: Settings, count: int) -> list[int]:
    """``count`` emails written the way every change writes them: in its own transaction."""
    with session_scope(engine, write=True) as db:
        return [
            send_email(db, settings, f"person{n}@school.example", f"Email {n:03d}", f"Body {n}").id
            for n in range(count)
        ]  # type: ignore[misc]


def stored(engine: Engine) -> list[OutboxEmail]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(OutboxEmail).order_by(col(OutboxEmail.id))))


def test_a_sender_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    settings: Settings, clean_db: Engine
) -> None:
    with smtp_server() as (inbox, port):
        smtp = with_smtp(settings, port)
        queue(clean_db, smtp, 5)
        inbox.hold_from = 2  # the server accepts two, then keeps the third waiting
        sender = subprocess.Popen(
            [str(Path(sys.executable).parent / "audit-portal"), "deliver-emails"],
            env=_env_for(smtp),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        reached = inbox.waiting.wait(60)
        sender.send_signal(signal.SIGKILL)
        _, errors = sender.communicate(timeout=10)
        assert reached, f"the sender never reached the third email: {errors.decode()[-2000:]}"
        inbox.release()  # the server drops the dead sender's third email, never accepting it
        assert inbox.subjects() == ["Email 000", "Email 001"]
        statuses = [e.status for e in stored(clean_db)]
        assert statuses == ["sent", "sent", "sending", "sending", "sending"]

        assert deliver_due(clean_db, smtp).sent == 0, "the dead sender's claim still holds"
        with clock.travel(clock.now() + LEASE + timedelta(seconds=1)):
            assert deliver_due(clean_db, smtp).sent == 3
            assert deliver_due(clean_db, smtp).sent == 0
    assert inbox.subjects() == [f"Email {n:03d}" for n in range(5)], "each exactly once"
    assert {e.status for e in stored(clean_db)} == {"sent"}
    assert all(e.body == "" and e.sent_at is not None for e in stored(clean_db))


def test_a_claim_taken_and_abandoned_is_sent_once_the_lease_runs_out(
    settings: Settings, clean_db: Engine
) -> None:
    with smtp_server() as (inbox, port):
        smtp = with_smtp(settings, port)
        queue(clean_db, smtp, 3)
        assert len(claim(clean_db, "crashed-sender")) == 3
        assert deliver_due(clean_db, smtp, me="survivor").sent == 0
        with clock.travel(clock.now() + LEASE + timedelta(minutes=1)):
            assert deliver_due(clean_db, smtp, me="survivor").sent == 3
    assert Counter(inbox.subjects()) == Counter({"Email 000": 1, "Email 001": 1, "Email 002": 1})
    assert [e.attempts for e in stored(clean_db)] == [2, 2, 2]


def test_a_mail_server_that_says_try_later_is_retried_with_back_off(
    settings: Settings, clean_db: Engine
) -> None:
    with smtp_server() as (inbox, port):
        smtp = with_smtp(settings, port)
        queue(clean_db, smtp, 1)
        inbox.refuse = 2
        assert deliver_due(clean_db, smtp).retrying == 1
        [email] = stored(clean_db)
        assert (email.status, email.attempts) == ("retry", 1)
        assert "451" in email.error and email.body == "Body 0"
        assert deliver_due(clean_db, smtp).retrying == 0, "not before its next attempt"
        with clock.travel(clock.now() + timedelta(minutes=2)):
            assert deliver_due(clean_db, smtp).retrying == 1  # second refusal
        with clock.travel(clock.now() + timedelta(minutes=8)):
            assert deliver_due(clean_db, smtp).sent == 1
    [email] = stored(clean_db)
    assert (email.status, email.attempts, email.error) == ("sent", 3, "")
    assert inbox.subjects() == ["Email 000"]


def test_a_refused_mailbox_is_given_up_at_once_and_a_dead_server_after_the_last_attempt(
    settings: Settings, clean_db: Engine
) -> None:
    with smtp_server() as (inbox, port):
        smtp = with_smtp(settings, port)
        queue(clean_db, smtp, 1)
        inbox.refuse, inbox.refusal = 1, "550 5.1.1 No such mailbox"
        assert deliver_due(clean_db, smtp).failed == 1
    [email] = stored(clean_db)
    assert (email.status, email.attempts) == ("failed", 1) and "550" in email.error

    nowhere = with_smtp(settings, port)  # the server has stopped: connection refused
    queue(clean_db, nowhere, 1)
    moment = clock.now()
    for attempt in range(MAX_ATTEMPTS):
        with clock.travel(moment + timedelta(days=attempt)):
            deliver_due(clean_db, nowhere)
    last = stored(clean_db)[-1]
    assert (last.status, last.attempts) == ("failed", MAX_ATTEMPTS)
    with clock.travel(moment + timedelta(days=30)):
        assert deliver_due(clean_db, nowhere).failed == 0, "given up means given up"


@pytest.mark.parametrize("senders", [2, 4])
def test_senders_running_at_once_never_send_the_same_email(
    settings: Settings, clean_db: Engine, senders: int
) -> None:
    with smtp_server() as (inbox, port):
        smtp = with_smtp(settings, port)
        queue(clean_db, smtp, 60)
        start = threading.Barrier(senders)
        results: list[int] = []

        def one_sender(name: str) -> None:
            start.wait()
            results.append(deliver_due(clean_db, smtp, me=name).sent)

        threads = [threading.Thread(target=one_sender, args=(f"s{n}",)) for n in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert sum(results) == 60
    assert Counter(inbox.subjects()) == Counter({f"Email {n:03d}": 1 for n in range(60)})
    assert all(e.status == "sent" and e.attempts == 1 for e in stored(clean_db))


def _env_for(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "AUDIT_PORTAL_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "AUDIT_PORTAL_VAR_DIR": str(Path(settings.var_dir)),
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_STARTTLS": "false",
    }


def test_the_worker_sends_what_is_queued_and_stops_cleanly_on_sigterm(
    settings: Settings, clean_db: Engine
) -> None:
    with smtp_server() as (inbox, port):
        smtp = with_smtp(settings, port)
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "audit-portal"), "worker", "--every", "0.2"],
            env=_env_for(smtp),
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            queue(clean_db, smtp, 2)  # while it runs, as a request on another server would
            for _ in range(150):
                if len(inbox.messages) == 2:
                    break
                time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=30)
    assert inbox.subjects() == ["Email 000", "Email 001"], output
    assert worker.returncode == 0, output
    assert "Stopping after this round (SIGTERM)" in output
    assert output.rstrip().endswith("Worker stopped.")


def test_the_embedded_worker_sends_a_requests_email_with_nothing_else_started(
    settings: Settings, clean_db: Engine, world: World
) -> None:
    with smtp_server() as (inbox, port):
        embedded = replace(with_smtp(settings, port), embedded_worker=True)
        with TestClient(create_app(embedded, engine=clean_db), follow_redirects=False) as client:
            token = signed_in(client, clean_db, world.people["admin"])
            assert invite(client, token, organisation_id=str(world.org_b)).status_code == 303
            for _ in range(150):
                if inbox.messages:
                    break
                time.sleep(0.1)
    assert [m["To"] for m in inbox.parsed()] == ["nia@school.example"]
