"""The figures of a scale-out run, the targets they are held to, and the table they print as.

Pure: plain data in, text or JSON-ready dictionaries out, as ``bench/figures.py`` is for the
autosave benchmark whose load, latencies and lost-writes check these figures reuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.figures import (
    Check,
    LoadFigures,
    LostWrites,
    describe_errors,
    describe_latencies,
    describe_lost,
)

GROWTH_TARGET = 1.0  # on PostgreSQL, up to as many processes as cores, more must save faster
COLUMN = 28


@dataclass(frozen=True)
class ScaleRound:
    """The autosave load spread over ``processes`` portal processes on one database."""

    processes: int
    portal: LoadFigures  # server CPU: every portal process together
    lost_writes: LostWrites
    logged: dict[str, int] = field(default_factory=dict)  # exception lines of every process
    peak_rss_mb: float | None = None  # the largest VmHWM of the processes


@dataclass(frozen=True)
class ScaleRun:
    """Every round of one run, and the machine's core count the growth is read against."""

    meta: dict[str, str]
    rounds: tuple[ScaleRound, ...]
    cores: int

    @property
    def one_writer(self) -> bool:
        """SQLite: one write lock for every process, so no growth in saves is expected."""
        return self.meta.get("database") == "sqlite"

    @property
    def single(self) -> ScaleRound | None:
        return next((r for r in self.rounds if r.processes == 1), None)

    def speedup(self, result: ScaleRound) -> float | None:
        """Saves a second against one process's (None when one process was not measured)."""
        single = self.single
        if single is None or not single.portal.per_second:
            return None
        return result.portal.per_second / single.portal.per_second

    def checks(self, result: ScaleRound) -> list[Check]:
        portal, lost = result.portal, result.lost_writes
        found = [
            Check("errors", "0", f"{portal.errors:,}", portal.errors == 0),
            Check("conflicts", "0", f"{portal.conflicts:,}", portal.conflicts == 0),
            Check("lost writes", "0", f"{lost.lost:,}", lost.lost == 0),
        ]
        speedup = self.speedup(result)
        if speedup is not None and 1 < result.processes <= self.cores and not self.one_writer:
            found.append(
                Check(
                    "saves/s × 1 process",
                    f"> {GROWTH_TARGET:g}",
                    f"{speedup:.2f}",
                    speedup > GROWTH_TARGET,
                )
            )
        return found


# --- the printed table ----------------------------------------------------------------------------


def render(run: ScaleRun) -> str:
    """The run's particulars, one column per number of processes, the checks and the verdict."""
    meta = run.meta
    lines = [f"Scale-out benchmark on {meta['database']}", ""]
    keys = ("date", "machine", "python", "server", "phases", "clients", "connections", "load")
    lines += [f"  {key:<12} {meta[key]}" for key in keys if key in meta]
    lines += [f"  {'command':<12} {meta['command']}", ""]
    lines += _table(run)
    lines += ["", *_checks(run), ""]
    lines += _logged(run.rounds)
    lines.append(note(run.cores))
    if run.one_writer:
        lines.append(SQLITE_NOTE)
    lines.append(verdict(run))
    return "\n".join(lines)


def note(cores: int) -> str:
    """What growth to expect: the client, every process and the database share the cores."""
    return (
        f"NOTE: this machine has {cores} core{'s' if cores != 1 else ''}, shared by the load "
        "generator, every portal process and the database: beyond "
        f"{cores} process{'es' if cores != 1 else ''} no growth is expected on it."
    )


SQLITE_NOTE = (
    "NOTE: on SQLite every process takes turns for the one write lock: more processes are not "
    "expected to save faster, and the growth is not held to a target."
)


def _table(run: ScaleRun) -> list[str]:
    rows: list[tuple[str, list[str]]] = [
        ("processes", [str(r.processes) for r in run.rounds]),
        ("saves/s", [f"{r.portal.per_second:,.1f}" for r in run.rounds]),
        ("× 1 process", [_times(run.speedup(r)) for r in run.rounds]),
        ("p50 / p95 / p99", [describe_latencies(r.portal) for r in run.rounds]),
        ("errors", [f"{r.portal.errors:,}" for r in run.rounds]),
        ("conflicts", [f"{r.portal.conflicts:,}" for r in run.rounds]),
        ("lost writes", [f"{r.lost_writes.lost:,}" for r in run.rounds]),
        ("portal CPU (all processes)", [_pct(r.portal.server_cpu_percent) for r in run.rounds]),
        ("client CPU", [_pct(r.portal.client_cpu_percent) for r in run.rounds]),
        ("peak RSS, largest process", [_mb(r.peak_rss_mb) for r in run.rounds]),
    ]
    lines = [f"  {label:<27}" + "".join(f"{v:>{COLUMN}}" for v in values) for label, values in rows]
    lines.insert(1, "  " + "-" * (27 + COLUMN * len(run.rounds)))
    lines.append("  (CPU in % of one core; latencies measured in the client)")
    return lines


def _checks(run: ScaleRun) -> list[str]:
    lines = [f"  {'check':<35} {'measured':<44} {'target':<8} result"]
    for result in run.rounds:
        details = {
            "errors": describe_errors(result.portal),
            "lost writes": describe_lost(result.lost_writes),
        }
        for check in run.checks(result):
            name = f"{result.processes} process{'es' if result.processes != 1 else ''}: "
            measured = details.get(check.name, check.measured)
            mark = "met" if check.met else "MISSED"
            lines.append(f"  {name + check.name:<35} {measured:<44} {check.target:<8} {mark}")
    return lines


def _logged(rounds: Sequence[ScaleRound]) -> list[str]:
    lines = []
    for result in rounds:
        if result.logged:
            lines.append(f"  the portal processes logged, at {result.processes}:")
            lines += [f"    {n:>6} × {line}" for line, n in list(result.logged.items())[:8]]
    return [*lines, ""] if lines else []


def verdict(run: ScaleRun) -> str:
    missed = [
        f"{c.name} at {r.processes} processes"
        for r in run.rounds
        for c in run.checks(r)
        if not c.met
    ]
    if not missed:
        return "RESULT: every target met."
    return f"RESULT: MISSED {len(missed)} target(s): " + "; ".join(missed) + "."


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


# --- JSON -----------------------------------------------------------------------------------------


def as_json(run: ScaleRun) -> dict[str, Any]:
    return {
        "benchmark": "scaleout",
        **run.meta,
        "cores": run.cores,
        "notes": [note(run.cores), *([SQLITE_NOTE] if run.one_writer else [])],
        "targets": {"errors": 0, "conflicts": 0, "lost_writes": 0, "growth_above": GROWTH_TARGET},
        "rounds": [
            {
                **asdict(r),
                "speedup": run.speedup(r),
                "checks": [asdict(c) for c in run.checks(r)],
            }
            for r in run.rounds
        ],
        "all_targets_met": all(c.met for r in run.rounds for c in run.checks(r)),
    }
