"""`audit-portal import-schools | import-organisations | import-intelligence | import-returns`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from tqdm import tqdm

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.cli.errors import CommandError
from audit_portal.config import Settings
from audit_portal.db import create_db_engine, session_scope
from audit_portal.importing import (
    ImportFileError,
    ImportReport,
    import_intelligence,
    import_organisations,
    import_schools,
)
from audit_portal.importing.historical import HistoricalCampaign, import_historical_returns
from audit_portal.questionnaires import load_catalogue


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("import-schools", help="import schools from a GIAS 'all establishments' CSV")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--la",
        action="append",
        required=True,
        metavar="LA NAME",
        help="a local authority to import (repeat for several)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="report what would change, change nothing"
    )
    p.set_defaults(handler=cmd_import_schools)
    for name, helptext, handler in (
        (
            "import-organisations",
            "import partner agencies and early years settings (see docs/imports.md)",
            cmd_import_organisations,
        ),
        (
            "import-intelligence",
            "import intelligence flags (see docs/imports.md)",
            cmd_import_intelligence,
        ),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("file", type=Path)
        p.add_argument(
            "--dry-run", action="store_true", help="report what would change, change nothing"
        )
        p.set_defaults(handler=handler)
    _add_returns_parser(sub)


def _add_returns_parser(sub: Any) -> None:
    p = sub.add_parser(
        "import-returns",
        help="import past years' returns into a closed campaign (see docs/historical-import.md)",
    )
    p.add_argument("file", type=Path, help="CSV or XLSX, one row per organisation per item")
    p.add_argument("--questionnaire", required=True, metavar="KEY")
    p.add_argument("--version", required=True, metavar="V")
    p.add_argument("--campaign-title", required=True, metavar="T")
    p.add_argument(
        "--submitted-on",
        required=True,
        metavar="DATE",
        help="YYYY-MM-DD, for rows without their own submitted_on",
    )
    p.add_argument("--dry-run", action="store_true", help="check the file, import nothing")
    p.set_defaults(handler=cmd_import_returns)


def cmd_import_schools(args: argparse.Namespace, settings: Settings) -> int:
    return _run(
        args,
        settings,
        lambda db, data, ctx, progress: import_schools(db, data, args.la, ctx, progress),
    )


def cmd_import_organisations(args: argparse.Namespace, settings: Settings) -> int:
    return _run(args, settings, import_organisations)


def cmd_import_intelligence(args: argparse.Namespace, settings: Settings) -> int:
    return _run(args, settings, import_intelligence)


def _run(
    args: argparse.Namespace, settings: Settings, importer: Callable[..., ImportReport]
) -> int:

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    engine = create_db_engine(settings)
    bar = tqdm(total=0, unit="row", desc="Importing", leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    report: ImportReport | None = None
    try:
        with session_scope(engine, write=True) as db:
            report = importer(db, data, AuditContext.command_line(), progress)
            if args.dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except ImportFileError as problem:
        raise CommandError(f"{args.file}: {problem} Nothing was imported.") from None
    finally:
        bar.close()
        engine.dispose()
    assert report is not None
    print(("Dry run, nothing changed: " if args.dry_run else "Imported: ") + report.summary())
    for skip in report.skipped:
        print(f"  {skip}")
    return 0


def cmd_import_returns(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when imported (or, with --dry-run, when every row is usable); 1 when rows are bad."""
    try:
        submitted_on = date.fromisoformat(args.submitted_on)
    except ValueError:
        raise CommandError(
            f"--submitted-on {args.submitted_on!r} is not a date (use YYYY-MM-DD)"
        ) from None
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from None
    plan = HistoricalCampaign(args.questionnaire, args.version, args.campaign_title, submitted_on)
    catalogue = load_catalogue(settings.questionnaires_dir)
    engine = create_db_engine(settings)
    bar = tqdm(total=0, unit="return", desc="Importing", leave=False)

    def progress(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    try:
        with session_scope(engine, write=True) as db:
            report = import_historical_returns(
                db, catalogue, data, plan, AuditContext.command_line(), clock.today(), progress
            )
            if args.dry_run and report.imported:
                raise _Rollback
    except _Rollback:
        print(f"Dry run, nothing imported: the file is ready ({report.summary()}).")
        return 0
    except ImportFileError as problem:
        raise CommandError(f"{args.file}: {problem} Nothing was imported.") from None
    finally:
        bar.close()
        engine.dispose()
    if not report.imported:
        print(report.summary())
        for skip in report.problems:
            print(f"  {skip}")
        return 1
    print(
        f"Imported into campaign {report.campaign_id} ‘{args.campaign_title}’: {report.summary()}."
    )
    return 0
