"""How long a national campaign's report takes, against the raw GROUP BY on the same database.

On a scratch database (SQLite or PostgreSQL) it opens one campaign of the 100-item
questionnaire (``bench/questionnaire.py``) and bulk-inserts organisations, returns, submissions
and their typed answer rows (``bench/report_data.py``): first a tenth of ``--organisations``,
then the rest, measuring at both sizes. At each size, in turns, several times:

1. ``campaign_report(...)``, the domain function the report page calls, in this process, with
   the portal's own engine set-up, one session per call as a request has;
2. the report page, ``GET /campaigns/{id}/report``, through ``audit-portal serve`` as a
   quality assurance reader;
3. the raw SQL: one hand-written ``GROUP BY`` giving every item's answers by rating over the
   latest submission of each submitted or accepted return, and one giving the invited returns
   by kind, sector, phase, district and status: the same aggregates, nothing else.

It prints the medians, the ratios to the raw SQL, and the statements ``campaign_report`` runs at
each size (they must not grow with the number of organisations), and checks that the report's
counts are the raw SQL's. It exits 0 even when a target is missed. Run from the project root:

    .venv/bin/python -m bench.report --database postgresql                # 25,000 organisations
    .venv/bin/python -m bench.report --quick                              # 2,000, on SQLite
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session

from audit_portal import clock
from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.config import Settings
from audit_portal.db import create_db_engine
from audit_portal.models import Campaign
from audit_portal.questionnaires import load_catalogue
from audit_portal.reports.campaign_report import CampaignReport, campaign_report
from audit_portal.reports.queries import ReportFilters
from bench.autosave import (  # the run's particulars are printed as the autosave bench does
    cpu_model,
    database_version,
    load_average,
    say,
)
from bench.dataset import SetupFailed, migrate, scratch_database
from bench.entry import run_benchmark
from bench.options import add_run_options
from bench.pages import counted
from bench.questionnaire import ITEMS, write_questionnaire
from bench.report_data import Reader, add_organisations, create_campaign
from bench.servers import (
    Running,
    free_port,
    portal_command,
    portal_environment,
    serving,
)

SECRET_KEY = "report-benchmark-secret-key-not-for-production-use"  # noqa: S105
RATIO_TARGET = 1.5
REQUEST_TIMEOUT_S = 600.0

RAW_ITEMS = """
WITH latest AS (SELECT return_id, max(revision) AS revision FROM submission GROUP BY return_id)
SELECT sa.item_id, sa.rating, sa.not_applicable, sa.less_effective, count(*)
FROM submitted_answer sa
JOIN submission s ON s.id = sa.submission_id
JOIN latest ON latest.return_id = s.return_id AND latest.revision = s.revision
JOIN audit_return r ON r.id = s.return_id
WHERE sa.campaign_id = :campaign AND r.campaign_id = :campaign
  AND r.status IN ('submitted', 'accepted')
GROUP BY sa.item_id, sa.rating, sa.not_applicable, sa.less_effective
"""
RAW_RESPONSE = """
SELECT o.kind, o.sector, o.phase, o.district, r.status, count(*)
FROM audit_return r JOIN organisation o ON o.id = r.organisation_id
WHERE r.campaign_id = :campaign
GROUP BY o.kind, o.sector, o.phase, o.district, r.status
"""


@dataclass(frozen=True)
class Options:
    database: str
    organisations: int
    repeats: int
    json_path: Path | None
    postgres_url: str
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.report",
        description="A campaign report over many returns, against the raw GROUP BY.",
    )
    parser.add_argument("--organisations", type=int, default=25_000, help="the full size")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each, per size")
    parser.add_argument("--quick", action="store_true", help="2,000 organisations, 3 repeats")
    add_run_options(parser)
    args = parser.parse_args(argv)
    if args.organisations < 20 or args.repeats < 1:
        parser.error("--organisations must be 20 or more and --repeats 1 or more")
    return Options(
        database=args.database,
        organisations=2_000 if args.quick else args.organisations,
        repeats=3 if args.quick else args.repeats,
        json_path=args.json,
        postgres_url=args.postgres_url,
        logs=args.logs,
    )


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """Everything measured with ``organisations`` invited."""

    organisations: int
    submissions: int  # frozen submissions, older revisions included
    answers: int  # typed answer rows, older revisions included
    raw_s: float  # medians, in seconds
    report_s: float
    page_s: float
    statements: int  # run by one campaign_report call
    same_counts: bool  # the report's item counts are the raw SQL's

    @property
    def report_ratio(self) -> float:
        return self.report_s / self.raw_s if self.raw_s else 0.0

    @property
    def page_ratio(self) -> float:
        return self.page_s / self.raw_s if self.raw_s else 0.0


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    measured: str
    met: bool


def checks(sizes: Sequence[Size]) -> list[Check]:
    """The ratio target is for the full size: at a tenth, the report's fixed work (a hundred
    items' tables and shares, a few small queries) weighs more than the GROUP BY's."""
    full = sizes[-1]
    found = [
        Check(
            f"report ÷ raw GROUP BY at {full.organisations:,}",
            f"≤ {RATIO_TARGET}",
            f"{full.report_ratio:.2f}",
            full.report_ratio <= RATIO_TARGET,
        )
    ]
    counts = [s.statements for s in sizes]
    found.append(
        Check(
            "statements at each size",
            "the same",
            " and ".join(str(n) for n in counts),
            len(set(counts)) == 1,
        )
    )
    found.append(
        Check(
            "report counts = raw counts",
            "yes",
            "yes" if all(s.same_counts for s in sizes) else "no",
            all(s.same_counts for s in sizes),
        )
    )
    return found


# --- one run ------------------------------------------------------------------------------------


def run(options: Options) -> tuple[dict[str, str], list[Size]]:
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-report-")))
        logs = options.logs or temp
        logs.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(scratch_database(options.database, options.postgres_url))
        questionnaires = write_questionnaire(temp / "questionnaires")
        say(f"Creating the schema on {options.database}")
        migrate(url)
        settings = in_process_settings(url, temp, questionnaires)
        engine = create_db_engine(settings)
        stack.callback(engine.dispose)
        campaign_id, reader = create_campaign(engine, questionnaires)
        port = free_port()
        env = portal_environment(url, SECRET_KEY, temp / "var", port)
        env["QUESTIONNAIRES_DIR"] = str(questionnaires)
        portal = stack.enter_context(serving("portal", portal_command(port), env, port, logs))
        meta = describe_run(options, url)
        small = max(10, options.organisations // 10)
        sizes, done, submissions, answers = [], 0, 0, 0
        for size in (small, options.organisations):
            say(f"Adding {size - done:,} organisations with their returns and answers")
            added = add_organisations(engine, questionnaires, campaign_id, done, size - done)
            done, submissions, answers = (
                size,
                submissions + added.submissions,
                answers + added.answers,
            )
            say(f"Measuring at {size:,} organisations, {options.repeats} times each")
            sizes.append(
                measure(
                    options,
                    settings,
                    engine,
                    campaign_id,
                    portal,
                    reader,
                    size,
                    submissions,
                    answers,
                )
            )
        meta["load"] += f", {load_average()} after"
    return meta, sizes


def in_process_settings(url: str, temp: Path, questionnaires: Path) -> Settings:
    """The portal's settings for work done in the benchmark's own process (no embedded worker),
    on the database and questionnaires the served portal uses."""
    return Settings.from_env(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "AUDIT_PORTAL_VAR_DIR": str(temp / "var-in-process"),
            "QUESTIONNAIRES_DIR": str(questionnaires),
            "EMBEDDED_WORKER": "false",
        }
    )


def measure(
    options: Options,
    settings: Settings,
    engine: Engine,
    campaign_id: int,
    portal: Running,
    reader: Reader,
    organisations: int,
    submissions: int,
    answers: int,
) -> Size:
    """Raw SQL, the domain function and the page, in turns, ``repeats`` times each."""
    catalogue = load_catalogue(settings.questionnaires_dir)
    today, threshold = clock.today(), settings.report_suppression_threshold

    def raw() -> list[Any]:
        with engine.connect() as conn:
            rows = list(conn.execute(text(RAW_ITEMS), {"campaign": campaign_id}).all())
            conn.execute(text(RAW_RESPONSE), {"campaign": campaign_id}).all()
        return rows

    def report() -> CampaignReport:
        with Session(engine) as db:
            campaign = db.get(Campaign, campaign_id)
            assert campaign is not None
            return campaign_report(db, catalogue, campaign, ReportFilters(), today, threshold)

    client = httpx.Client(
        base_url=portal.base_url,
        cookies={COOKIE_NAME: reader.session_token},
        timeout=REQUEST_TIMEOUT_S,
    )

    def page() -> None:
        response = client.get(f"/campaigns/{campaign_id}/report")
        if response.status_code != 200 or "Report:" not in response.text:
            raise SetupFailed(f"the report page answered {response.status_code}")

    timings: dict[str, list[float]] = {"raw": [], "report": [], "page": []}
    try:
        for warm in (raw, report, page):  # caches, connections, the lock check
            warm()
        for _ in range(options.repeats):
            for name, work in (("raw", raw), ("report", report), ("page", page)):
                timings[name].append(timed(work))
    finally:
        client.close()
    with counted(engine) as statements:
        made = report()
    return Size(
        organisations=organisations,
        submissions=submissions,
        answers=answers,
        raw_s=statistics.median(timings["raw"]),
        report_s=statistics.median(timings["report"]),
        page_s=statistics.median(timings["page"]),
        statements=len(statements),
        same_counts=_same_counts(made, raw()),
    )


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _same_counts(report: CampaignReport, rows: Sequence[Any]) -> bool:
    """Each item's number rated and not applicable, as the report has them and the raw SQL."""
    rated: dict[str, int] = {}
    not_applicable: dict[str, int] = {}
    for item_id, rating, na, _, n in rows:
        if na:
            not_applicable[item_id] = not_applicable.get(item_id, 0) + n
        elif rating is not None:
            rated[item_id] = rated.get(item_id, 0) + n
    return bool(report.item_rows) and all(
        r.rated == rated.get(r.item_id, 0) and r.not_applicable == not_applicable.get(r.item_id, 0)
        for r in report.item_rows
    )


# --- the report -----------------------------------------------------------------------------------


def describe_run(options: Options, url: str) -> dict[str, str]:
    return {
        "database": options.database,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "server": database_version(options.database, url),
        "campaign": f"one campaign of a {ITEMS}-item questionnaire; medians of "
        f"{options.repeats} timed runs of each figure",
        "load": f"1-minute load average {load_average()} before the data",
        "command": shlex.join([".venv/bin/python", "-m", "bench.report", *sys.argv[1:]]),
    }


def render(meta: dict[str, str], sizes: Sequence[Size]) -> str:
    lines = [f"Campaign report benchmark on {meta['database']}", ""]
    lines += [
        f"  {key:<10} {meta[key]}"
        for key in ("date", "machine", "python", "server", "campaign", "load", "command")
    ]
    marks = {c.name: ("met" if c.met else "MISSED", c.target) for c in checks(sizes)}
    for s in sizes:
        rows = [
            ("typed answer rows", f"{s.answers:,} ({s.submissions:,} submissions)", ""),
            ("raw GROUP BY", milliseconds(s.raw_s), ""),
            (
                "campaign_report(...)",
                f"{milliseconds(s.report_s)}  ({s.report_ratio:.2f} × raw)",
                f"report ÷ raw GROUP BY at {s.organisations:,}",
            ),
            (
                "GET /campaigns/{id}/report",
                f"{milliseconds(s.page_s)}  ({s.page_ratio:.2f} × raw)",
                "",
            ),
            ("statements, campaign_report", f"{s.statements}", ""),
        ]
        lines += [
            "",
            f"{s.organisations:,} organisations",
            f"  {'figure':<30} {'measured':<40} {'target':<10} result",
        ]
        for label, measured, check in rows:
            mark, target = marks.get(check, ("", ""))
            lines.append(f"  {label:<30} {measured:<40} {target:<10} {mark}".rstrip())
    lines.append("")
    for c in checks(sizes)[-2:]:
        lines.append(
            f"  {c.name:<30} {c.measured:<40} {c.target:<10} {'met' if c.met else 'MISSED'}"
        )
    missed = [c.name for c in checks(sizes) if not c.met]
    lines += [
        "",
        "RESULT: every target met."
        if not missed
        else f"RESULT: MISSED {len(missed)} target(s): " + "; ".join(missed) + ".",
    ]
    return "\n".join(lines)


def as_json(meta: dict[str, str], sizes: Sequence[Size]) -> dict[str, Any]:
    return {
        "benchmark": "report",
        **meta,
        "targets": {"report_to_raw_at_most": RATIO_TARGET, "statements": "the same at each size"},
        "sizes": [
            {**asdict(s), "report_ratio": s.report_ratio, "page_ratio": s.page_ratio} for s in sizes
        ],
        "checks": [asdict(c) for c in checks(sizes)],
        "all_targets_met": all(c.met for c in checks(sizes)),
    }


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark(
        "report",
        options.json_path,
        lambda: run(options),
        lambda found: render(*found),
        lambda found: as_json(*found),
    )


if __name__ == "__main__":
    sys.exit(main())
