"""Sub-commands for email: deliver the outbox, queue reminders, run the worker.

All three are safe to run from cron, as often as you like and on several machines at once:
the sender claims the emails it sends and every reminder is queued at most once.
"""

from __future__ import annotations

import argparse
import logging
import signal
from typing import Any

from audit_portal.config import Settings


def cmd_send_reminders(args: argparse.Namespace, settings: Settings) -> int:
    from audit_portal.audit import AuditContext
    from audit_portal.db import create_db_engine
    from audit_portal.worker import run_reminders

    engine = create_db_engine(settings)
    try:
        run = run_reminders(engine, settings, AuditContext.command_line(), dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "Would queue" if args.dry_run else "Queued"
    print(
        f"{verb} {len(run.queued)} reminder{'s' * (len(run.queued) != 1)} "
        f"({run.emails} email{'s' * (run.emails != 1)})."
    )
    for due, emails in run.queued:
        print(f"  {due.describe()}: {emails} email{'s' * (emails != 1)}")
    print(f"Skipped {len(run.skipped)} already queued by an earlier run.")
    for due in run.skipped:
        print(f"  {due.describe()}")
    return 0


def cmd_deliver_emails(args: argparse.Namespace, settings: Settings) -> int:
    from audit_portal.db import create_db_engine
    from audit_portal.mail.sender import deliver_due

    if not settings.smtp_host:
        print("No mail server is set (SMTP_HOST): emails stay in the outbox page.")
        return 0
    engine = create_db_engine(settings)
    try:
        delivery = deliver_due(engine, settings)
    finally:
        engine.dispose()
    print(f"Outbox: {delivery}.")
    for problem in delivery.problems:
        print(f"  {problem}")
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from audit_portal.db import create_db_engine
    from audit_portal.worker import Worker

    logging.getLogger("audit_portal").setLevel(logging.INFO)
    engine = create_db_engine(settings)
    worker = Worker(engine, settings, poll_seconds=args.every)

    def stop(signum: int, _frame: Any) -> None:
        print(f"Stopping after this round ({signal.Signals(signum).name}).", flush=True)
        worker.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    where = "to " + settings.smtp_host if settings.smtp_host else "to the outbox page only"
    print(
        f"Worker running: email {where}, reminders once a day. Stop with SIGTERM or Ctrl+C.",
        flush=True,
    )
    try:
        worker.run()
    finally:
        engine.dispose()
    print("Worker stopped.", flush=True)
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("send-reminders", help="queue today's reminders (each only once)")
    p.add_argument(
        "--dry-run", action="store_true", help="list what would be queued; change nothing"
    )
    p.set_defaults(handler=cmd_send_reminders)

    p = sub.add_parser("deliver-emails", help="send the emails waiting in the outbox, then stop")
    p.set_defaults(handler=cmd_deliver_emails)

    p = sub.add_parser("worker", help="send email continuously and queue reminders daily")
    p.add_argument("--every", type=float, default=5.0, help="seconds between rounds (default 5)")
    p.set_defaults(handler=cmd_worker)
