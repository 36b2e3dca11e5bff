"""`audit-portal retention [--dry-run]`: apply the retention policy (``audit_portal.retention``).

Safe to run from cron: a second run the same day finds nothing more to do. Each real run is
one ``retention.run`` event in the audit trail.
"""

from __future__ import annotations

import argparse
from typing import Any

from audit_portal.config import Settings


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from audit_portal.audit import AuditContext
    from audit_portal.db import create_db_engine
    from audit_portal.retention.run import run_retention

    engine = create_db_engine(settings)
    try:
        run = run_retention(engine, settings, AuditContext.command_line(), dry_run=args.dry_run)
    finally:
        engine.dispose()
    if args.dry_run:
        print("Dry run: nothing is changed.")
    for line in run.report():
        print(line)
    if not args.dry_run:
        print("Recorded in the audit trail (retention.run).")
    return 1 if run.problems else 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "retention", help="delete or anonymise what the retention policy says is past its time"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    p.set_defaults(handler=cmd_retention)
