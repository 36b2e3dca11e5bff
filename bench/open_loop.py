"""Autosaves sent at a fixed rate whatever the portal answers: how a deadline-day crowd behaves.

``bench.driver`` is a closed loop (each respondent waits for its answer before the next save),
which can never overload a server: it slows down with it. Real people keep arriving, so here
saves leave at a set rate, phase after phase, and whatever the portal cannot serve piles up in
front of it. Each save is one respondent's answer to one item; a respondent may have saves of
different items in flight at once (several colleagues, several tabs), never two of one item, so
a conflict would be a real one. Every save's phase, send time, latency and outcome is recorded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass, field, replace
from enum import StrEnum

import uvloop

from bench.client import FAILURES, Client, Reply
from bench.dataset import Respondent
from bench.driver import (
    REQUEST_TIMEOUT_S,
    Browser,
    Outcome,
    SaveLog,
    classify,
    field_prefix,
)

RATINGS = (1, 2, 3)
CONNECTIONS = 600  # the client's sockets: more than the portal lets in and lets wait
KEEPALIVE_S = 2.0
LATE_LIMIT_S = 1.0  # a save the client could not send within this of its moment is dropped


class Result(StrEnum):
    SAVED = "saved"
    BUSY = "503"  # refused for overload
    OVER_SHARE = "429"  # one client over its share
    CONFLICT = "conflict"
    ERROR = "error"  # anything else the portal answered: a 500, a fragment that is not a save
    TIMEOUT = "time-out"  # no answer within the client's time-out, or a broken connection
    NOT_SENT = "not sent"  # every respondent had a save of every item in flight, or the
    # client was more than LATE_LIMIT_S behind its schedule (it shares the cores with the portal)


@dataclass(frozen=True)
class Phase:
    name: str
    rate: float  # saves per second
    seconds: float


@dataclass(frozen=True)
class Record:
    phase: str
    sent_at: float  # seconds since the first phase began
    latency_ms: float
    result: Result
    retry_after: bool = False  # a 503 or 429 that said when to come back
    detail: str = ""
    late_ms: float = 0.0  # how far behind its schedule the client sent it (a busy client)


@dataclass
class _Respondent:
    who: Respondent
    log: SaveLog
    browser: Browser
    versions: dict[str, str] = field(default_factory=dict)
    last_sent: dict[str, int] = field(default_factory=dict)


def _client() -> Client:
    # uvicorn closes a connection idle for 5 s: reusing one as it closes would be a broken
    # connection that is the client's doing, not the portal's.
    return Client(timeout_s=REQUEST_TIMEOUT_S, keepalive_s=KEEPALIVE_S, most=CONNECTIONS)


async def _save(
    base_url: str,
    person: _Respondent,
    item: str,
    value: int,
    phase: str,
    origin: float,
) -> Record:
    fid = field_prefix(item)
    form = {f"{fid}-value": str(value), f"{fid}-version": person.versions.get(item, "")}
    path = f"/returns/{person.who.return_id}/items/{item}"
    started = time.perf_counter()
    try:
        response = await person.browser.post(base_url, path, form)
    except FAILURES as problem:  # refused, broken, no answer in time
        person.log.unconfirmed.setdefault(item, set()).add(value)
        return Record(phase, started - origin, _ms(started), Result.TIMEOUT, detail=_name(problem))
    return _record(response, person, item, value, phase, started - origin, _ms(started))


def _record(
    response: Reply,
    person: _Respondent,
    item: str,
    value: int,
    phase: str,
    sent_at: float,
    latency_ms: float,
) -> Record:
    """Learn from the answer as htmx would, and keep what the lost-writes check needs.

    A 503 or 429 is refused before anything is stored, so its value is *not* unconfirmed: were
    the database to hold it, the check would count the acknowledged answer as lost.
    """
    status, retry_after = response.status_code, "retry-after" in response.headers
    if status in (503, 429):
        result = Result.BUSY if status == 503 else Result.OVER_SHARE
        return Record(phase, sent_at, latency_ms, result, retry_after)
    outcome, error, version = classify(response, field_prefix(item))
    if outcome is Outcome.SAVED and version:
        person.versions[item] = version
        person.log.acknowledged[item] = value
        person.log.unconfirmed.pop(item, None)
        return Record(phase, sent_at, latency_ms, Result.SAVED)
    if outcome is Outcome.CONFLICT and version:
        person.versions[item] = version
        return Record(phase, sent_at, latency_ms, Result.CONFLICT)
    if status >= 500:
        person.log.unconfirmed.setdefault(item, set()).add(value)
    return Record(phase, sent_at, latency_ms, Result.ERROR, detail=error)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _name(problem: Exception) -> str:
    return type(problem).__name__


async def drive(
    base_url: str,
    respondents: tuple[Respondent, ...],
    items: tuple[str, ...],
    phases: tuple[Phase, ...],
    seed: int = 175,
) -> tuple[list[Record], list[SaveLog]]:
    """Send saves at each phase's rate for its length, then wait for the last answers."""
    rng = random.Random(seed)  # noqa: S311 - choosing ratings, not secrets
    client = _client()
    people = [_Respondent(r, SaveLog(r.return_id), Browser(r, client)) for r in respondents]
    idle = deque((p, item) for item in items for p in people)
    records: list[Record] = []
    pending: set[asyncio.Task[None]] = set()

    try:
        origin = time.perf_counter()

        async def one(person: _Respondent, item: str, value: int, phase: str, due: float) -> None:
            try:
                record = await _save(base_url, person, item, value, phase, origin)
                late_ms = (record.sent_at - (due - origin)) * 1000
                records.append(replace(record, late_ms=late_ms))
            finally:
                idle.append((person, item))

        start = origin
        for phase in phases:
            for due in _schedule(start, phase):
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                late = time.perf_counter() - due > LATE_LIMIT_S
                if late or not idle:
                    why = "client behind" if late else "all in flight"
                    records.append(
                        Record(phase.name, due - origin, 0.0, Result.NOT_SENT, detail=why)
                    )
                    continue
                person, item = idle.popleft()
                value = rng.choice([v for v in RATINGS if v != person.last_sent.get(item)])
                person.last_sent[item] = value
                task = asyncio.create_task(one(person, item, value, phase.name, due))
                pending.add(task)
                task.add_done_callback(pending.discard)
            start += phase.seconds
        if pending:
            await asyncio.gather(*pending)
    finally:
        await client.close()
    return records, [p.log for p in people]


def _schedule(start: float, phase: Phase) -> list[float]:
    """The moments (perf_counter) at which the saves of a phase leave: evenly spaced."""
    count = int(phase.rate * phase.seconds)
    return [start + n / phase.rate for n in range(count)]


def run(
    base_url: str,
    respondents: tuple[Respondent, ...],
    items: tuple[str, ...],
    phases: tuple[Phase, ...],
) -> tuple[list[Record], list[SaveLog]]:
    """``drive`` from synchronous code, on uvloop (as the portal runs) to keep the client light."""
    return uvloop.run(drive(base_url, respondents, items, phases))
