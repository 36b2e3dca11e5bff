"""The benchmarks' HTTP client, against a small server on a real socket: the answer read whole,
and no cookie carried from one respondent's answer to another's request."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from bench.client import FAILURES, Client


async def answer_with_a_cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length)
            cookie = next(
                (line for line in head.split(b"\r\n") if line.lower().startswith(b"cookie:")),
                b"cookie: none",
            )
            reply = cookie + b" | " + body
            writer.write(
                b"HTTP/1.1 200 OK\r\nSet-Cookie: audit_portal_session=someone-else\r\n"
                b"Retry-After: 5\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply)
            )
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def test_answers_are_read_whole_and_no_cookie_is_kept() -> None:
    async def main() -> None:
        server = await asyncio.start_server(answer_with_a_cookie, "127.0.0.1", 0)
        url = f"http://localhost:{server.sockets[0].getsockname()[1]}"  # a host name: cookie jars take no cookies from IP addresses
        client = Client(timeout_s=2, keepalive_s=2, most=2)
        try:
            first = await client.post(url + "/a", {"item-1-value": "2"}, {"Cookie": "s=mine"})
            second = await client.get(url + "/b", {})
        finally:
            await client.close()
            server.close()
        assert (first.status_code, first.headers["retry-after"]) == (200, "5")
        assert first.text == "Cookie: s=mine | item-1-value=2"
        assert second.text == "cookie: none | ", "the first answer's Set-Cookie was not kept"

    uvloop.run(main())


def test_a_refused_connection_is_one_of_the_failures_counted() -> None:
    async def main() -> None:
        server = await asyncio.start_server(answer_with_a_cookie, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        client = Client(timeout_s=2, keepalive_s=2, most=1)
        try:
            with pytest.raises(FAILURES):
                await client.get(f"http://127.0.0.1:{port}/", {})
        finally:
            await client.close()

    uvloop.run(main())
