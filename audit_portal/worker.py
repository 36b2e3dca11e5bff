"""The background worker: sends the outbox continuously and queues reminders once a day.

It runs as its own process in production (``audit-portal worker``) or, for the embedded
default (SQLite, one machine), as a thread inside the web app, so that ``make run`` sends
email and reminders without starting anything else. Any number may run at once: the sender
claims rows and reminders are keyed, so nothing goes twice. A failure is logged and tried again
on the next round; the worker never dies of one.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

from sqlalchemy import Engine

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.config import Settings
from audit_portal.db import session_scope, writer_lock
from audit_portal.mail.sender import Delivery, deliver_due
from audit_portal.reminders import ReminderRun, queue_reminders

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0


def run_reminders(
    engine: Engine, settings: Settings, ctx: AuditContext, *, dry_run: bool = False
) -> ReminderRun:
    """One run of the reminders for today, in one write transaction."""
    with writer_lock(engine), session_scope(engine, write=not dry_run) as db:
        return queue_reminders(db, settings, ctx, clock.today(), dry_run=dry_run)


class Worker:
    def __init__(self, engine: Engine, settings: Settings, poll_seconds: float = POLL_SECONDS):
        self.engine, self.settings, self.poll_seconds = engine, settings, poll_seconds
        self.stop = threading.Event()
        self.reminders_day: date | None = None
        self.ctx = AuditContext(actor_id=None, actor_label="worker")

    def run(self) -> None:
        """Round after round until ``stop`` is set; returns within one round of it."""
        log.info("Worker started (checking every %s seconds)", self.poll_seconds)
        while not self.stop.is_set():
            self.round()
            self.stop.wait(self.poll_seconds)
        log.info("Worker stopped")

    def round(self) -> Delivery | None:
        """Reminders if the day has changed, then the outbox; a failure waits for next round."""
        try:
            if self.reminders_day != clock.today():
                run = run_reminders(self.engine, self.settings, self.ctx)
                self.reminders_day = clock.today()
                if run.queued:
                    log.info(
                        "Reminders: %s due today, %s emails queued (an organisation with no "
                        "one signed up gets none)",
                        len(run.queued),
                        run.emails,
                    )
            delivery = deliver_due(self.engine, self.settings)
            if delivery.sent or delivery.retrying or delivery.failed:
                log.info("Outbox: %s", delivery)
            return delivery
        except Exception:
            log.exception("Worker round failed; trying again in %s seconds", self.poll_seconds)
            return None

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="audit-portal-worker", daemon=True)
        thread.start()
        return thread
