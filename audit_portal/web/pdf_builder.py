"""Packs made in a process of their own, so that making one never holds up the event loop.

A scrutineer's pack of a national campaign is seconds of Python: the report's queries bring back
tens of thousands of rows, then reportlab lays out the pages. In a worker thread of the app
process it shared the interpreter lock (the GIL) with the event loop, which waited a switch
interval (5 ms) for the lock each time it needed it, and the garbage collector's full passes
over those objects stopped every thread, the loop included, for 100 to 200 ms at a time
(``bench/pack.py`` at 25,000 organisations: ``/healthz`` answered in 4 ms idle). In a
process of its own the work has its own lock and its own garbage collector; the app process
only pickles the order in and the PDF out. It runs at a lower priority than the app process,
so that when every core is busy the scheduler runs the event loop first.

One builder process per app process, started by the first pack (``spawn``: a fresh interpreter,
safe in a process that runs threads) and kept, so only the first pack pays for starting it;
work queues for it in order. Should it die (killed for memory, say), the work waiting for it
fails and the next call starts a new process. It ends when the app process ends, however that
ends: uvicorn stopped by a signal shuts down, then raises the signal again, so that no exit
handler of the app process runs and the builder would be left behind on its own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from starlette.concurrency import run_in_threadpool

NICENESS = 10  # added to the builder's: requests first, packs when a core is free
_lock = threading.Lock()
_builder: ProcessPoolExecutor | None = None


async def in_builder_process(work: Callable[..., bytes], *args: Any) -> bytes:
    """``work(*args)`` in the builder process, waited for on the event loop. ``work`` must be a
    module-level function and ``args`` picklable."""
    builder, future = await run_in_threadpool(_submit, work, args)  # starting may take a moment
    try:
        return await asyncio.wrap_future(future)
    except BrokenProcessPool:
        _forget(builder)
        raise


def _submit(
    work: Callable[..., bytes], args: tuple[Any, ...]
) -> tuple[ProcessPoolExecutor, Future[bytes]]:
    global _builder
    with _lock:
        if _builder is None:
            spawn = multiprocessing.get_context("spawn")
            _builder = ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=_prepare)
        builder = _builder
    try:
        return builder, builder.submit(work, *args)
    except BrokenProcessPool:  # it died since the last call: start again
        _forget(builder)
        return _submit(work, args)


def _forget(builder: ProcessPoolExecutor) -> None:
    global _builder
    with _lock:
        if _builder is builder:
            _builder = None
    builder.shutdown(wait=False, cancel_futures=True)


def _prepare() -> None:
    """Run in the builder process as it starts: a lower priority, and a watch on the app."""
    if hasattr(os, "nice"):  # not on Windows
        os.nice(NICENESS)
    app = multiprocessing.parent_process()
    if app is not None:
        threading.Thread(target=_end_with, args=(app.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    """Wait until the app process has ended (its end of a pipe closes), then end this one."""
    multiprocessing.connection.wait([sentinel])
    os._exit(0)
