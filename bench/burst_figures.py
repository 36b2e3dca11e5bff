"""The figures of a deadline burst, its targets, and the table and JSON they print as.

Pure: the records of every save in, text or JSON-ready dictionaries out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.figures import Check, LostWrites, percentiles
from bench.open_loop import Phase, Record, Result

RECOVERY_TARGET_S = 60.0
FAST_REFUSAL_MS = 1000.0  # a refusal is "fast" when it comes back within a second
SLICE_S = 5.0  # the after phase is judged in slices of this many seconds
CLIENT_KEPT_UP = 0.9  # below this share of the burst's rate the figures describe the client


@dataclass(frozen=True)
class PhaseFigures:
    name: str
    rate: float
    seconds: float
    results: dict[str, int]  # Result value -> count
    with_retry_after: int  # 503s and 429s that said when to come back
    saved_p50_ms: float | None
    saved_p99_ms: float | None
    refused_p99_ms: float | None
    sent_per_second: float  # what the client managed to send: below ``rate`` when it lagged
    client_late_p99_ms: float | None

    @property
    def refused(self) -> int:
        return self.results.get(Result.BUSY, 0) + self.results.get(Result.OVER_SHARE, 0)

    @property
    def failed(self) -> int:
        """Errors and time-outs: what must never happen, overloaded or not."""
        return self.results.get(Result.ERROR, 0) + self.results.get(Result.TIMEOUT, 0)

    @property
    def answered(self) -> int:
        return sum(n for r, n in self.results.items() if r != Result.NOT_SENT)


@dataclass(frozen=True)
class Report:
    sustainable_rate: float
    phases: tuple[PhaseFigures, ...]
    normal_p99_ms: float | None
    recovery_s: float | None  # seconds after the burst until latency stayed normal; None: never
    lost_writes: LostWrites
    error_kinds: dict[str, int]
    portal_logged: dict[str, int]

    def checks(self) -> list[Check]:
        refused = sum(p.refused for p in self.phases)
        told = sum(p.with_retry_after for p in self.phases)
        failed = sum(p.failed for p in self.phases)
        burst = self.phase("burst")
        refusal = burst.refused_p99_ms
        kept_up = burst.sent_per_second >= CLIENT_KEPT_UP * burst.rate
        return [
            Check(
                "client sent the burst's rate",
                f"≥ {CLIENT_KEPT_UP:.0%}",
                f"{burst.sent_per_second:,.0f} of {burst.rate:,.0f}/s",
                kept_up,
            ),
            Check("refusals with Retry-After", "all", f"{told:,} of {refused:,}", told == refused),
            Check(
                "refusal p99 in the burst",
                f"< {FAST_REFUSAL_MS:,.0f} ms",
                _ms(refusal),
                refusal is None or refusal < FAST_REFUSAL_MS,
            ),
            Check("errors and time-outs", "0", f"{failed:,}", failed == 0),
            Check(
                "back to normal latency",
                f"≤ {RECOVERY_TARGET_S:.0f} s",
                "not within the after phase"
                if self.recovery_s is None
                else f"{self.recovery_s:g} s",
                self.recovery_s is not None and self.recovery_s <= RECOVERY_TARGET_S,
            ),
            Check("lost writes", "0", f"{self.lost_writes.lost:,}", self.lost_writes.lost == 0),
        ]

    def phase(self, name: str) -> PhaseFigures:
        return next(p for p in self.phases if p.name == name)

    def render(self, meta: dict[str, str]) -> str:
        lines = [f"Deadline burst benchmark on {meta['database']}", ""]
        lines += [f"  {key:<17} {value}" for key, value in meta.items() if key != "database"]
        lines += ["", f"  sustainable rate  {self.sustainable_rate:,.1f} acknowledged saves/s", ""]
        lines += [*self._phase_table(), "", *self._check_table()]
        if self.error_kinds:
            lines.append(
                "  errors: " + ", ".join(f"{k} × {n:,}" for k, n in self.error_kinds.items())
            )
        if self.portal_logged:
            lines.append("  the portal logged:")
            lines += [f"    {n:>6} × {line}" for line, n in list(self.portal_logged.items())[:8]]
        missed = [c.name for c in self.checks() if not c.met]
        lines += [
            "",
            "RESULT: every target met."
            if not missed
            else "RESULT: MISSED " + "; ".join(missed) + ".",
        ]
        return "\n".join(lines)

    def _phase_table(self) -> list[str]:
        head = (
            "phase",
            "saves/s planned (sent)",
            "saved",
            "503",
            "429",
            "conflict",
            "error",
            "time-out",
            "not sent",
            "saved p50 / p99",
            "503 p99",
            "client late p99",
        )
        rows = [head]
        for p in self.phases:
            r = p.results
            rows.append(
                (
                    p.name,
                    f"{p.rate:,.0f} × {p.seconds:g} s ({p.sent_per_second:,.0f} sent)",
                    f"{r.get(Result.SAVED, 0):,}",
                    f"{r.get(Result.BUSY, 0):,} ({_share(r.get(Result.BUSY, 0), p.answered)})",
                    f"{r.get(Result.OVER_SHARE, 0):,}",
                    f"{r.get(Result.CONFLICT, 0):,}",
                    f"{r.get(Result.ERROR, 0):,}",
                    f"{r.get(Result.TIMEOUT, 0):,}",
                    f"{r.get(Result.NOT_SENT, 0):,}",
                    f"{_ms(p.saved_p50_ms)} / {_ms(p.saved_p99_ms)}",
                    _ms(p.refused_p99_ms),
                    _ms(p.client_late_p99_ms),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        return [
            "  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        ]

    def _check_table(self) -> list[str]:
        lines = [f"  {'figure':<27} {'measured':<28} {'target':<10} result"]
        for c in self.checks():
            lines.append(
                f"  {c.name:<27} {c.measured:<28} {c.target:<10} {'met' if c.met else 'MISSED'}"
            )
        lines.append(f"  {'normal latency (before) p99':<27} {_ms(self.normal_p99_ms)}")
        return lines

    def as_json(self, meta: dict[str, str]) -> dict[str, Any]:
        return {
            "benchmark": "burst",
            **meta,
            **asdict(self),
            "checks": [asdict(c) for c in self.checks()],
            "all_targets_met": all(c.met for c in self.checks()),
        }


def summarise(
    records: Sequence[Record],
    phases: Sequence[Phase],
    rate: float,
    lost: LostWrites,
    logged: dict[str, int],
) -> Report:
    by_phase: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_phase[record.phase].append(record)
    figures = tuple(_phase_figures(p, by_phase[p.name]) for p in phases)
    normal = figures[0].saved_p99_ms
    after_start = sum(p.seconds for p in phases[:-1])
    errors = Counter(
        f"{r.result}: {r.detail}" for r in records if r.result in (Result.ERROR, Result.TIMEOUT)
    )
    return Report(
        sustainable_rate=rate,
        phases=figures,
        normal_p99_ms=normal,
        recovery_s=recovery(by_phase[phases[-1].name], after_start, normal),
        lost_writes=lost,
        error_kinds=dict(errors.most_common()),
        portal_logged=logged,
    )


def _phase_figures(phase: Phase, records: Sequence[Record]) -> PhaseFigures:
    saved = [r.latency_ms for r in records if r.result is Result.SAVED]
    refused = [r for r in records if r.result in (Result.BUSY, Result.OVER_SHARE)]
    sent = [r for r in records if r.result is not Result.NOT_SENT]
    p50, _, p99 = percentiles(saved)
    return PhaseFigures(
        name=phase.name,
        rate=phase.rate,
        seconds=phase.seconds,
        results={str(k): n for k, n in Counter(r.result for r in records).items()},
        with_retry_after=sum(r.retry_after for r in refused),
        saved_p50_ms=p50,
        saved_p99_ms=p99,
        refused_p99_ms=percentiles([r.latency_ms for r in refused])[2],
        sent_per_second=_sent_rate(phase, records),
        client_late_p99_ms=percentiles([r.late_ms for r in sent])[2],
    )


def _sent_rate(phase: Phase, records: Sequence[Record]) -> float:
    """Saves sent a second, from the first send to the last (the schedule spaces them evenly)."""
    moments = [r.sent_at for r in records if r.result is not Result.NOT_SENT]
    if len(moments) < 2:
        return 0.0
    return len(moments) / (max(moments) - min(moments) + 1 / phase.rate)


def normal_limit(normal_p99_ms: float) -> float:
    """Latency counts as normal again within twice the p99 before the burst (or 100 ms more)."""
    return max(2 * normal_p99_ms, normal_p99_ms + 100)


def recovery(
    after: Sequence[Record],
    after_start: float,
    normal_p99_ms: float | None,
    slice_s: float = SLICE_S,
) -> float | None:
    """Seconds from the burst's end to the start of the first slice from which every slice was
    normal: no refusal, error or time-out, and the p95 of its saves within ``normal_limit``.
    Saves the client did not send are the client's doing and left out; p95 rather than p99, so
    that one slow save in a slice of a few hundred does not hide a recovery."""
    if normal_p99_ms is None or not after:
        return None
    slices: dict[int, list[Record]] = defaultdict(list)
    for record in after:
        if record.result is not Result.NOT_SENT:
            slices[int((record.sent_at - after_start) // slice_s)].append(record)
    if not slices:
        return None
    limit, since = normal_limit(normal_p99_ms), None
    for index in range(max(slices) + 1):
        records = slices.get(index, [])
        normal = all(r.result in (Result.SAVED, Result.CONFLICT) for r in records) and (
            not records or (percentiles([r.latency_ms for r in records])[1] or 0) <= limit
        )
        if not normal:
            since = None
        elif since is None:
            since = index * slice_s
    return since


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"
