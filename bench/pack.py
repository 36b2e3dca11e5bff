"""How long the scrutineer's pack of a national campaign takes, and whether the portal stays
responsive while many are made.

On a scratch database (SQLite or PostgreSQL) it builds the national campaign of
``bench/report.py`` (one campaign of the 100-item questionnaire, ``--organisations`` schools with
their returns, submissions and typed answer rows, bulk-inserted) and starts the portal with
``audit-portal serve``. Then, in turns, several times each:

(a) the raw report query: ``bench/report.py``'s two hand-written GROUP BY statements;
(b) the raw reportlab build: a PDF of the pack's shape (``bench/pack_document.py``): the same
    headings, tables, rows and charts, from plain data in memory, with reportlab alone;
(c) the pack: ``GET /campaigns/{id}/report.pdf`` through the running portal, as a quality
    assurance reader.

Target: (c) within (a) + 1.3 times (b). Then the event loop: a probe requests ``/healthz`` every
10 ms, first with nothing else to do, then while ``--concurrent`` (20) packs are requested at
once; the target is a p99 under 50 ms while the packs are made. It exits 0 even when a target is
missed. Run from the project root:

    .venv/bin/python -m bench.pack --database postgresql               # 25,000 organisations
    .venv/bin/python -m bench.pack --quick                             # 2,000, on SQLite
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader
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
from bench.autosave import cpu_model, database_version, load_average, say
from bench.dataset import SetupFailed, migrate, scratch_database
from bench.entry import run_benchmark
from bench.figures import percentiles
from bench.options import add_run_options
from bench.pack_document import Bars, Grid, outline, raw_pdf
from bench.questionnaire import ITEMS, write_questionnaire
from bench.report import (
    RAW_ITEMS,
    RAW_RESPONSE,
    SECRET_KEY,
    Check,
    in_process_settings,
    milliseconds,
    timed,
)
from bench.report_data import Reader, add_organisations, create_campaign
from bench.servers import (
    Running,
    cpu_seconds,
    free_port,
    log_offset,
    peak_rss_mb,
    portal_command,
    portal_environment,
    problems_since,
    serving,
)

BUILD_RATIO = 1.3  # the pack within the raw query + 1.3 x the raw reportlab build
LAG_P99_MS = 50.0
REQUEST_TIMEOUT_S = 900.0
PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Options:
    database: str
    organisations: int
    repeats: int
    concurrent: int
    probe_ms: float
    idle_seconds: float
    json_path: Path | None
    postgres_url: str
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pack",
        description="The scrutineer's pack of a national campaign, against raw SQL and reportlab.",
    )
    parser.add_argument("--organisations", type=int, default=25_000)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each figure")
    parser.add_argument("--concurrent", type=int, default=20, help="packs requested at once")
    parser.add_argument("--probe-ms", type=float, default=10.0, help="between /healthz probes")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="of the idle probe")
    parser.add_argument("--quick", action="store_true", help="2,000 organisations, 3 repeats")
    add_run_options(parser)
    args = parser.parse_args(argv)
    if args.organisations < 20 or args.repeats < 1 or args.concurrent < 1 or args.probe_ms <= 0:
        parser.error("--organisations must be 20 or more, --repeats and --concurrent 1 or more")
    return Options(
        database=args.database,
        organisations=2_000 if args.quick else args.organisations,
        repeats=3 if args.quick else args.repeats,
        concurrent=args.concurrent,
        probe_ms=args.probe_ms,
        idle_seconds=args.idle_seconds,
        json_path=args.json,
        postgres_url=args.postgres_url,
        logs=args.logs,
    )


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """``/healthz`` answers over a spell: their latency, in milliseconds."""

    answered: int
    failed: int  # not 200, or no answer within PROBE_TIMEOUT_S
    p50_ms: float
    p99_ms: float  # of the probes' own latencies, as a loop-lag monitor counts a stall: once
    held_p99_ms: float  # also counting the probes a slow one held up (see ``with_missed``)
    max_ms: float


@dataclass(frozen=True)
class Crowd:
    """The packs requested at once, and the portal meanwhile."""

    sent: int
    built: int  # 200 with a PDF
    refused: int  # 503s (no turn within MAX_WAIT_MS), each asked again after Retry-After
    failed: int  # anything else, or no answer
    p50_s: float  # of the packs built, from the moment all were sent
    max_s: float
    wall_s: float  # from sending the first to the last answer
    portal_cpu_pct: float | None  # the portal and its builder, % of one core over wall_s
    probe: Probe


@dataclass(frozen=True)
class Figures:
    organisations: int
    submissions: int
    answers: int
    raw_query_s: float  # (a), medians of the repeats
    raw_build_s: float  # (b)
    pack_s: float  # (c)
    raw_build_cpu_s: float  # CPU time of (b), this process
    pack_cpu_s: float | None  # CPU time of (c): the portal and its builder (SQLite's queries too)
    pack_pages: int
    raw_pages: int
    pack_kb: float
    raw_kb: float
    tables: int  # in the baseline, as in the pack
    table_rows: int
    charts: int
    idle: Probe
    crowd: Crowd
    peak_mb: float | None  # the portal process's peak resident memory (VmHWM)
    children_peak_mb: float | None  # its child processes' (the PDF builder), added up
    problems: int  # exception lines in the portal's stderr during the run

    @property
    def budget_s(self) -> float:
        return self.raw_query_s + BUILD_RATIO * self.raw_build_s


def checks(f: Figures) -> list[Check]:
    return [
        Check(
            "pack within raw query + 1.3 × raw build",
            f"≤ {milliseconds(f.budget_s)}",
            milliseconds(f.pack_s),
            f.pack_s <= f.budget_s,
        ),
        Check(
            f"/healthz p99 while {f.crowd.sent} packs are made",
            f"< {LAG_P99_MS:.0f} ms",
            f"{f.crowd.probe.p99_ms:,.0f} ms",
            f.crowd.probe.p99_ms < LAG_P99_MS and not f.crowd.probe.failed,
        ),
        Check(
            "packs requested at once, made",
            f"{f.crowd.sent} of {f.crowd.sent}",
            f"{f.crowd.built} of {f.crowd.sent}",
            f.crowd.built == f.crowd.sent,
        ),
    ]


# --- one run ------------------------------------------------------------------------------------


def run(options: Options) -> tuple[dict[str, str], Figures]:
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-pack-")))
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
        say(f"Adding {options.organisations:,} organisations with their returns and answers")
        added = add_organisations(engine, questionnaires, campaign_id, 0, options.organisations)
        figures = measure(
            options,
            settings,
            engine,
            campaign_id,
            portal,
            reader,
            (options.organisations, added.submissions, added.answers),
        )
        meta["load"] += f", {load_average()} after"
    return meta, figures


def measure(
    options: Options,
    settings: Settings,
    engine: Engine,
    campaign_id: int,
    portal: Running,
    reader: Reader,
    size: tuple[int, int, int],
) -> Figures:
    errors_from = log_offset(portal.stderr)
    shape = outline(_report(settings, engine, campaign_id), settings.partnership_name)
    path = f"/campaigns/{campaign_id}/report.pdf"
    made: dict[str, bytes] = {}

    def raw_query() -> None:
        with engine.connect() as conn:
            conn.execute(text(RAW_ITEMS), {"campaign": campaign_id}).all()
            conn.execute(text(RAW_RESPONSE), {"campaign": campaign_id}).all()

    def raw_build() -> None:
        made["raw"] = raw_pdf(shape)

    client = httpx.Client(
        base_url=portal.base_url,
        cookies={COOKIE_NAME: reader.session_token},
        timeout=REQUEST_TIMEOUT_S,
    )

    def pack() -> None:
        made["pack"] = _pdf(client.get(path))

    work = (("raw query", raw_query), ("raw build", raw_build), ("pack", pack))
    timings: dict[str, list[float]] = {name: [] for name, _ in work}
    # CPU seconds of the raw build (this process) and of the pack (the portal and its PDF
    # builder process, from /proc)
    clocks: dict[str, Callable[[], float | None]] = {
        "raw build": time.process_time,
        "pack": lambda: _tree_cpu_seconds(portal.pid),
    }
    cpu: dict[str, list[float]] = {name: [] for name in clocks}
    say(f"Timing the raw query, the raw build and the pack, {options.repeats} times each")
    try:
        for _, warm in work:  # caches, connections, fonts
            warm()
        for _ in range(options.repeats):
            for name, step in work:
                clock = clocks.get(name, lambda: None)
                before = clock()
                timings[name].append(timed(step))
                after = clock()
                if before is not None and after is not None:
                    cpu[name].append(after - before)
    finally:
        client.close()
    say("Probing /healthz idle, then while the packs are requested at once")
    idle, crowd = asyncio.run(_crowd(options, portal, reader, path))
    organisations, submissions, answers = size
    return Figures(
        organisations=organisations,
        submissions=submissions,
        answers=answers,
        raw_query_s=statistics.median(timings["raw query"]),
        raw_build_s=statistics.median(timings["raw build"]),
        pack_s=statistics.median(timings["pack"]),
        raw_build_cpu_s=statistics.median(cpu["raw build"]),
        pack_cpu_s=statistics.median(cpu["pack"]) if cpu["pack"] else None,
        pack_pages=_pages(made["pack"]),
        raw_pages=_pages(made["raw"]),
        pack_kb=len(made["pack"]) / 1000,
        raw_kb=len(made["raw"]) / 1000,
        tables=shape.count(Grid),
        table_rows=shape.table_rows,
        charts=shape.count(Bars),
        idle=idle,
        crowd=crowd,
        peak_mb=peak_rss_mb(portal.pid),
        children_peak_mb=_children_peak_mb(portal.pid),
        problems=sum(problems_since(portal.stderr, errors_from).values()),
    )


def _report(settings: Settings, engine: Engine, campaign_id: int) -> CampaignReport:
    """The report the pack prints, made here once to give the baseline its content."""
    catalogue = load_catalogue(settings.questionnaires_dir)
    with Session(engine) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign_report(
            db,
            catalogue,
            campaign,
            ReportFilters(),
            clock.today(),
            settings.report_suppression_threshold,
        )


def _children(pid: int) -> list[int]:
    """The process ids of ``pid``'s child processes (the portal's PDF builder); none without
    /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])  # field 4, the ppid
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def _children_peak_mb(pid: int) -> float | None:
    """The peak resident memory of ``pid``'s child processes, added up."""
    peaks = [p for child in _children(pid) if (p := peak_rss_mb(child)) is not None]
    return sum(peaks) if peaks else None


def _tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by ``pid`` and its child processes that are still running."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    return own + sum(cpu_seconds(child) or 0.0 for child in _children(pid))


def _pdf(response: httpx.Response) -> bytes:
    if response.status_code != 200 or not response.content.startswith(b"%PDF"):
        raise SetupFailed(f"the pack answered {response.status_code}: {response.text[:200]}")
    return response.content


def _pages(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


# --- the event loop under a crowd of packs --------------------------------------------------------


async def _crowd(
    options: Options, portal: Running, reader: Reader, path: str
) -> tuple[Probe, Crowd]:
    """The probe alone for ``idle_seconds``, then with ``concurrent`` packs in flight."""
    interval = options.probe_ms / 1000
    async with (
        httpx.AsyncClient(base_url=portal.base_url, timeout=PROBE_TIMEOUT_S) as prober,
        httpx.AsyncClient(
            base_url=portal.base_url,
            cookies={COOKIE_NAME: reader.session_token},
            timeout=REQUEST_TIMEOUT_S,
            limits=httpx.Limits(max_connections=options.concurrent),
        ) as downloads,
    ):
        stop = asyncio.Event()
        probing = asyncio.create_task(_probe(prober, interval, stop))
        await asyncio.sleep(options.idle_seconds)
        stop.set()
        idle = await probing

        stop = asyncio.Event()
        probing = asyncio.create_task(_probe(prober, interval, stop))
        cpu_before, started = _tree_cpu_seconds(portal.pid), time.perf_counter()
        answers = await asyncio.gather(
            *(_download(downloads, path, started) for _ in range(options.concurrent))
        )
        wall = time.perf_counter() - started
        cpu_after = _tree_cpu_seconds(portal.pid)
        stop.set()
        loaded = await probing
    built = sorted(s for status, s, _ in answers if status == 200)
    cpu = None if cpu_before is None or cpu_after is None else 100 * (cpu_after - cpu_before) / wall
    return idle, Crowd(
        sent=len(answers),
        built=len(built),
        refused=sum(refused for _, _, refused in answers),
        failed=sum(status != 200 for status, _, _ in answers),
        p50_s=statistics.median(built) if built else 0.0,
        max_s=built[-1] if built else 0.0,
        wall_s=wall,
        portal_cpu_pct=cpu,
        probe=loaded,
    )


async def _download(client: httpx.AsyncClient, path: str, started: float) -> tuple[int, float, int]:
    """(status, seconds since ``started``, refusals): a 503 is asked again after its
    Retry-After, as a person would; status 200 only for a PDF, 0 for no answer."""
    refused = 0
    while True:
        try:
            response = await client.get(path)
        except httpx.HTTPError:
            return 0, time.perf_counter() - started, refused
        if response.status_code != 503:
            break
        refused += 1
        await asyncio.sleep(float(response.headers.get("Retry-After", "5")))
    status = response.status_code
    if status == 200 and not response.content.startswith(b"%PDF"):
        status = 0
    return status, time.perf_counter() - started, refused


async def _probe(client: httpx.AsyncClient, interval: float, stop: asyncio.Event) -> Probe:
    """``GET /healthz`` every ``interval`` seconds (or as soon as the last one is answered, if it
    took longer) on one kept-alive connection, until ``stop`` is set."""
    latencies: list[float] = []
    failed = 0
    due = time.perf_counter()
    while not stop.is_set():
        sent = time.perf_counter()
        try:
            ok = (await client.get("/healthz")).status_code == 200
        except httpx.HTTPError:
            ok = False
        took = time.perf_counter() - sent
        if ok:
            latencies.append(took * 1000)
        else:
            failed += 1
        due = max(due + interval, time.perf_counter())
        await asyncio.sleep(due - time.perf_counter())
    p50, _, p99 = percentiles(sorted(latencies))
    _, _, held = percentiles(sorted(with_missed(latencies, interval * 1000)))
    return Probe(
        answered=len(latencies),
        failed=failed,
        p50_ms=p50 or 0.0,
        p99_ms=p99 or 0.0,
        held_p99_ms=held or 0.0,
        max_ms=max(latencies, default=0.0),
    )


def with_missed(latencies_ms: Sequence[float], interval_ms: float) -> Iterator[float]:
    """Each latency, and for one longer than the interval also the probes it kept from being
    sent, each as late as it would have been (``L - interval``, ``L - 2 interval``, ... while
    at least the interval): what requests arriving every ``interval`` would have waited, where
    a probe sent one at a time counts a stall once."""
    for latency in latencies_ms:
        yield latency
        missed = latency - interval_ms
        while missed >= interval_ms:
            yield missed
            missed -= interval_ms


# --- the report -----------------------------------------------------------------------------------


def describe_run(options: Options, url: str) -> dict[str, str]:
    return {
        "database": options.database,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "server": database_version(options.database, url),
        "campaign": f"{options.organisations:,} organisations of a {ITEMS}-item questionnaire; "
        f"medians of {options.repeats} timed runs of each figure",
        "probe": f"GET /healthz every {options.probe_ms:g} ms: {options.idle_seconds:g} s idle, "
        f"then while {options.concurrent} packs are requested at once",
        "load": f"1-minute load average {load_average()} before the data",
        "command": shlex.join([".venv/bin/python", "-m", "bench.pack", *sys.argv[1:]]),
    }


def render(meta: dict[str, str], f: Figures) -> str:
    lines = [f"Scrutineer's pack benchmark on {meta['database']}", ""]
    lines += [
        f"  {key:<10} {meta[key]}"
        for key in ("date", "machine", "python", "server", "campaign", "probe", "load", "command")
    ]
    found = checks(f)
    crowd, idle, loaded = f.crowd, f.idle, f.crowd.probe
    cpu = "n/a" if crowd.portal_cpu_pct is None else f"{crowd.portal_cpu_pct:.0f}% of one core"
    peak = "n/a" if f.peak_mb is None else f"{f.peak_mb:,.0f} MB"
    if f.children_peak_mb is not None:
        peak += f", its child processes {f.children_peak_mb:,.0f} MB"
    rows: list[tuple[str, str, Check | None]] = [
        ("typed answer rows", f"{f.answers:,} ({f.submissions:,} submissions)", None),
        ("(a) raw report query", milliseconds(f.raw_query_s), None),
        (
            "(b) raw reportlab build",
            f"{milliseconds(f.raw_build_s)}  ({f.raw_pages} pages, {f.raw_kb:,.0f} kB)",
            None,
        ),
        ("    its tables, rows, charts", f"{f.tables}, {f.table_rows:,}, {f.charts}", None),
        (
            "(c) GET /campaigns/{id}/report.pdf",
            f"{milliseconds(f.pack_s)}  ({f.pack_pages} pages, {f.pack_kb:,.0f} kB)",
            found[0],
        ),
        ("    (c) ÷ (a + 1.3 × b)", f"{f.pack_s / f.budget_s:.2f}", None),
        (
            "    CPU time of (b) and of (c)",
            f"{milliseconds(f.raw_build_cpu_s)} and "
            + (
                "n/a"
                if f.pack_cpu_s is None
                else f"{milliseconds(f.pack_cpu_s)} (the portal's and its builder's)"
            ),
            None,
        ),
        (
            "/healthz idle, p50 / p99",
            f"{idle.p50_ms:,.1f} / {idle.p99_ms:,.1f} ms  ({idle.answered:,} probes)",
            None,
        ),
        (
            f"/healthz, {crowd.sent} packs, p50 / p99",
            f"{loaded.p50_ms:,.1f} / {loaded.p99_ms:,.1f} ms  (max {loaded.max_ms:,.0f} ms, "
            f"{loaded.answered:,} probes"
            + (f", {loaded.failed} failed)" if loaded.failed else ")"),
            found[1],
        ),
        (
            "    p99 with the probes held up",
            f"idle {idle.held_p99_ms:,.1f} ms, with the packs {loaded.held_p99_ms:,.1f} ms",
            None,
        ),
        (
            f"{crowd.sent} packs at once",
            f"{crowd.built} PDFs, {crowd.failed} failed; {crowd.refused} 503s asked again",
            found[2],
        ),
        (
            "    each, p50 / max",
            f"{crowd.p50_s:,.1f} / {crowd.max_s:,.1f} s  (all in {crowd.wall_s:,.1f} s)",
            None,
        ),
        ("    portal meanwhile", f"{cpu}; peak memory {peak}", None),
        ("exceptions in the portal's log", str(f.problems), None),
    ]
    lines += ["", f"  {'figure':<36} {'measured':<52} {'target':<12} result"]
    for label, measured, check in rows:
        target, mark = (check.target, "met" if check.met else "MISSED") if check else ("", "")
        lines.append(f"  {label:<36} {measured:<52} {target:<12} {mark}".rstrip())
    missed = [c.name for c in found if not c.met]
    lines += [
        "",
        "RESULT: every target met."
        if not missed
        else f"RESULT: MISSED {len(missed)} target(s): " + "; ".join(missed) + ".",
    ]
    return "\n".join(lines)


def as_json(meta: dict[str, str], f: Figures) -> dict[str, Any]:
    return {
        "benchmark": "pack",
        **meta,
        "targets": {"pack_at_most": "raw query + 1.3 × raw build", "healthz_p99_ms": LAG_P99_MS},
        "figures": {**asdict(f), "budget_s": f.budget_s},
        "checks": [asdict(c) for c in checks(f)],
        "all_targets_met": all(c.met for c in checks(f)),
    }


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark(
        "pack",
        options.json_path,
        lambda: run(options),
        lambda found: render(*found),
        lambda found: as_json(*found),
    )


if __name__ == "__main__":
    sys.exit(main())
