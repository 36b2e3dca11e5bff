"""`audit-portal backup DEST` and `audit-portal restore SRC` (see ``audit_portal.backup``).

On SQLite both do the work themselves. On PostgreSQL they print the ``pg_dump`` / ``pg_restore``
commands to run instead (and exit 2): PostgreSQL's own tools are the reliable way to copy it,
and the operator runs them with the credentials and the client version that match the server.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from audit_portal import backup, clock
from audit_portal.cli.errors import CommandError
from audit_portal.config import Settings
from audit_portal.wording import clock_time, long_date


def say(text: str) -> None:
    print(text, flush=True)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    destination = Path(args.destination).expanduser().resolve()
    if not settings.is_sqlite:
        return _use_postgresql_tools(
            "back up", backup.postgresql_backup_commands(settings, destination)
        )
    started = time.monotonic()
    try:
        manifest = backup.back_up(settings, destination, say)
    except backup.BackupError as problem:
        raise CommandError(str(problem)) from None
    rows = sum(manifest.counts.values())
    print(
        f"Backed up to {destination} in {time.monotonic() - started:.1f} s: {rows:,} rows in "
        f"{len(manifest.counts)} tables (schema {', '.join(manifest.schema_revision) or 'none'}), "
        f"{len(manifest.evidence_files):,} evidence files. Checksums are in "
        f"{backup.MANIFEST_FILE}."
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from audit_portal.db import create_db_engine, schema_status

    source = Path(args.source).expanduser().resolve()
    if not settings.is_sqlite:
        return _use_postgresql_tools(
            "restore", backup.postgresql_restore_commands(settings, source)
        )
    try:
        manifest = backup.restore(settings, source, force=args.force, say=say)
    except backup.BackupError as refused:
        raise CommandError(str(refused)) from None
    print(
        f"Restored the backup made {_when(manifest.created_at)}: {sum(manifest.counts.values()):,} "
        f"rows and {len(manifest.evidence_files):,} evidence files, every count as in the "
        "manifest."
    )
    engine = create_db_engine(settings)
    try:
        problem = schema_status(engine, settings.database_url).problem()
    finally:
        engine.dispose()
    if problem:
        print(problem)
    return 0


def _when(moment: str) -> str:
    """'4 December 2026 at 8:21am' for the manifest's ISO moment, as people in England read it."""
    local = clock.local(datetime.fromisoformat(moment))
    return f"{long_date(local.date())} at {clock_time(local)}"


def _use_postgresql_tools(what: str, commands: list[str]) -> int:
    print(
        f"audit-portal: this portal runs on PostgreSQL: {what} it with PostgreSQL's own tools "
        "and copy the evidence directory (see docs/operations.md):",
        file=sys.stderr,
    )
    for command in commands:
        print(f"  {command}", file=sys.stderr)
    return 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "backup", help="copy the database (SQLite) and the evidence files, with checksums"
    )
    p.add_argument("destination", metavar="DEST", help="a new (or empty) directory")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup into a fresh install (SQLite)")
    p.add_argument("source", metavar="SRC", help="a directory made by `audit-portal backup`")
    p.add_argument(
        "--force", action="store_true", help="replace the database even if it already has data"
    )
    p.set_defaults(handler=cmd_restore)
