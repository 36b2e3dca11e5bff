"""Concurrent respondents autosaving over HTTP, as htmx does, and what each was told.

Each respondent is its own ``Browser`` with its own session cookie and CSRF token,
saving its own return's rating items one after another for the length of a phase. The client
relies only on the autosave's HTTP contract: a POST of ``item-<id>-value`` and
``item-<id>-version``, answered by a fragment that says "Saved at ..." and carries the stored
version in a hidden ``item-<id>-version`` input (or says "Not saved", or shows a conflict).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import uvloop

from bench.client import FAILURES, Client, Reply
from bench.dataset import Respondent

COOKIE_NAME = "audit_portal_session"
RATINGS = (1, 2, 3)
REQUEST_TIMEOUT_S = 30.0
# Under uvicorn's keep-alive timeout (5 s): a connection left idle that long (several servers
# taken in turn, each answering slowly) is dropped by the client first, never reused just as
# the server closes it (broken, the save's fate unknown).
KEEPALIVE_EXPIRY_S = 3.0


class Outcome(StrEnum):
    SAVED = "saved"
    CONFLICT = "conflict"
    ERROR = "error"


@dataclass(frozen=True)
class Window:
    """The measured part of a phase: from the end of the warm-up to the deadline."""

    start: float  # time.perf_counter() values
    deadline: float

    @classmethod
    def starting_now(cls, warmup: float, seconds: float) -> Window:
        start = time.perf_counter() + warmup
        return cls(start, start + seconds)

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment <= self.deadline


@dataclass
class Tally:
    """Everything the clients of one phase saw, added up."""

    requests: int = 0
    saved: int = 0
    conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    saved_in_window: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # responses received in the window

    def add(
        self, outcome: Outcome, error: str, started: float, finished: float, window: Window
    ) -> None:
        self.requests += 1
        if finished in window:
            self.latencies_ms.append((finished - started) * 1000)
            self.saved_in_window += outcome is Outcome.SAVED
        if outcome is Outcome.SAVED:
            self.saved += 1
        elif outcome is Outcome.CONFLICT:
            self.conflicts += 1
        else:
            self.errors[error] += 1


@dataclass
class SaveLog:
    """What one respondent was told about its own return, for the lost-writes check."""

    return_id: int
    acknowledged: dict[str, int] = field(default_factory=dict)  # item -> last value "Saved"
    # item -> values sent after that whose fate is unknown (no answer, or a server error):
    # the database may hold one of them without anything having been lost.
    unconfirmed: dict[str, set[int]] = field(default_factory=dict)


def field_prefix(item_id: str) -> str:
    """The form-field prefix of an item, as the portal's forms name it."""
    return "item-" + item_id.replace(".", "-")


class Answered(Protocol):
    """An HTTP answer: ``bench.client.Reply``, or an httpx response (the tests' own clients)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


def classify(response: Answered, fid: str) -> tuple[Outcome, str, str | None]:
    """(outcome, error kind, version shown) of one autosave response."""
    if response.status_code != 200:
        return Outcome.ERROR, f"HTTP {response.status_code}", None
    body = response.text
    version = shown_version(body, fid)
    if "app-save-status--conflict" in body:
        return Outcome.CONFLICT, "", version
    if "Not saved" in body:
        return Outcome.ERROR, "Not saved (refused)", None
    if "Saved at" in body and version:
        return Outcome.SAVED, "", version
    return Outcome.ERROR, "not a save fragment", None


def shown_version(body: str, fid: str) -> str | None:
    """The value of the hidden ``<fid>-version`` input in a fragment, if there is one."""
    tag = re.search(rf'<input\b[^>]*\bid="{re.escape(fid)}-version"[^>]*>', body)
    if tag is None:
        return None
    value = re.search(r'\bvalue="(\d*)"', tag.group(0))
    return value.group(1) if value else None


class Browser:
    """One respondent's browser: its session cookie and CSRF token on every save, one request
    at a time, over the run's shared client (``bench.client``: aiohttp, kept-alive
    connections, about a tenth of httpx's CPU a request)."""

    def __init__(self, respondent: Respondent, client: Client) -> None:
        self.client = client
        self.headers = {
            "Cookie": f"{COOKIE_NAME}={respondent.session_token}",
            "X-CSRF-Token": respondent.csrf_token,
            "HX-Request": "true",
        }

    async def post(self, base_url: str, path: str, form: dict[str, str]) -> Reply:
        return await self.client.post(base_url + path, form, self.headers)


def shared_client(browsers: int) -> Client:
    """The run's client: a connection for each browser at most. Create it in the run's loop."""
    return Client(timeout_s=REQUEST_TIMEOUT_S, keepalive_s=KEEPALIVE_EXPIRY_S, most=browsers)


async def _respondent(
    browser: Browser,
    respondent: Respondent,
    items: tuple[str, ...],
    window: Window,
    tally: Tally,
    rng: random.Random,
    servers: Sequence[str],
    first: int = 0,
) -> SaveLog:
    """Save one rating after another until the deadline, like a person working down a page.

    Each save goes to the next of ``servers`` (base URLs), starting at ``first``: with several,
    consecutive saves of one person reach different processes, as behind a round-robin load
    balancer.
    """
    log = SaveLog(respondent.return_id)
    versions: dict[str, str] = {}  # what this browser believes is stored: start empty
    last_sent: dict[str, int] = {}
    turn = 0
    while time.perf_counter() < window.deadline:
        item, server = items[turn % len(items)], servers[(first + turn) % len(servers)]
        fid, turn = field_prefix(item), turn + 1
        value = rng.choice([v for v in RATINGS if v != last_sent.get(item)])
        last_sent[item] = value
        form = {f"{fid}-value": str(value), f"{fid}-version": versions.get(item, "")}
        started = time.perf_counter()
        try:
            path = f"/returns/{respondent.return_id}/items/{item}"
            response = await browser.post(server, path, form)
        except FAILURES as problem:  # refused, broken, no answer in time
            tally.add(Outcome.ERROR, type(problem).__name__, started, time.perf_counter(), window)
            log.unconfirmed.setdefault(item, set()).add(value)
            continue
        outcome, error, version = classify(response, fid)
        tally.add(outcome, error, started, time.perf_counter(), window)
        if outcome is Outcome.SAVED and version:
            versions[item] = version
            log.acknowledged[item] = value
            log.unconfirmed.pop(item, None)
        elif outcome is Outcome.CONFLICT and version:
            versions[item] = version  # as a person would after reloading: theirs is current
        elif response.status_code >= 500:
            log.unconfirmed.setdefault(item, set()).add(value)
    return log


def base_urls(base_url: str | Sequence[str]) -> tuple[str, ...]:
    """One server's base URL, or several: always a tuple of them."""
    return (base_url,) if isinstance(base_url, str) else tuple(base_url)


async def drive(
    base_url: str | Sequence[str],
    respondents: tuple[Respondent, ...],
    items: tuple[str, ...],
    warmup: float,
    seconds: float,
    seed: int = 175,
) -> tuple[Tally, list[SaveLog]]:
    """All respondents autosaving at once: the tally and each respondent's save log.

    With several base URLs (processes of one portal on one database) each respondent's saves
    go to them in turn, respondent ``n`` starting at the ``n``-th: every process sees every
    session, and the load is spread evenly.
    """
    servers = base_urls(base_url)
    client = shared_client(len(respondents) * len(servers))
    browsers = [Browser(r, client) for r in respondents]
    tally, window = Tally(), Window.starting_now(warmup, seconds)
    try:
        logs = await asyncio.gather(
            *(
                _respondent(
                    b,
                    r,
                    items,
                    window,
                    tally,
                    random.Random(seed + n),  # noqa: S311
                    servers,
                    n,
                )
                for n, (b, r) in enumerate(zip(browsers, respondents, strict=True))
            )
        )
    finally:
        await client.close()
    return tally, list(logs)


def run(
    base_url: str | Sequence[str],
    respondents: tuple[Respondent, ...],
    items: tuple[str, ...],
    warmup: float,
    seconds: float,
) -> tuple[Tally, list[SaveLog]]:
    """``drive`` from synchronous code, on uvloop (as the portal runs) to keep the client light."""
    return uvloop.run(drive(base_url, respondents, items, warmup, seconds))
