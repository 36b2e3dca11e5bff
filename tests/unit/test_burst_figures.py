"""The deadline-burst benchmark's verdicts, from made-up records (no load, no server)."""

from __future__ import annotations

from bench.burst_figures import recovery, summarise
from bench.figures import LostWrites
from bench.open_loop import Phase, Record, Result

PHASES = (Phase("before", 10, 2), Phase("burst", 30, 2), Phase("after", 10, 5))
AFTER_START = 4.0  # before (2 s) + burst (2 s)


def saves(phase: str, start: float, seconds: int, latency_ms: float) -> list[Record]:
    """Ten acknowledged saves a second."""
    return [Record(phase, start + n / 10, latency_ms, Result.SAVED) for n in range(seconds * 10)]


def burst(*, retry_after: bool = True, result: Result = Result.BUSY) -> list[Record]:
    kept = saves("burst", 2.0, 2, 200)
    refused = [Record("burst", 2.0 + n / 30, 5, result, retry_after) for n in range(60)]
    return kept + refused


def test_latency_counts_as_normal_from_the_first_slice_that_stays_normal() -> None:
    after = saves("after", AFTER_START, 2, 900) + saves("after", AFTER_START + 2, 3, 40)
    assert recovery(after, AFTER_START, normal_p99_ms=40, slice_s=1.0) == 2.0


def test_a_refusal_after_the_burst_restarts_the_clock_and_never_recovering_is_none() -> None:
    refused_late = [Record("after", AFTER_START + 3.5, 5, Result.BUSY, True)]
    after = saves("after", AFTER_START, 5, 40) + refused_late
    assert recovery(after, AFTER_START, normal_p99_ms=40, slice_s=1.0) == 4.0
    slow = [*saves("after", AFTER_START, 5, 40)[:-1], Record("after", 8.9, 900, Result.SAVED)]
    assert recovery(slow, AFTER_START, normal_p99_ms=40, slice_s=1.0) is None


def test_every_target_is_met_by_a_well_behaved_burst() -> None:
    records = saves("before", 0, 2, 40) + burst() + saves("after", AFTER_START, 5, 40)
    report = summarise(records, PHASES, 10, LostWrites(10, 0, 0), {})
    assert [c.name for c in report.checks() if not c.met] == []
    assert report.recovery_s == 0.0
    assert "RESULT: every target met." in report.render({"database": "sqlite"})


def test_refusals_without_retry_after_and_errors_are_missed() -> None:
    records = saves("before", 0, 2, 40) + burst(retry_after=False)
    records += saves("after", AFTER_START, 10, 40)  # recovers 5 s in
    records.append(Record("after", 5.0, 30_000, Result.TIMEOUT, detail="ReadTimeout"))
    report = summarise(records, PHASES, 10, LostWrites(10, 0, 0), {})
    missed = {c.name for c in report.checks() if not c.met}
    assert missed == {"refusals with Retry-After", "errors and time-outs"}
    assert "time-out: ReadTimeout × 1" in report.render({"database": "sqlite"})
