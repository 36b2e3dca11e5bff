"""The burst benchmark's lean HTTP client, against a small server on a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import uvloop

from bench import wire

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """Reads whole requests on each connection and answers each as told; counts connections."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.open_now = 0
        self.most_open = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                await self.answer(request, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_now -= 1
            writer.close()


def run(
    answer: Answer, client: Callable[[wire.Pool, Server], Awaitable[None]], **pool: int
) -> None:
    async def main() -> None:
        server = Server(answer)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        connections = wire.Pool(
            "127.0.0.1", port, timeout_s=1.0, keepalive_s=2.0, most=pool.get("most", 10)
        )
        try:
            await client(connections, server)
        finally:
            connections.close()
            listening.close()

    uvloop.run(main())


async def echo(request: bytes, writer: asyncio.StreamWriter) -> None:
    body = request.split(b"\r\n\r\n", 1)[1]
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nRetry-After: 60\r\n\r\n" % len(body))
    writer.write(body)


def test_answers_are_read_whole_and_the_connection_is_kept_for_the_next_request() -> None:
    async def client(pool: wire.Pool, server: Server) -> None:
        first = await pool.post("/returns/1/items/a", b"x=1", {"X-CSRF-Token": "t"})
        second = await pool.post("/returns/1/items/b", b"x=22", {})
        assert (first.status_code, first.text, first.headers["retry-after"]) == (200, "x=1", "60")
        assert second.text == "x=22"
        assert server.connections == 1
        assert server.requests[0].startswith(b"POST /returns/1/items/a HTTP/1.1\r\n")
        assert b"\r\nX-CSRF-Token: t\r\n" in server.requests[0]
        assert b"\r\nContent-Length: 3\r\n" in server.requests[0]

    run(echo, client)


def test_a_chunked_answer_is_joined() -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"5\r\nSaved\r\n3\r\n at\r\n0\r\n\r\n")

    async def client(pool: wire.Pool, server: Server) -> None:
        reply = await pool.post("/", b"", {})
        assert (reply.status_code, reply.text) == (503, "Saved at")

    run(chunked, client)


def test_no_answer_is_a_time_out_and_that_connection_is_not_used_again() -> None:
    async def silent_once(request: bytes, writer: asyncio.StreamWriter) -> None:
        if b"slow" not in request:
            await echo(request, writer)

    async def client(pool: wire.Pool, server: Server) -> None:
        with pytest.raises(wire.TimedOut):
            await pool.post("/", b"slow", {})
        assert (await pool.post("/", b"quick", {})).text == "quick"
        assert server.connections == 2

    run(silent_once, client)


def test_a_connection_closed_halfway_through_the_answer_is_broken() -> None:
    async def hang_up(request: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some")
        await writer.drain()
        writer.close()

    async def client(pool: wire.Pool, server: Server) -> None:
        with pytest.raises(wire.Broken):
            await pool.post("/", b"", {})

    run(hang_up, client)


def test_no_more_connections_open_at_once_than_allowed() -> None:
    async def slowly(request: bytes, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.05)
        await echo(request, writer)

    async def client(pool: wire.Pool, server: Server) -> None:
        replies = await asyncio.gather(*(pool.post("/", b"%d" % n, {}) for n in range(8)))
        assert sorted(reply.text for reply in replies) == [str(n) for n in range(8)]
        assert server.most_open == 2

    run(slowly, client, most=2)
