"""How fast the section page and the check-answers page of a 100-item return answer.

A school's respondent opens a standard of the return, and the whole return on "Check your
answers", many times in a sitting. On a scratch database (SQLite or PostgreSQL) it creates one
fully answered 100-item return per client (``bench/questionnaire.py``: the largest questionnaire
made up to 100 items, 13 of them rated less effective with an action), starts the portal
(``audit-portal serve``) and the baseline app (``uvicorn``) as processes, and measures, one
after another:

1. the section page (``GET /returns/{id}/sections/s175.1``), C clients with their own sessions;
2. the check-answers page (``GET /returns/{id}/check``), the same clients;
3. bare GET: the same clients against ``bench/baseline_app.py``, a page of the same questions
   rendered from memory (no session, no database);

and, in this process through the same app, the SQL statements of one request to each page for
a return with 10 answers and one with 100 (they must be the same: no N+1). It prints p50, p95
and p99 with the targets, and exits 0 even when a target is missed. Run from the project root:

    .venv/bin/python -m bench.pages --database sqlite
    .venv/bin/python -m bench.pages --quick            # 2 clients, 100 requests a page
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from sqlalchemy import Engine, create_engine, event, insert, update

from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.config import Settings
from audit_portal.db import create_db_engine
from audit_portal.models import Action, Answer, Return
from bench.autosave import (  # the run's particulars are printed as the autosave bench does
    cpu_model,
    database_version,
    load_average,
    say,
)
from bench.client import FAILURES, Client
from bench.dataset import (
    Respondent,
    SetupFailed,
    migrate,
    populate,
    scratch_database,
)
from bench.entry import run_benchmark
from bench.figures import percentiles
from bench.options import add_run_options
from bench.questionnaire import ITEMS, answer_rows, definition_in, write_questionnaire
from bench.servers import (
    Running,
    baseline_command,
    free_port,
    portal_command,
    portal_environment,
    serving,
)

SECRET_KEY = "pages-benchmark-secret-key-not-for-production-use"  # noqa: S105
SECTION = "s175.1"  # the first standard: 8 of the 100 items
FEW_ANSWERS = 10
P95_TARGET_MS = 50.0  # for the section page
REQUEST_TIMEOUT_S = 30.0
KEEPALIVE_S = 3.0  # under uvicorn's 5 s: never reuse a connection as the server closes it
PAGES = ("section page", "check-answers page", "bare GET")


@dataclass(frozen=True)
class Options:
    database: str
    clients: int
    requests: int  # per page, all clients together
    warmup: int  # unmeasured requests per page, all clients together
    json_path: Path | None
    postgres_url: str
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pages",
        description="Section and check-answers pages of a 100-item return, against a bare GET.",
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=600, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests per page")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 clients, 100 requests")
    add_run_options(parser)
    args = parser.parse_args(argv)
    if min(args.clients, args.requests) < 1 or args.warmup < 0:
        parser.error("--clients and --requests must be 1 or more, --warmup 0 or more")
    return Options(
        database=args.database,
        clients=2 if args.quick else args.clients,
        requests=100 if args.quick else args.requests,
        warmup=10 if args.quick else args.warmup,
        json_path=args.json,
        postgres_url=args.postgres_url,
        logs=args.logs,
    )


# --- figures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageFigures:
    """One page under load: latencies of the measured requests, rate, errors, size."""

    page: str
    requests: int
    per_second: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    errors: dict[str, int]
    kilobytes: float


@dataclass(frozen=True)
class Statements:
    """SQL statements of one request to a page, for a return with 10 and with 100 answers."""

    page: str
    few: int
    many: int

    @property
    def same(self) -> bool:
        return self.few == self.many


@dataclass(frozen=True)
class Check:
    name: str
    target: str
    measured: str
    met: bool


@dataclass
class Results:
    meta: dict[str, str]
    pages: list[PageFigures] = field(default_factory=list)
    statements: list[Statements] = field(default_factory=list)

    def page(self, name: str) -> PageFigures:
        return next(p for p in self.pages if p.page == name)

    def checks(self) -> list[Check]:
        section = self.page("section page")
        found = [
            Check(
                "section page p95",
                f"< {P95_TARGET_MS:.0f} ms",
                _ms(section.p95_ms),
                section.p95_ms is not None and section.p95_ms < P95_TARGET_MS,
            )
        ]
        found += [
            Check(
                f"statements, {s.page}",
                "10 = 100",
                f"{s.few} and {s.many}",
                s.same,
            )
            for s in self.statements
        ]
        errors = sum(sum(p.errors.values()) for p in self.pages)
        found.append(Check("errors", "0", f"{errors:,}", errors == 0))
        return found


# --- one run --------------------------------------------------------------------------------------


def run(options: Options) -> Results:
    """Set everything up, measure each page and the baseline, and take everything down again."""
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pages-")))
        logs = options.logs or temp
        logs.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(scratch_database(options.database, options.postgres_url))
        questionnaires = write_questionnaire(temp / "questionnaires")
        say(f"Creating the schema and {options.clients + 1} answered returns on {options.database}")
        migrate(url)
        respondents = populate(url, options.clients + 1, SECRET_KEY, questionnaires).respondents
        *busy, few = respondents
        answer_returns(url, questionnaires, [(r.return_id, ITEMS) for r in busy])
        answer_returns(url, questionnaires, [(few.return_id, FEW_ANSWERS)])
        say("Counting the SQL statements of each page at 10 and at 100 answers")
        statements = count_statements(url, temp, questionnaires, few, busy[0])
        results = Results(describe_run(options, url), statements=statements)
        say("Starting the portal (audit-portal serve) and the baseline app (uvicorn)")
        portal, baseline = _start_servers(stack, url, temp, logs, questionnaires)
        for name, server, path in (
            ("section page", portal, f"sections/{SECTION}"),
            ("check-answers page", portal, "check"),
            ("bare GET", baseline, f"sections/{SECTION}"),
        ):
            say(f"{name}: {options.warmup} + {options.requests} requests from {len(busy)} clients")
            results.pages.append(uvloop.run(measure_page(name, server, path, busy, options)))
        results.meta["load"] += f", {load_average()} after"
    return results


def answer_returns(url: str, questionnaires: Path, returns: Sequence[tuple[int, int]]) -> None:
    """Answer each (return, how many items) and mark the returns in progress, in bulk."""
    definition = definition_in(questionnaires)
    answers: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for return_id, count in returns:
        made, needed = answer_rows(definition, return_id, count)
        answers += made
        actions += needed
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Answer), answers)
            if actions:
                conn.execute(insert(Action), actions)
            ids = [r for r, _ in returns]
            conn.execute(
                update(Return).where(Return.id.in_(ids)).values(status="in_progress")  # type: ignore[union-attr]
            )
    finally:
        engine.dispose()


def _start_servers(
    stack: ExitStack, url: str, temp: Path, logs: Path, questionnaires: Path
) -> tuple[Running, Running]:
    port = free_port()
    env = portal_environment(url, SECRET_KEY, temp / "var", port)
    env["QUESTIONNAIRES_DIR"] = str(questionnaires)
    portal = stack.enter_context(serving("portal", portal_command(port), env, port, logs))
    port = free_port()
    baseline = stack.enter_context(
        serving("baseline-app", baseline_command(port), os.environ, port, logs)
    )
    return portal, baseline


# --- statements per request -----------------------------------------------------------------------


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` runs meanwhile (transaction control left out)."""
    found: list[str] = []

    def on_execute(*args: Any) -> None:  # conn, cursor, statement, parameters, context, many
        statement: str = args[2]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            found.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def count_statements(
    url: str, temp: Path, questionnaires: Path, few: Respondent, many: Respondent
) -> list[Statements]:
    """One GET of each page, through the portal's own app in this process, per return."""
    from starlette.testclient import TestClient  # only here: it needs the test extras

    from audit_portal.web.app import create_app

    settings = Settings.from_env(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "AUDIT_PORTAL_VAR_DIR": str(temp / "var-in-process"),
            "QUESTIONNAIRES_DIR": str(questionnaires),
            "EMBEDDED_WORKER": "false",
        }
    )
    engine = create_db_engine(settings)
    paths = {
        "section page": f"sections/{SECTION}",
        "check-answers page": "check",
        "return overview": "",
    }
    seen: dict[tuple[str, int], int] = {}
    try:
        with warnings.catch_warnings(), TestClient(create_app(settings, engine=engine)) as client:
            warnings.simplefilter("ignore", DeprecationWarning)
            for respondent in (few, many):
                client.cookies.set(COOKIE_NAME, respondent.session_token)
                for name, path in paths.items():
                    page = f"/returns/{respondent.return_id}/{path}".rstrip("/")
                    client.get(page)  # the session is touched and the lock checked once
                    with counted(engine) as statements:
                        status = client.get(page).status_code
                    if status != 200:
                        raise SetupFailed(f"GET {page} answered {status} in this process")
                    seen[name, respondent.return_id] = len(statements)
    finally:
        engine.dispose()
    return [
        Statements(name, seen[name, few.return_id], seen[name, many.return_id]) for name in paths
    ]


# --- load -----------------------------------------------------------------------------------------


async def measure_page(
    name: str, server: Running, path: str, respondents: Sequence[Respondent], options: Options
) -> PageFigures:
    """Each client GETs its own return's page one request after another.

    One ``bench.client`` (aiohttp) with a connection per respondent: httpx cost about a
    millisecond a page, on the two cores the portal uses, and the latency included it.
    """
    client = Client(timeout_s=REQUEST_TIMEOUT_S, keepalive_s=KEEPALIVE_S, most=len(respondents))
    cookies = [{"Cookie": f"{COOKIE_NAME}={r.session_token}"} for r in respondents]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sizes: list[int] = []

    async def one(n: int, url: str, count: int, measured: bool) -> None:
        for _ in range(count):
            started = time.perf_counter()
            try:
                response = await client.get(server.base_url + url, cookies[n])
            except FAILURES as problem:  # refused, broken, no answer in time
                errors[type(problem).__name__] += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                errors[f"HTTP {response.status_code}"] += 1
            elif measured:
                latencies.append(elapsed)
                sizes.append(len(response.body))

    def share(total: int, n: int) -> int:
        return total // len(respondents) + (1 if n < total % len(respondents) else 0)

    urls = [f"/returns/{r.return_id}/{path}" for r in respondents]
    try:
        await asyncio.gather(
            *(one(n, u, share(options.warmup, n), False) for n, u in enumerate(urls))
        )
        started = time.perf_counter()
        await asyncio.gather(
            *(one(n, u, share(options.requests, n), True) for n, u in enumerate(urls))
        )
        elapsed = time.perf_counter() - started
    finally:
        await client.close()
    p50, p95, p99 = percentiles(latencies)
    return PageFigures(
        page=name,
        requests=len(latencies),
        per_second=len(latencies) / elapsed if elapsed else 0.0,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        errors=dict(errors.most_common()),
        kilobytes=(sum(sizes) / len(sizes) / 1024) if sizes else 0.0,
    )


# --- the report -----------------------------------------------------------------------------------


def describe_run(options: Options, url: str) -> dict[str, str]:
    return {
        "database": options.database,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "server": database_version(options.database, url),
        "return": f"{ITEMS} items, all answered (section-175-schools 2025.1 made up to {ITEMS})",
        "requests": f"{options.requests:,} per page from {options.clients} clients, "
        f"after {options.warmup:,} unmeasured",
        "load": f"1-minute load average {load_average()} before the phases",
        "command": shlex.join([".venv/bin/python", "-m", "bench.pages", *sys.argv[1:]]),
    }


def render(results: Results) -> str:
    meta = results.meta
    lines = [f"Pages benchmark on {meta['database']}", ""]
    lines += [
        f"  {key:<10} {meta[key]}"
        for key in ("date", "machine", "python", "server", "return", "requests", "load", "command")
    ]
    marks = {c.name: ("met" if c.met else "MISSED", c.target) for c in results.checks()}
    bare = results.page("bare GET")
    rows: list[tuple[str, str, str]] = []
    for figures in results.pages:
        rows.append(
            (
                f"{figures.page} p50 / p95 / p99",
                _latencies(figures),
                "section page p95" if figures.page == "section page" else "",
            )
        )
    for figures in results.pages:
        ratio = (
            f"  (p95 {figures.p95_ms / bare.p95_ms:.1f} × bare GET)"
            if figures is not bare and figures.p95_ms and bare.p95_ms
            else ""
        )
        rows.append(
            (
                f"{figures.page} requests/s",
                f"{figures.per_second:,.1f}  ({figures.kilobytes:,.0f} kB a page){ratio}",
                "",
            )
        )
    rows += [
        (
            f"statements, {s.page}",
            f"{s.few} at 10 answers, {s.many} at 100",
            f"statements, {s.page}",
        )
        for s in results.statements
    ]
    errors = {k: n for p in results.pages for k, n in p.errors.items()}
    total = sum(p.requests for p in results.pages) + sum(errors.values())
    kinds = ", ".join(f"{k} × {n:,}" for k, n in errors.items())
    rows.append(
        (
            "errors",
            f"{sum(errors.values()):,} of {total:,}" + (f" ({kinds})" if kinds else ""),
            "errors",
        )
    )
    lines += ["", f"  {'figure':<34} {'measured':<46} {'target':<10} result"]
    for label, measured, check in rows:
        mark, target = marks.get(check, ("", ""))
        lines.append(f"  {label:<34} {measured:<46} {target:<10} {mark}".rstrip())
    missed = [c.name for c in results.checks() if not c.met]
    lines += [
        "",
        "RESULT: every target met."
        if not missed
        else f"RESULT: MISSED {len(missed)} target(s): " + "; ".join(missed) + ".",
    ]
    return "\n".join(lines)


def as_json(results: Results) -> dict[str, Any]:
    return {
        "benchmark": "pages",
        **results.meta,
        "targets": {"section_page_p95_ms_below": P95_TARGET_MS, "statements": "10 = 100"},
        "pages": [asdict(p) for p in results.pages],
        "statements": [{**asdict(s), "same": s.same} for s in results.statements],
        "checks": [asdict(c) for c in results.checks()],
        "all_targets_met": all(c.met for c in results.checks()),
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def _latencies(figures: PageFigures) -> str:
    values = (figures.p50_ms, figures.p95_ms, figures.p99_ms)
    if values[0] is None:
        return "no responses"
    return " / ".join(f"{v:,.1f}" for v in values if v is not None) + " ms"


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark("pages", options.json_path, lambda: run(options), render, as_json)


if __name__ == "__main__":
    sys.exit(main())
