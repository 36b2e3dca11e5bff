"""Per-request helpers shared by every journey: database access and rendering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import anyio
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audit_portal.db import REQUEST_CONNECTIONS, RequestDatabase
from audit_portal.parsing import MAX_ID, parse_int
from audit_portal.returns.listing import ReturnFilter

T = TypeVar("T")
M = TypeVar("M", bound=SQLModel)


async def run_db(request: Request, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
    """Run ``fn(session, *args)`` in the thread pool, in the request's one database session.

    Endpoints are async because they must await the request body; the synchronous SQLModel
    work must not block the event loop, so it always goes through here. ``write=True`` runs
    ``fn`` in a write transaction that commits when it returns (see ``RequestDatabase``).
    """
    database = getattr(request.state, "db", None)
    if database is None:  # outside a guarded route (an error page): a database of its own
        database = request.state.db = RequestDatabase(request.app.state.engine)
    return await run_in_threadpool(database.call, fn, *args, write=write)


_slots: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


def connection_slots() -> asyncio.Semaphore:
    """Requests queue here, on the event loop, for one of the pool's connections.

    A request keeps its connection until it ends. Were it to wait for one in the thread pool
    instead, the threads could all be taken by requests waiting for a connection while the
    requests holding the connections wait for a thread: on deadline day the portal would hang
    until the pool gave up. Waiting here costs no thread.
    """
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(REQUEST_CONNECTIONS)
    return slots


STREAM_CHUNK_BYTES = 64 * 1024


class _StreamedRead:
    """A read on a connection of its own, for a response body sent after the request's session
    has closed (the guard closes it when the endpoint returns, before the body is sent)."""

    def __init__(self, engine: Engine, produce: Callable[[Session], Iterator[bytes]]) -> None:
        self._connection = engine.connect()
        self._session = Session(bind=self._connection, expire_on_commit=False)
        self._pieces = produce(self._session)

    def next_chunk(self) -> bytes:
        """The next ~64 KiB (one trip to the thread pool each); empty at the end."""
        parts, size = [], 0
        for piece in self._pieces:
            parts.append(piece)
            size += len(piece)
            if size >= STREAM_CHUNK_BYTES:
                break
        return b"".join(parts)

    def close(self) -> None:
        try:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()
        finally:
            self._session.close()
            self._connection.close()


async def stream_from_db(
    request: Request, produce: Callable[[Session], Iterator[bytes]]
) -> AsyncIterator[bytes]:
    """A response body read from the database as it is sent: ``produce(session)`` yields it.

    Like a request, the body first queues on the event loop for one of the connection slots
    and keeps its connection until it ends; the reading runs in the thread pool, a chunk per
    trip, so the event loop never waits on the database and memory holds one chunk. The
    connection is given back however the body ends, a client hanging up included.
    """
    engine = request.app.state.engine
    async with connection_slots():
        stream = await run_in_threadpool(_StreamedRead, engine, produce)
        try:
            while chunk := await run_in_threadpool(stream.next_chunk):
                yield chunk
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(stream.close)


async def close_db(request: Request) -> None:
    database = getattr(request.state, "db", None)
    if database is None:
        return
    if database.idle:  # after a write's commit, as on every autosave: no trip to a thread
        database.close()
    else:
        await run_in_threadpool(database.close)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> Response:
    """Render a page, or one named block of it for an htmx request that asks for a fragment.

    A form refused with 400 (the portal's status for every form with errors) gets "Error: " at
    the start of its page title, as the GOV.UK pattern asks, without each page remembering to.
    """
    templates = request.app.state.templates
    ctx = dict(context or {})
    ctx.setdefault("error_prefix", status_code == 400)
    if block is not None:
        return templates.TemplateResponse(
            request, template, ctx, status_code=status_code, block_name=block
        )
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)


def get_or_404(db: Session, model: type[M], object_id: object) -> M:
    found = db.get(model, object_id)
    if found is None:
        raise HTTPException(404)
    return found


async def redirect_with_message(
    request: Request, url: str, text: str, kind: str = "success"
) -> Response:
    """Post/redirect/get, with a message shown on the next page (kept in the server session).

    ``kind`` is ``success`` (green banner) or ``important`` (blue): never use either for an
    error in a form, which stays on the form with an error summary.
    """
    from audit_portal.accounts.sessions import add_flash

    record_id = request.state.web_session.id
    await run_db(request, lambda db: add_flash(db, record_id, text, kind), write=True)
    return RedirectResponse(url, status_code=303)


def return_filter_from(request: Request) -> ReturnFilter:
    """A list of returns' filter and sort, from plain query parameters (bookmarkable)."""
    q = request.query_params
    return ReturnFilter(
        status=q.get("status", ""),
        kind=q.get("kind", ""),
        district=q.get("district", ""),
        sort=q.get("sort", "organisation"),
        descending=q.get("order") == "desc",
    ).cleaned()


PAGE_PROBLEM = "The page number must be a whole number, such as 2"
ORGANISATION_PROBLEM = "The organisation must be given by its number, such as 12"


def query_number(
    request: Request, name: str, problem: str, *, low: int = 1, high: int = MAX_ID
) -> int | None:
    """A whole number from the query string (None when absent or empty). Anything else, such as
    "²", thousands of digits or a number out of range, is a 400 with ``problem`` in plain words
    rather than a silently different page."""
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    number = parse_int(text, low=low, high=high)
    if number is None:
        raise HTTPException(400, problem)
    return number
