"""Overload protection: a fast 503 with Retry-After instead of a queue that ends in time-outs.

On deadline day more people may save at once than one process can serve in time. Without a
limit every request would wait its turn however long the queue, and the ones at the back would
time out in the browser after the portal had done (or not done) their work, so nobody would
know what was saved. Instead, at most ``active`` requests are served at once; up to ``waiting``
more wait for a turn, each for at most ``wait_seconds``; any other request is refused at once
with 503 and ``Retry-After``, before the portal reads its body or touches the database, so a
refused save is certainly not saved and the page's autosave simply sends it again.

``active`` is never more than the database pool's request connections (``connection_slots``),
so a request let in here never waits again for a connection. ``/healthz`` and static files are
exempt: a load balancer must still see a healthy (busy) instance, and pages must keep their
styles. A pure ASGI middleware, so streamed downloads keep their turn until their last byte.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import anyio
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from audit_portal.config import Settings
from audit_portal.web.context import close_db, connection_slots, render

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
LOG_EVERY_SECONDS = 10.0  # one log line per busy spell, not one per refused request
EXEMPT_PATHS = frozenset({"/healthz"})
EXEMPT_PREFIXES = ("/static/",)
BUSY_TITLE = "Sorry, the service is unavailable"
BUSY_PAGE = (
    "The portal is very busy because a lot of people are using it at once. "
    "Wait a few seconds and try again."
)
BUSY_FORM = (
    "The portal is very busy because a lot of people are using it at once, so what you sent "
    "has not been saved. Wait a few seconds, then go back and send it again."
)
BUSY_FRAGMENT = (
    '<p class="govuk-body app-save-status app-save-status--error">'
    "Not saved yet: the portal is very busy. Trying again in a few seconds.</p>"
)


@dataclass(frozen=True)
class Limits:
    """How many requests one process serves at once, and how many may wait, for how long."""

    active: int
    waiting: int
    wait_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            settings.max_active_requests,
            settings.max_waiting_requests,
            settings.max_wait_ms / 1000,
        )


class _Turns:
    """One event loop's turns: the slots being served and the requests waiting for one."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.slots = asyncio.Semaphore(limits.active)
        self.waiting = 0
        self.refused = 0
        self.logged_at = 0.0

    def note_refusal(self) -> None:
        """Count a refusal; say so in the log now and then (a burst refuses hundreds)."""
        self.refused += 1
        now = time.monotonic()
        if now - self.logged_at >= LOG_EVERY_SECONDS:
            log.warning(
                "Busy: refused %d request(s) with 503 since the last report (%d waiting)",
                self.refused,
                self.waiting,
            )
            self.refused, self.logged_at = 0, now

    async def take(self) -> bool:
        """Wait for a turn within the limits; False when the request must be refused."""
        if self.slots.locked() and self.waiting >= self.limits.waiting:
            return False
        self.waiting += 1
        try:
            async with asyncio.timeout(self.limits.wait_seconds):
                await self.slots.acquire()
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        return True


SCOPE_KEY = "audit_portal.overload_turns"


@asynccontextmanager
async def stepping_aside(request: Request) -> AsyncIterator[None]:
    """While a request waits on work done elsewhere (a pack made in the builder process), give
    its turn, its database connection and its connection slot to the requests waiting for them,
    and take them back afterwards (behind whoever is waiting, but with no time limit: it was
    let in once). Packs queue for the builder one at a time; holding their turns meanwhile,
    a handful of people downloading packs would stop every school's autosave.
    """
    turns: _Turns | None = request.scope.get(SCOPE_KEY)
    await close_db(request)
    connections = connection_slots()
    connections.release()
    if turns is not None:
        turns.slots.release()
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):  # the guard and the middleware give them back
            if turns is not None:
                await turns.slots.acquire()
            await connections.acquire()


class OverloadMiddleware:
    """Serve at most ``limits.active`` requests at once; refuse what cannot be served in time."""

    def __init__(self, app: ASGIApp, *, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        # Per event loop, like the connection slots: a semaphore belongs to the loop it waits on.
        self._turns: WeakKeyDictionary[asyncio.AbstractEventLoop, _Turns] = WeakKeyDictionary()

    def _turns_here(self) -> _Turns:
        loop = asyncio.get_running_loop()
        turns = self._turns.get(loop)
        if turns is None:
            turns = self._turns[loop] = _Turns(self.limits)
        return turns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        turns = self._turns_here()
        if not await turns.take():
            turns.note_refusal()
            await busy_response(scope, receive)(scope, receive, send)
            return
        scope[SCOPE_KEY] = turns
        try:
            await self.app(scope, receive, send)
        finally:
            turns.slots.release()


def busy_response(scope: Scope, receive: Receive) -> Response:
    """The 503: a GOV.UK page, or a short fragment for htmx (which keeps the person's answer
    on the page and sends it again)."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if Headers(scope=scope).get("hx-request") == "true":
        return HTMLResponse(BUSY_FRAGMENT, status_code=503, headers=headers)
    request = Request(scope, receive)
    request.state.actor, request.state.flash, request.state.csrf_token = None, [], ""
    detail = BUSY_PAGE if scope.get("method") in {"GET", "HEAD"} else BUSY_FORM
    response = render(
        request,
        "errors/generic.html",
        {"title": BUSY_TITLE, "detail": detail},
        status_code=503,
    )
    response.headers.update(headers)
    return response
