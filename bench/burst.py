"""Deadline burst (benchmark 6): three times the sustainable autosave rate, then back to normal.

It measures the portal's sustainable autosave rate first (``bench.driver``'s closed loop:
respondents saving one after another as fast as answers come back), then sends saves at a fixed
rate whatever the portal answers (``bench.open_loop``), in four phases:

1. **before**: the normal rate (half the sustainable one) for ``--before`` seconds: the normal
   latency, which the recovery is judged against;
2. **burst**: three times the sustainable rate for ``--seconds`` (a minute by default);
3. **after**: the normal rate again for ``--after`` seconds.

While overloaded the portal must refuse what it cannot serve in time with a fast 503 (or 429)
carrying ``Retry-After``, never a time-out or another error, and within 60 s of the burst's end
serve at normal latency again. Afterwards every acknowledged save is checked against the
database. Run from the project root:

    .venv/bin/python -m bench.burst --database sqlite
    .venv/bin/python -m bench.burst --database postgresql --seconds 20 --after 60
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import driver, open_loop
from bench.autosave import Options as AutosaveOptions
from bench.autosave import describe_run, say
from bench.burst_figures import Report, summarise
from bench.dataset import (
    Dataset,
    migrate,
    populate,
    scratch_database,
    stored_ratings,
)
from bench.entry import run_benchmark
from bench.figures import count_lost
from bench.options import add_run_options
from bench.servers import (
    Running,
    ServerFailed,
    free_port,
    log_offset,
    portal_command,
    portal_environment,
    problems_since,
    serving,
)

SECRET_KEY = "burst-benchmark-secret-key-not-for-production-use"  # noqa: S105
OVERLOAD = 3.0  # the burst, as a multiple of the sustainable rate
NORMAL = 0.5  # the normal load before and after it, likewise


@dataclass(frozen=True)
class Options:
    database: str
    respondents: int
    calibrate_clients: int
    calibrate_seconds: float
    rate: float | None
    before: float
    seconds: float
    after: float
    portal_env: dict[str, str]
    postgres_url: str
    json_path: Path | None
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.burst",
        description="Deadline burst: 3x the sustainable autosave rate, then normal load.",
    )
    parser.add_argument("--respondents", type=int, default=300, help="signed-in respondents")
    parser.add_argument(
        "--calibrate-clients", type=int, default=50, help="closed-loop clients for the rate"
    )
    parser.add_argument("--calibrate-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, help="the sustainable saves/s (skips measuring it)")
    parser.add_argument("--before", type=float, default=10.0, help="seconds of normal load first")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of the burst")
    parser.add_argument("--after", type=float, default=90.0, help="seconds of normal load after")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a portal setting, e.g. --set MAX_WAITING_REQUESTS=100 (repeatable)",
    )
    add_run_options(parser)
    args = parser.parse_args(argv)
    if args.respondents < 1 or args.calibrate_clients < 1:
        parser.error("--respondents and --calibrate-clients must be at least 1")
    if min(args.before, args.seconds, args.after, args.calibrate_seconds) <= 0:
        parser.error("every phase needs a positive number of seconds")
    if any("=" not in pair for pair in args.set):
        parser.error("--set takes NAME=VALUE")
    return Options(
        database=args.database,
        respondents=args.respondents,
        calibrate_clients=args.calibrate_clients,
        calibrate_seconds=args.calibrate_seconds,
        rate=args.rate,
        before=args.before,
        seconds=args.seconds,
        after=args.after,
        portal_env=dict(pair.split("=", 1) for pair in args.set),
        postgres_url=args.postgres_url,
        json_path=args.json,
        logs=args.logs,
    )


def run(options: Options) -> tuple[dict[str, str], Report]:
    """Set up a database and the portal, measure, and take everything down again."""
    with ExitStack() as stack:
        url = stack.enter_context(scratch_database(options.database, options.postgres_url))
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-burst-")))
        logs = options.logs or temp
        logs.mkdir(parents=True, exist_ok=True)
        schools = options.respondents + options.calibrate_clients
        say(f"Creating the schema and {schools:,} schools on {options.database}")
        migrate(url)
        # The closed loop gets schools of its own: the open loop starts on unanswered returns.
        dataset = populate(url, schools, SECRET_KEY)
        port = free_port()
        env = {**portal_environment(url, SECRET_KEY, temp / "var", port), **options.portal_env}
        say("Starting the portal (audit-portal serve)")
        portal = stack.enter_context(serving("portal", portal_command(port), env, port, logs))
        return _meta(options, url), measure(options, url, portal, dataset)
    raise AssertionError("unreachable")  # pragma: no cover


def measure(options: Options, url: str, portal: Running, dataset: Dataset) -> Report:
    """The sustainable rate, the three phases, and the lost-writes check."""
    rate = options.rate or _sustainable_rate(options, portal, dataset)
    phases = _phases(options, rate)
    savers = dataset.respondents[: options.respondents]
    offset = log_offset(portal.stderr)
    say(" then ".join(f"{p.name} {p.rate:,.0f}/s for {p.seconds:g} s" for p in phases))
    records, save_logs = open_loop.run(portal.base_url, savers, dataset.item_ids, phases)
    say("Checking every acknowledged save against the database")
    stored = stored_ratings(url, [r.return_id for r in savers])
    logged = dict(problems_since(portal.stderr, offset).most_common())
    return summarise(records, phases, rate, count_lost(save_logs, stored), logged)


def _sustainable_rate(options: Options, portal: Running, dataset: Dataset) -> float:
    """Acknowledged saves per second of a closed loop: what the portal keeps up with."""
    clients = dataset.respondents[options.respondents :]
    seconds = options.calibrate_seconds
    say(f"Measuring the sustainable rate: {len(clients)} clients for {seconds:g} s")
    tally, _ = driver.run(
        portal.base_url, clients, dataset.item_ids, 2.0, options.calibrate_seconds
    )
    rate = tally.saved_in_window / options.calibrate_seconds
    if rate <= 0:
        raise ServerFailed(f"The portal saved nothing while measuring its rate: {tally.errors}")
    return rate


def _phases(options: Options, rate: float) -> tuple[open_loop.Phase, ...]:
    return (
        open_loop.Phase("before", NORMAL * rate, options.before),
        open_loop.Phase("burst", OVERLOAD * rate, options.seconds),
        open_loop.Phase("after", NORMAL * rate, options.after),
    )


def _meta(options: Options, url: str) -> dict[str, str]:
    shape = AutosaveOptions(options.database, (), 0, 0, None, options.postgres_url, None)
    meta = describe_run(shape, url)
    meta["command"] = shlex.join([".venv/bin/python", "-m", "bench.burst", *sys.argv[1:]])
    meta["phases"] = (
        f"{options.before:g} s at {NORMAL:g}x, {options.seconds:g} s at {OVERLOAD:g}x, "
        f"{options.after:g} s at {NORMAL:g}x the sustainable rate"
    )
    meta["portal settings"] = (
        ", ".join(f"{k}={v}" for k, v in options.portal_env.items()) or "defaults"
    )
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark(
        "burst",
        options.json_path,
        lambda: run(options),
        lambda found: found[1].render(found[0]),
        lambda found: found[1].as_json(found[0]),
        on_sigterm=False,
    )


if __name__ == "__main__":
    sys.exit(main())
