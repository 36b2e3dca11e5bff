"""Load benchmark of the autosave on deadline day, against baselines measured in the same run.

For each number of concurrent clients it measures, one after another on the same machine:

1. bare POST: the same clients against a tiny Starlette app that parses the form and renders a
   fragment but stores nothing (``bench/baseline_app.py``), measured just before and just after
   the portal, the baseline being the mean of the two (the machine drifts between phases);
2. the portal: C respondents autosaving ratings to their own returns over HTTP, as htmx does,
   then checks that every save the portal acknowledged is what the database holds;
3. raw commits: one-row upserts, one transaction each, from C threads on the same database.

It prints a table per client count with the targets beside the figures, and exits 0 even when
a target is missed: it is a measurement. Run from the project root:

    .venv/bin/python -m bench.autosave --database sqlite --clients 50,200 --seconds 20
    .venv/bin/python -m bench.autosave --quick            # 10 clients, 5 seconds: a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TypeVar

from sqlalchemy import create_engine, text

from bench import commits, driver
from bench.dataset import (
    Dataset,
    Respondent,
    migrate,
    populate,
    scratch_database,
    stored_ratings,
)
from bench.entry import run_benchmark
from bench.figures import LoadFigures, Round, as_json, count_lost, render
from bench.options import add_run_options
from bench.servers import (
    Running,
    baseline_command,
    cpu_seconds,
    free_port,
    log_offset,
    peak_rss_mb,
    portal_command,
    portal_environment,
    problems_since,
    serving,
)

# Fixed so the script can compute each session's CSRF token; a throwaway database only.
SECRET_KEY = "autosave-benchmark-secret-key-not-for-production-use"  # noqa: S105
T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """What to measure: parsed from the command line."""

    database: str
    clients: tuple[int, ...]
    seconds: float
    warmup: float
    json_path: Path | None
    postgres_url: str
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.autosave",
        description="Load benchmark of the portal's autosave against same-run baselines.",
    )
    parser.add_argument(
        "--clients", default="50,200", help="comma-separated numbers of concurrent clients"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 clients, 5 s")
    add_run_options(parser)
    args = parser.parse_args(argv)
    clients = (10,) if args.quick else whole_numbers(parser, args.clients, "--clients")
    return Options(
        database=args.database,
        clients=clients,
        seconds=5.0 if args.quick else args.seconds,
        warmup=1.0 if args.quick else args.warmup,
        json_path=args.json,
        postgres_url=args.postgres_url,
        logs=args.logs,
    )


def whole_numbers(parser: argparse.ArgumentParser, raw: str, option: str) -> tuple[int, ...]:
    """A comma-separated option such as ``--clients 50,200``: whole numbers, each 1 or more."""
    try:
        counts = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        parser.error(f"{option} must be whole numbers separated by commas, e.g. 50,200")
    if not counts or min(counts) < 1:
        parser.error(f"{option} needs at least one number, each 1 or more")
    return counts


# --- one run ------------------------------------------------------------------------------------


def run(options: Options) -> tuple[dict[str, str], list[Round]]:
    """Set everything up, measure each client count, and take everything down again."""
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-autosave-")))
        logs = options.logs or temp
        logs.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(scratch_database(options.database, options.postgres_url))
        say(f"Creating the schema and {sum(options.clients):,} schools on {options.database}")
        migrate(url)
        dataset = populate(url, sum(options.clients), SECRET_KEY)
        portal, baseline = _start_servers(stack, url, temp, logs)
        meta = describe_run(options, url)
        rounds = [
            measure_round(options, url, dataset.item_ids, respondents, portal, baseline)
            for respondents in split(dataset, options.clients)
        ]
        meta["load"] += f", {load_average()} after"
        if options.logs:
            say(f"Server output kept in {options.logs}")
    return meta, rounds


def _start_servers(stack: ExitStack, url: str, temp: Path, logs: Path) -> tuple[Running, Running]:
    say("Starting the portal (audit-portal serve) and the baseline app (uvicorn)")
    port = free_port()
    env = portal_environment(url, SECRET_KEY, temp / "var", port)
    portal = stack.enter_context(serving("portal", portal_command(port), env, port, logs))
    port = free_port()
    baseline = stack.enter_context(
        serving("baseline-app", baseline_command(port), os.environ, port, logs)
    )
    return portal, baseline


def split(dataset: Dataset, counts: Sequence[int]) -> Iterator[tuple[Respondent, ...]]:
    """Fresh respondents for each client count: no phase starts on another's answers."""
    start = 0
    for count in counts:
        yield dataset.respondents[start : start + count]
        start += count


def measure_round(
    options: Options,
    url: str,
    items: tuple[str, ...],
    respondents: tuple[Respondent, ...],
    portal: Running,
    baseline: Running,
) -> Round:
    """Bare POST, the portal, bare POST again, then raw commits, at ``len(respondents)``
    clients. The bare POST baseline is the mean of the phases either side of the portal's."""
    clients = len(respondents)
    say(f"{clients} clients: bare POST baseline, before the portal")
    before, _ = _http_phase(options, baseline, respondents, items)
    offset = log_offset(portal.stderr)
    say(f"{clients} clients: portal autosave for {options.warmup:g} + {options.seconds:g} s")
    portal_figures, logs = _http_phase(options, portal, respondents, items)
    logged = dict(problems_since(portal.stderr, offset).most_common())
    peak = peak_rss_mb(portal.pid)  # benchmark 8: the portal's peak memory after the load
    say(f"{clients} clients: bare POST baseline, after the portal")
    after, _ = _http_phase(options, baseline, respondents, items)
    say(f"{clients} clients: checking {clients} returns for lost writes")
    lost = count_lost(logs, stored_ratings(url, [r.return_id for r in respondents]))
    say(f"{clients} clients: raw commits baseline ({clients} threads)")
    raw = commits.measure(url, clients, options.warmup, options.seconds)
    return Round(clients, portal_figures, before, raw, lost, logged, peak, after)


def _http_phase(
    options: Options, server: Running, respondents: tuple[Respondent, ...], items: tuple[str, ...]
) -> tuple[LoadFigures, list[driver.SaveLog]]:
    def load() -> tuple[driver.Tally, list[driver.SaveLog]]:
        return driver.run(server.base_url, respondents, items, options.warmup, options.seconds)

    (tally, logs), client_cpu, server_cpu = with_cpu(load, server.pid)
    figures = LoadFigures.from_tally(
        tally, len(respondents), options.seconds, client_cpu, server_cpu
    )
    return figures, logs


def with_cpu(work: Callable[[], T], *pids: int) -> tuple[T, float, float | None]:
    """``work()``, with the CPU this process and the ``pids`` together used meanwhile, in % of
    one core (None for theirs where /proc is not there)."""
    wall, mine, theirs = time.perf_counter(), time.process_time(), _cpu_of(pids)
    result = work()
    wall = time.perf_counter() - wall
    mine_pct = 100 * (time.process_time() - mine) / wall
    after = _cpu_of(pids)
    theirs_pct = None if theirs is None or after is None else 100 * (after - theirs) / wall
    return result, mine_pct, theirs_pct


def _cpu_of(pids: Sequence[int]) -> float | None:
    used = [cpu_seconds(pid) for pid in pids]
    return None if None in used else sum(u for u in used if u is not None)


# --- the particulars of the run -------------------------------------------------------------------


def describe_run(options: Options, url: str) -> dict[str, str]:
    return {
        "database": options.database,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "server": database_version(options.database, url),
        "command": _command_line(),
        "phases": f"{options.warmup:g} s warm-up + {options.seconds:g} s measured",
        "load": f"1-minute load average {load_average()} before the phases",
    }


def load_average() -> str:
    """Other work on the machine skews every figure: the report says how busy it was."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def database_version(kind: str, url: str) -> str:
    if kind == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (WAL), a temporary file"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    return (
        f"PostgreSQL {version} on {url.rsplit('@', 1)[-1].rsplit('/', 1)[0]}, a throwaway database"
    )


def _command_line() -> str:
    return shlex.join([".venv/bin/python", "-m", "bench.autosave", *sys.argv[1:]])


def say(message: str) -> None:
    """Progress, on stderr: stdout holds only the report."""
    print(f"==> {message}", file=sys.stderr, flush=True)


# --- entry point --------------------------------------------------------------------------------


@contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so every ``finally`` runs (servers, database)."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark(
        "autosave",
        options.json_path,
        lambda: run(options),
        lambda found: render(*found),
        lambda found: as_json(*found),
    )


if __name__ == "__main__":
    sys.exit(main())
