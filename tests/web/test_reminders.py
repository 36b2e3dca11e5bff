"""Reminders with the clock set: follow-ups 30 days before, on the due date and weekly after;
campaigns 14 and 3 days before closing to organisations not yet submitted; each queued once
however often, or however many at once, the command runs."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.cli import main
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, OutboxEmail, ReminderSent
from audit_portal.worker import run_reminders
from tests.builders import submit_with_two_ambers
from tests.personas import World

ROBOT = AuditContext(actor_id=None, actor_label="test")


def emails(engine: Engine) -> list[OutboxEmail]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(OutboxEmail).order_by(OutboxEmail.id)))  # type: ignore[arg-type]


def reminder_emails(engine: Engine) -> list[OutboxEmail]:
    return [e for e in emails(engine) if e.subject.startswith(("Reminder:", "Overdue:"))]


def run_on(engine: Engine, settings: Settings, day: date) -> tuple[int, int]:
    """Queued and skipped reminders of one run on ``day``."""
    with clock.travel(day):
        run = run_reminders(engine, settings, ROBOT)
    return len(run.queued), len(run.skipped)


@pytest.fixture
def submitted(app: Starlette, clean_db: Engine, world: World) -> int:
    """Alpha's return with two amber items, signed on 1 March: follow-up due 1 September."""
    return submit_with_two_ambers(app, clean_db, world, date(2026, 3, 1))


def test_follow_up_reminders_30_days_before_on_the_day_then_weekly(
    settings: Settings, clean_db: Engine, world: World, submitted: int
) -> None:
    before = len(emails(clean_db))
    assert run_on(clean_db, settings, date(2026, 8, 1)) == (0, 0)
    assert run_on(clean_db, settings, date(2026, 8, 2)) == (1, 0)
    [*first] = reminder_emails(clean_db)
    assert {e.to_address for e in first} == {
        world.people["respondent_a"].email,
        world.people["signatory_a"].email,
    }
    assert first[0].subject == (
        "Reminder: the six-month follow-up on the actions from "
        "Schools audit 2026 for Alpha Primary School is due by 1 September 2026"
    )
    assert f"/returns/{submitted}/follow-up" in first[0].body
    assert first[0].body.startswith("Dear ")

    assert run_on(clean_db, settings, date(2026, 8, 2)) == (0, 1), "the same day: nothing new"
    assert run_on(clean_db, settings, date(2026, 8, 20)) == (0, 1)
    assert run_on(clean_db, settings, date(2026, 9, 1)) == (1, 0)
    assert reminder_emails(clean_db)[-1].subject.endswith("is due today")
    assert run_on(clean_db, settings, date(2026, 9, 2)) == (0, 1)
    assert run_on(clean_db, settings, date(2026, 9, 8)) == (1, 0)
    assert reminder_emails(clean_db)[-1].subject.startswith("Overdue: ")
    assert len(emails(clean_db)) == before + 3 * 2

    with session_scope(clean_db, write=False) as db:
        steps = [r.step for r in db.exec(select(ReminderSent).order_by(ReminderSent.id))]
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "reminder.queued")).all()
    assert steps == ["30-days-before", "due-date", "overdue-1"]
    assert len(events) == 3


def test_campaign_closing_reminders_go_only_to_organisations_not_yet_submitted(
    settings: Settings, clean_db: Engine, world: World, submitted: int
) -> None:
    # The campaign closes on 31 March 2026; Alpha submitted on 1 March, Beta has not.
    assert run_on(clean_db, settings, date(2026, 3, 16)) == (0, 0)
    assert run_on(clean_db, settings, date(2026, 3, 17)) == (1, 0)
    [*fourteen] = reminder_emails(clean_db)
    beta = {p.email for key, p in world.people.items() if key.endswith("_b")}
    assert {e.to_address for e in fourteen} <= beta and fourteen
    assert "Beta Academy is due by 31 March 2026" in fourteen[0].subject
    assert run_on(clean_db, settings, date(2026, 3, 28)) == (1, 0)
    assert run_on(clean_db, settings, date(2026, 3, 31)) == (0, 1)
    assert run_on(clean_db, settings, date(2026, 4, 1)) == (0, 0), (
        "chasing late returns is not this"
    )


def test_runs_at_the_same_moment_queue_each_reminder_once(
    settings: Settings, clean_db: Engine, world: World, submitted: int
) -> None:
    start = threading.Barrier(4)
    results: list[tuple[int, int]] = []
    problems: list[BaseException] = []

    def one_run() -> None:
        start.wait()
        try:
            run = run_reminders(clean_db, settings, ROBOT)
            results.append((len(run.queued), len(run.skipped)))
        except BaseException as exc:
            problems.append(exc)

    with clock.travel(date(2026, 9, 1)):  # one clock for all four: it is process-wide
        threads = [threading.Thread(target=one_run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert problems == []
    assert sorted(results) == [(0, 1), (0, 1), (0, 1), (1, 0)]
    assert len(reminder_emails(clean_db)) == 2


def test_the_command_says_what_it_queued_and_what_it_skipped(
    settings: Settings,
    clean_db: Engine,
    world: World,
    submitted: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in {
        "AUDIT_PORTAL_ENV": "test",
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "AUDIT_PORTAL_VAR_DIR": str(settings.var_dir),
        "PARTNERSHIP_NAME": settings.partnership_name,
    }.items():
        monkeypatch.setenv(name, value)
    with clock.travel(date(2026, 9, 1)):
        assert main(["send-reminders", "--dry-run"]) == 0
        dry = capsys.readouterr().out
        assert reminder_emails(clean_db) == []
        assert main(["send-reminders"]) == 0
        first = capsys.readouterr().out
        assert main(["send-reminders"]) == 0
        second = capsys.readouterr().out
    assert dry.startswith("Would queue 1 reminder (2 emails).")
    assert "follow-up due-date" in dry and "Alpha Primary School" in dry
    assert "Queued 1 reminder (2 emails)." in first  # after the two emails, in development
    assert second.startswith("Queued 0 reminders (0 emails).")
    assert "Skipped 1 already queued by an earlier run." in second
    assert len(reminder_emails(clean_db)) == 2


def test_evidence_challenge_reminders_7_days_before_and_on_the_due_date(
    app: Starlette, settings: Settings, clean_db: Engine, world: World
) -> None:
    from tests.challenge_builders import issue_over_http, submitted_and_sampled

    made = submitted_and_sampled(app, clean_db, world)
    with clock.travel(date(2026, 4, 1)):
        issue_over_http(app, clean_db, world, made.challenge_id, ["s175.1.1"], date(2026, 5, 15))
    link = f"/challenges/{made.challenge_id}"

    def challenge_emails() -> list[OutboxEmail]:
        return [e for e in reminder_emails(clean_db) if link in e.body]

    run_on(clean_db, settings, date(2026, 5, 7))
    assert challenge_emails() == []
    run_on(clean_db, settings, date(2026, 5, 8))
    seven = challenge_emails()
    assert {e.to_address for e in seven} == {
        world.people["respondent_a"].email,
        world.people["signatory_a"].email,
    }
    assert seven[0].subject == (
        "Reminder: the evidence the partnership asked for (Schools audit 2026) "
        "for Alpha Primary School is due by 15 May 2026"
    )
    assert f"http://127.0.0.1:8000{link}\n" in seven[0].body
    run_on(clean_db, settings, date(2026, 5, 9))
    assert len(challenge_emails()) == 2, "once per step however often the command runs"
    run_on(clean_db, settings, date(2026, 5, 15))
    assert challenge_emails()[-1].subject.endswith("is due today")
    assert len(challenge_emails()) == 4
    run_on(clean_db, settings, date(2026, 5, 16))
    assert len(challenge_emails()) == 4, "no reminder after the due date"
    with session_scope(clean_db, write=False) as db:
        keys = [r.key for r in db.exec(select(ReminderSent)) if r.kind == "challenge-deadline"]
    assert sorted(keys) == [
        f"challenge-deadline:challenge:{made.challenge_id}:2026-05-15:7-days-before",
        f"challenge-deadline:challenge:{made.challenge_id}:2026-05-15:due-date",
    ]


def test_no_challenge_reminder_once_the_evidence_is_submitted(
    app: Starlette, settings: Settings, clean_db: Engine, world: World
) -> None:
    from starlette.testclient import TestClient

    from tests.challenge_builders import issue_over_http, submitted_and_sampled
    from tests.personas import signed_in

    made = submitted_and_sampled(app, clean_db, world)
    cid = made.challenge_id
    with clock.travel(date(2026, 4, 1)):
        issue_over_http(app, clean_db, world, cid, ["s175.1.1"], date(2026, 5, 15))
        with TestClient(app, follow_redirects=False) as client:
            token = signed_in(client, clean_db, world.people["respondent_a"])
            client.post(
                f"/challenges/{cid}",
                data={
                    "csrf_token": token,
                    "item-s175-1-1-explanation": "Minutes of 3 March",
                    "item-s175-1-1-version": "0",
                },
            )
            assert (
                client.post(f"/challenges/{cid}/submit", data={"csrf_token": token}).status_code
                == 303
            )
    run_on(clean_db, settings, date(2026, 5, 15))
    assert [e for e in reminder_emails(clean_db) if f"/challenges/{cid}" in e.body] == []
