"""Scale-out: the autosave load of ``bench.autosave`` spread over 1, 2 and 4 portal processes.

Each round starts N ``audit-portal serve`` processes on N ports, all on one database (and one
var folder), and runs the autosave benchmark's clients against them through a round-robin in
the load generator: each save goes to the next process, so one person's consecutive saves
reach different processes, and a session, CSRF token or answer version held by one process
would show at once as errors or lost writes. It prints saves a second, latencies, errors and
lost writes for each N, the rate as a multiple of one process's, and the machine's core count.
It exits 0 even when a target is missed: it is a measurement. Run from the project root:

    .venv/bin/python -m bench.scaleout                       # PostgreSQL, 1, 2 and 4 processes
    .venv/bin/python -m bench.scaleout --quick               # 1 and 2 processes, 5 s each
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine.url import make_url

from audit_portal import db
from bench import driver
from bench.autosave import (
    SECRET_KEY,
    describe_run,
    load_average,
    say,
    split,
    whole_numbers,
    with_cpu,
)
from bench.autosave import Options as AutosaveOptions
from bench.commits import POSTGRES_RESERVED_CONNECTIONS, free_connections
from bench.dataset import (
    Respondent,
    SetupFailed,
    migrate,
    populate,
    scratch_database,
    stored_ratings,
)
from bench.entry import run_benchmark
from bench.figures import LoadFigures, count_lost
from bench.options import add_run_options
from bench.scaleout_figures import ScaleRound, ScaleRun, as_json, render
from bench.servers import (
    Running,
    free_port,
    peak_rss_mb,
    portal_command,
    portal_environment,
    problems_since,
    serving,
)

CONNECTIONS_PER_PROCESS = db.POOL_SIZE + db.MAX_OVERFLOW  # the most one process's pool opens
NOT_FOR_REQUESTS = CONNECTIONS_PER_PROCESS - db.REQUEST_CONNECTIONS  # the worker's share


@dataclass(frozen=True)
class Options:
    """What to measure: parsed from the command line."""

    database: str
    processes: tuple[int, ...]
    clients: int
    seconds: float
    warmup: float
    json_path: Path | None
    postgres_url: str
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaleout",
        description="The autosave load against 1, 2 and 4 portal processes on one database.",
    )
    parser.add_argument("--processes", default="1,2,4", help="comma-separated process counts")
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients per round")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per round")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--quick", action="store_true", help="1 and 2 processes, 20 clients, 5 s")
    add_run_options(parser)
    parser.set_defaults(database="postgresql")  # scale-out is what PostgreSQL is there for
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients must be 1 or more, --seconds positive, --warmup not negative")
    return Options(
        database=args.database,
        processes=(1, 2) if args.quick else whole_numbers(parser, args.processes, "--processes"),
        clients=20 if args.quick else args.clients,
        seconds=5.0 if args.quick else args.seconds,
        warmup=1.0 if args.quick else args.warmup,
        json_path=args.json,
        postgres_url=args.postgres_url,
        logs=args.logs,
    )


# --- one run ------------------------------------------------------------------------------------


def run(options: Options) -> ScaleRun:
    """Set up one database, measure each number of processes in turn, take everything down."""
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-scaleout-")))
        logs = options.logs or temp
        logs.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(scratch_database(options.database, options.postgres_url))
        schools = options.clients * len(options.processes)
        say(f"Creating the schema and {schools:,} schools on {options.database}")
        migrate(url)
        dataset = populate(url, schools, SECRET_KEY)
        settings, connections = connection_budget(url, max(options.processes))
        meta = _meta(options, url, connections)
        rounds = tuple(
            measure_round(options, url, dataset.item_ids, respondents, count, settings, temp, logs)
            for count, respondents in zip(
                options.processes,
                split(dataset, [options.clients] * len(options.processes)),
                strict=True,
            )
        )
        meta["load"] += f", {load_average()} after"
        if options.logs:
            say(f"Server output kept in {options.logs}")
    return ScaleRun(meta, rounds, os.cpu_count() or 1)


def connection_budget(url: str, processes: int) -> tuple[dict[str, str], str]:
    """Portal settings that keep ``processes`` pools within the server's free connections.

    Each process's pool opens at most ``CONNECTIONS_PER_PROCESS``; if that many times the
    processes would not fit (leaving some free for the benchmark and anyone else), fewer
    requests are served at once per process (``MAX_ACTIVE_REQUESTS``), which bounds the
    connections a process's requests hold. SQLite has no such limit.
    """
    if make_url(url).get_backend_name() == "sqlite":
        return {}, "SQLite: no connection limit"
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        free = free_connections(conn)
        row = conn.execute("SHOW max_connections").fetchone()
    maximum = row[0] if row else "?"
    room = free - POSTGRES_RESERVED_CONNECTIONS
    described = (
        f"PostgreSQL max_connections {maximum}, {free} free; each process opens at most "
        f"{CONNECTIONS_PER_PROCESS} ({processes} × {CONNECTIONS_PER_PROCESS} = "
        f"{processes * CONNECTIONS_PER_PROCESS})"
    )
    if processes * CONNECTIONS_PER_PROCESS <= room:
        return {}, described
    active = max(1, room // processes - NOT_FOR_REQUESTS)
    if active < 2:
        raise SetupFailed(f"Too few free PostgreSQL connections for {processes} processes: {free}")
    return (
        {"MAX_ACTIVE_REQUESTS": str(active)},
        described + f", more than the {room} to spare: MAX_ACTIVE_REQUESTS={active} every round",
    )


def measure_round(
    options: Options,
    url: str,
    items: tuple[str, ...],
    respondents: tuple[Respondent, ...],
    processes: int,
    settings: dict[str, str],
    temp: Path,
    logs: Path,
) -> ScaleRound:
    """Start ``processes`` portals, spread the autosave load over them, check every save."""
    with ExitStack() as stack:
        say(f"{processes} process(es): starting audit-portal serve")
        portals = [
            _start_portal(stack, url, settings, temp, logs, f"portal-{n + 1}-of-{processes}")
            for n in range(processes)
        ]
        say(
            f"{processes} process(es): {len(respondents)} clients autosaving for "
            f"{options.warmup:g} + {options.seconds:g} s, each save to the next process"
        )

        def load() -> tuple[driver.Tally, list[driver.SaveLog]]:
            bases = [p.base_url for p in portals]
            return driver.run(bases, respondents, items, options.warmup, options.seconds)

        (tally, save_logs), client_cpu, server_cpu = with_cpu(load, *(p.pid for p in portals))
        say(f"{processes} process(es): checking {len(respondents)} returns for lost writes")
        lost = count_lost(save_logs, stored_ratings(url, [r.return_id for r in respondents]))
        peaks = [peak for p in portals if (peak := peak_rss_mb(p.pid)) is not None]
        logged: Counter[str] = Counter()
        for portal in portals:
            logged += problems_since(portal.stderr)
    figures = LoadFigures.from_tally(
        tally, len(respondents), options.seconds, client_cpu, server_cpu
    )
    return ScaleRound(
        processes, figures, lost, dict(logged.most_common()), max(peaks) if peaks else None
    )


def _start_portal(
    stack: ExitStack, url: str, settings: dict[str, str], temp: Path, logs: Path, name: str
) -> Running:
    """One more process of the same portal: same database, same var folder, its own port."""
    port = free_port()
    env = {**portal_environment(url, SECRET_KEY, temp / "var", port), **settings}
    return stack.enter_context(serving(name, portal_command(port), env, port, logs))


def _meta(options: Options, url: str, connections: str) -> dict[str, str]:
    shape = AutosaveOptions(
        options.database,
        (options.clients,),
        options.seconds,
        options.warmup,
        None,
        options.postgres_url,
        None,
    )
    meta = describe_run(shape, url)
    meta["command"] = shlex.join([".venv/bin/python", "-m", "bench.scaleout", *sys.argv[1:]])
    meta["phases"] += " per number of processes"
    meta["clients"] = (
        f"{options.clients} concurrent, the autosave benchmark's; each save to the next process "
        "(round-robin), fresh schools for each number of processes"
    )
    meta["connections"] = connections
    return meta


# --- entry point --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark("scale-out", options.json_path, lambda: run(options), render, as_json)


if __name__ == "__main__":
    sys.exit(main())
