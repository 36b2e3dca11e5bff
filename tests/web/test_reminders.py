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
        return list(db.exec(select(OutboxEmail)))


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
