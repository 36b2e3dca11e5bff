"""A lean HTTP/1.1 client for the deadline burst: keep-alive connections and httptools' parser.

The burst must *offer* three times the rate the portal sustains, from the same two cores the
portal runs on. httpx spends about a millisecond of CPU on each request, so at 600 saves a
second the load generator needed more than a core of its own and fell behind its schedule (the
first burst runs sent 170 to 240 of 600 a second). Here a request is a few bytes written to a
socket kept open, and the answer is parsed by httptools (uvicorn's own C parser): tens of
microseconds a request, so the client leaves the cores to the portal and sends what it plans.

Only what the benchmarks need: POST with a body of bytes and GET, answers with a
Content-Length or chunked body, a time-out per request, idle connections dropped before the
server's keep-alive closes them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import cast

import httptools


class Broken(ConnectionError):
    """The connection closed or failed before the whole answer came."""


class TimedOut(TimeoutError):
    """No whole answer within the request's time-out."""


@dataclass(frozen=True)
class Reply:
    status_code: int  # named as httpx names it, so ``bench.driver.classify`` reads either
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class _Answer:
    """What the parser has read of the answer to the request in flight."""

    parser: httptools.HttpResponseParser
    done: asyncio.Future[Reply]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, as a browser's would be."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.answer: _Answer | None = None
        self.closed = False
        self.last_used = time.monotonic()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, request: bytes, done: asyncio.Future[Reply]) -> None:
        assert self.transport is not None
        self.answer = _Answer(httptools.HttpResponseParser(self), done)
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        if self.answer is None:
            return  # nothing asked: the server is closing an idle connection
        try:
            self.answer.parser.feed_data(data)
        except httptools.HttpParserError as problem:
            self._fail(Broken(f"unreadable answer: {problem}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(Broken("connection closed before the answer came"))

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.answer is not None
        self.answer.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        assert self.answer is not None
        self.answer.body += body

    def on_message_complete(self) -> None:
        answer, self.answer = self.answer, None
        assert answer is not None
        if not answer.parser.should_keep_alive():
            self.close()
        if not answer.done.done():
            answer.done.set_result(
                Reply(answer.parser.get_status_code(), answer.headers, bytes(answer.body))
            )

    def _fail(self, problem: Exception) -> None:
        answer, self.answer = self.answer, None
        if answer is not None and not answer.done.done():
            answer.done.set_exception(problem)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Pool:
    """Keep-alive connections to one server, opened as needed and reused while fresh."""

    def __init__(
        self, host: str, port: int, *, timeout_s: float, keepalive_s: float, most: int
    ) -> None:
        self.host, self.port = host, port
        self.timeout_s, self.keepalive_s = timeout_s, keepalive_s
        self.free = asyncio.Semaphore(most)  # connections open at once, at most
        self.idle: deque[_Connection] = deque()
        self.all: set[_Connection] = set()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Reply:
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        return await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    async def get(self, path: str, headers: dict[str, str]) -> Reply:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        return await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def send(self, request: bytes) -> Reply:
        """Send one whole request and wait for its answer (``Broken`` or ``TimedOut`` if none).

        The time-out counts from the call: waiting for a free connection is part of the wait,
        as it is in a browser.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        try:
            await asyncio.wait_for(self.free.acquire(), self.timeout_s)
        except TimeoutError:
            raise TimedOut("no free connection within the time-out") from None
        try:
            connection = await asyncio.wait_for(self._connection(), deadline - loop.time())
        except BaseException:
            self.free.release()
            raise
        done: asyncio.Future[Reply] = loop.create_future()
        timer = loop.call_at(deadline, _expire, done)
        connection.send(request, done)
        try:
            return await done
        finally:
            timer.cancel()
            self._give_back(connection)
            self.free.release()

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self.idle:
            connection = self.idle.pop()  # the most recently used: the least likely to be stale
            if not connection.closed and now - connection.last_used < self.keepalive_s:
                return connection
            connection.close()
            self.all.discard(connection)
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, self.host, self.port)
        self.all.add(connection)
        return connection

    def _give_back(self, connection: _Connection) -> None:
        """Keep a connection for the next request, unless it broke or its answer never came."""
        if connection.closed or connection.answer is not None:
            self.all.discard(connection)
            connection.close()
            return
        connection.last_used = time.monotonic()
        self.idle.append(connection)

    def close(self) -> None:
        for connection in self.all:
            connection.close()
        self.all.clear()
        self.idle.clear()


def _expire(done: asyncio.Future[Reply]) -> None:
    if not done.done():
        done.set_exception(TimedOut("no answer within the time-out"))
