"""How much memory the portal holds while it sends a national campaign's answer-level CSV.

The answer-level download (``GET /campaigns/{id}/answers.csv``, QA and administrators only) is
one line per organisation per item: 2.4 million lines for 25,000 schools answering 100 items.
It must be sent as it is read, so the portal's memory does not grow with the campaign. On a
scratch database (SQLite or PostgreSQL) this opens the national campaign of ``bench/report.py``
(``bench/report_data.py``, with every submission's content in full, since the export reads
nothing else), first with half of ``--organisations`` and then with all of them. At each size
it downloads the whole file from ``audit-portal serve``, run as its own process, as a signed-in
quality assurance reader, and meanwhile reads the portal's resident memory from ``/proc`` every
20 ms; the kernel's own peak (``VmHWM``, reset just before the download) catches what falls
between two readings.

It prints the portal's memory before the download, its peak during it and the growth, the
download's time, size and lines, and checks that the lines are the answers the database counts
(the typed rows of each return's latest submitted or accepted submission). Targets: a peak
under 150 MB at both sizes, and the full size's peak at most 15 MB above the half size's (a
streamed export holds a few submissions at a time, whatever the campaign's size). It exits 0
even when a target is missed. Run from the project root:

    .venv/bin/python -m bench.export --database postgresql             # 25,000 organisations
    .venv/bin/python -m bench.export --quick                           # 4,000, on SQLite
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.db import create_db_engine
from audit_portal.reports.exports import BOM, PROVENANCE_HEADER
from bench.autosave import cpu_model, database_version, load_average, say
from bench.dataset import SetupFailed, migrate, scratch_database
from bench.entry import run_benchmark
from bench.options import add_run_options
from bench.questionnaire import ITEMS, write_questionnaire
from bench.report import RAW_ITEMS, SECRET_KEY, Check, in_process_settings
from bench.report_data import Reader, add_organisations, create_campaign
from bench.servers import (
    Running,
    free_port,
    peak_rss_mb,
    portal_command,
    portal_environment,
    reset_peak_rss,
    rss_mb,
    serving,
)

PEAK_TARGET_MB = 150.0
STREAMED_SLACK_MB = 15.0  # the full size's peak may exceed the half size's by this much
SAMPLE_EVERY_S = 0.02
SETTLE_S = 1.0  # idle before the download, so the memory before it is the portal at rest
WARM_UP_BYTES = 1_000_000  # read, then hang up: first-use costs are not the export's
READ_TIMEOUT_S = 600.0  # the first byte waits for the database to sort the campaign


@dataclass(frozen=True)
class Options:
    database: str
    organisations: int
    json_path: Path | None
    postgres_url: str
    logs: Path | None


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.export",
        description="The portal's memory while it sends a national answer-level CSV.",
    )
    parser.add_argument("--organisations", type=int, default=25_000, help="the full size")
    parser.add_argument("--quick", action="store_true", help="4,000 organisations")
    add_run_options(parser)
    args = parser.parse_args(argv)
    if args.organisations < 20:
        parser.error("--organisations must be 20 or more")
    return Options(
        database=args.database,
        organisations=4_000 if args.quick else args.organisations,
        json_path=args.json,
        postgres_url=args.postgres_url,
        logs=args.logs,
    )


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """One whole download with ``organisations`` invited."""

    organisations: int
    counted_answers: int  # what the database says the file must list
    status: int
    rows: int  # lines of the download, the header left out
    megabytes: float
    seconds: float
    first_byte_s: float
    before_mb: float  # the portal's resident memory just before the download
    peak_mb: float  # the most during it (VmHWM since the reset, or the highest reading)
    samples: int
    peak_exact: bool  # False where the kernel's peak could not be reset: readings only

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.before_mb

    @property
    def complete(self) -> bool:
        return self.status == 200 and self.rows == self.counted_answers


def checks(sizes: Sequence[Size]) -> list[Check]:
    half, full = sizes[0], sizes[-1]
    found = [
        Check(
            f"peak RSS at {s.organisations:,} organisations",
            f"< {PEAK_TARGET_MB:.0f} MB",
            _mb(s.peak_mb),
            s.peak_mb < PEAK_TARGET_MB,
        )
        for s in sizes
    ]
    found.append(
        Check(
            "full-size peak − half-size peak",
            f"≤ {STREAMED_SLACK_MB:.0f} MB",
            f"{full.peak_mb - half.peak_mb:+.1f} MB",
            full.peak_mb - half.peak_mb <= STREAMED_SLACK_MB,
        )
    )
    found.append(
        Check(
            "download lines = counted answers",
            "at both sizes",
            " and ".join("yes" if s.complete else "no" for s in sizes),
            all(s.complete for s in sizes),
        )
    )
    return found


# --- one run ------------------------------------------------------------------------------------


def run(options: Options) -> tuple[dict[str, str], list[Size]]:
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-export-")))
        logs = options.logs or temp
        logs.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(scratch_database(options.database, options.postgres_url))
        questionnaires = write_questionnaire(temp / "questionnaires")
        say(f"Creating the schema on {options.database}")
        migrate(url)
        engine = create_db_engine(in_process_settings(url, temp, questionnaires))
        stack.callback(engine.dispose)
        campaign_id, reader = create_campaign(engine, questionnaires)
        port = free_port()
        env = portal_environment(url, SECRET_KEY, temp / "var", port)
        env["QUESTIONNAIRES_DIR"] = str(questionnaires)
        portal = stack.enter_context(serving("portal", portal_command(port), env, port, logs))
        meta = describe_run(options, url)
        half = max(10, options.organisations // 2)
        sizes, done = [], 0
        for size in (half, options.organisations):
            say(f"Adding {size - done:,} organisations with their returns and answers")
            add_organisations(engine, questionnaires, campaign_id, done, size - done, contents=True)
            done = size
            if not sizes:
                say("Warming up: the first megabyte of the download, then hanging up")
                _warm_up(portal, reader, campaign_id)
            say(f"Downloading the answer-level CSV at {size:,} organisations")
            sizes.append(measure(engine, portal, reader, campaign_id, size))
        meta["load"] += f", {load_average()} after"
    return meta, sizes


def _client(portal: Running, reader: Reader) -> httpx.Client:
    return httpx.Client(
        base_url=portal.base_url,
        cookies={COOKIE_NAME: reader.session_token},
        timeout=httpx.Timeout(30.0, read=READ_TIMEOUT_S),
    )


def _path(campaign_id: int) -> str:
    return f"/campaigns/{campaign_id}/answers.csv"


def _warm_up(portal: Running, reader: Reader, campaign_id: int) -> None:
    """Compiled statements, the thread pool's threads, the connection: made once, on first use."""
    with _client(portal, reader) as client, client.stream("GET", _path(campaign_id)) as response:
        if response.status_code != 200:
            raise SetupFailed(f"the answer-level CSV answered {response.status_code}")
        read = 0
        for chunk in response.iter_raw():
            read += len(chunk)
            if read >= WARM_UP_BYTES:
                break


def counted_answers(engine: Engine, campaign_id: int) -> int:
    """The typed rows of each return's latest submitted or accepted submission, by raw SQL."""
    with engine.connect() as conn:
        rows = conn.execute(text(RAW_ITEMS), {"campaign": campaign_id}).all()
    return sum(row[-1] for row in rows)


class _Sampler(threading.Thread):
    """Reads a process's resident memory every ``SAMPLE_EVERY_S`` until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.peak_mb, self.samples = pid, 0.0, 0
        self._stop_now = threading.Event()

    def run(self) -> None:
        while not self._stop_now.is_set():
            reading = rss_mb(self.pid)
            if reading is not None:
                self.peak_mb, self.samples = max(self.peak_mb, reading), self.samples + 1
            self._stop_now.wait(SAMPLE_EVERY_S)

    def stop(self) -> None:
        self._stop_now.set()
        self.join()


def measure(
    engine: Engine, portal: Running, reader: Reader, campaign_id: int, organisations: int
) -> Size:
    """One whole download, read as fast as the client can, with the portal's memory sampled."""
    expected = counted_answers(engine, campaign_id)
    time.sleep(SETTLE_S)
    before = rss_mb(portal.pid)
    if before is None:
        raise SetupFailed("the portal's memory cannot be read: this benchmark needs /proc")
    exact = reset_peak_rss(portal.pid)
    sampler = _Sampler(portal.pid)
    sampler.start()
    newlines = size = 0
    first_byte = 0.0
    head = b""
    started = time.perf_counter()
    try:
        with (
            _client(portal, reader) as client,
            client.stream("GET", _path(campaign_id)) as response,
        ):
            status = response.status_code
            for chunk in response.iter_raw():
                if not size:
                    first_byte = time.perf_counter() - started
                if len(head) < 200:
                    head += chunk[:200]
                newlines += chunk.count(b"\n")  # the benchmark's texts have no line breaks
                size += len(chunk)
        seconds = time.perf_counter() - started
    finally:
        sampler.stop()
    peak = max(sampler.peak_mb, (peak_rss_mb(portal.pid) or 0.0) if exact else 0.0)
    header = (BOM + ",".join(PROVENANCE_HEADER)).encode()
    rows = newlines - 1 if status == 200 and head.startswith(header) else 0
    return Size(
        organisations=organisations,
        counted_answers=expected,
        status=status,
        rows=rows,
        megabytes=size / 1_000_000,
        seconds=seconds,
        first_byte_s=first_byte,
        before_mb=before,
        peak_mb=peak,
        samples=sampler.samples,
        peak_exact=exact,
    )


# --- the report -----------------------------------------------------------------------------------


def describe_run(options: Options, url: str) -> dict[str, str]:
    return {
        "database": options.database,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "server": database_version(options.database, url),
        "campaign": f"one campaign of a {ITEMS}-item questionnaire, submissions in full; "
        "one download at each size, the portal's RSS read every "
        f"{SAMPLE_EVERY_S * 1000:.0f} ms",
        "load": f"1-minute load average {load_average()} before the data",
        "command": shlex.join([".venv/bin/python", "-m", "bench.export", *sys.argv[1:]]),
    }


def render(meta: dict[str, str], sizes: Sequence[Size]) -> str:
    lines = [f"Answer-level CSV export benchmark on {meta['database']}", ""]
    lines += [
        f"  {key:<10} {meta[key]}"
        for key in ("date", "machine", "python", "server", "campaign", "load", "command")
    ]
    found = checks(sizes)
    peaks_met = all(c.met for c in found[: len(sizes)])
    rows: list[tuple[str, list[str], str, str]] = [
        ("counted answers (database)", [f"{s.counted_answers:,}" for s in sizes], "", ""),
        (
            "lines downloaded",
            [f"{s.rows:,}" + ("" if s.status == 200 else f" (HTTP {s.status})") for s in sizes],
            "= counted",
            _mark(found[-1].met),
        ),
        ("download size", [f"{s.megabytes:,.0f} MB" for s in sizes], "", ""),
        (
            "download time",
            [f"{s.seconds:,.1f} s ({s.megabytes / s.seconds:,.1f} MB/s)" for s in sizes],
            "",
            "",
        ),
        ("first byte after", [f"{s.first_byte_s:,.2f} s" for s in sizes], "", ""),
        ("portal RSS before", [_mb(s.before_mb) for s in sizes], "", ""),
        (
            "portal peak RSS during",
            [_mb(s.peak_mb) for s in sizes],
            f"< {PEAK_TARGET_MB:.0f} MB",
            _mark(peaks_met),
        ),
        ("growth during the download", [f"{s.growth_mb:+.1f} MB" for s in sizes], "", ""),
        (
            "RSS readings (peak from)",
            [f"{s.samples:,} ({'VmHWM' if s.peak_exact else 'readings'})" for s in sizes],
            "",
            "",
        ),
    ]
    streamed = found[-2]
    width = 26
    lines += [
        "",
        f"  {'figure':<32} "
        + " ".join(f"{f'{s.organisations:,} organisations':<{width}}" for s in sizes)
        + f" {'target':<12} result",
    ]
    for label, cells, target, mark in rows:
        body = " ".join(f"{cell:<{width}}" for cell in cells)
        lines.append(f"  {label:<32} {body} {target:<12} {mark}".rstrip())
    lines += [
        "",
        f"  {streamed.name:<32} {streamed.measured:<{width}} {streamed.target:<12} "
        + _mark(streamed.met),
    ]
    missed = [c.name for c in found if not c.met]
    lines += [
        "",
        "RESULT: every target met."
        if not missed
        else f"RESULT: MISSED {len(missed)} target(s): " + "; ".join(missed) + ".",
    ]
    return "\n".join(lines)


def as_json(meta: dict[str, str], sizes: Sequence[Size]) -> dict[str, Any]:
    return {
        "benchmark": "export",
        **meta,
        "targets": {
            "peak_rss_mb_under": PEAK_TARGET_MB,
            "full_minus_half_peak_mb_at_most": STREAMED_SLACK_MB,
            "lines": "the counted answers",
        },
        "sizes": [{**asdict(s), "growth_mb": s.growth_mb} for s in sizes],
        "checks": [asdict(c) for c in checks(sizes)],
        "all_targets_met": all(c.met for c in checks(sizes)),
    }


def _mb(value: float) -> str:
    return f"{value:,.1f} MB"


def _mark(met: bool) -> str:
    return "met" if met else "MISSED"


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return run_benchmark(
        "export",
        options.json_path,
        lambda: run(options),
        lambda found: render(*found),
        lambda found: as_json(*found),
    )


if __name__ == "__main__":
    sys.exit(main())
