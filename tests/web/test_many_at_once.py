"""Deadline day: many more people at once than the database pool has connections.

Each request keeps one connection for its whole life. If requests waited for a connection in
the thread pool, those holding one could never get a thread back to finish: with a pool of 20
and 40 threads, 200 respondents saving at once hung the portal until the pool gave up. They
now queue for a connection on the event loop instead, so every request completes.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.accounts.sessions import COOKIE_NAME
from tests.personas import World, signed_in

AT_ONCE = 120  # three times the thread pool, six times the connection pool


def test_more_requests_at_once_than_connections_all_complete(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people["respondent_a"])
        cookie = client.cookies[COOKIE_NAME]

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8000", cookies={COOKIE_NAME: cookie}
        ) as http:
            pages = [http.get("/dashboard") for _ in range(AT_ONCE)]
            # Well beyond what 120 small pages need; a hang waits for the pool's 30 s timeout.
            return await asyncio.wait_for(asyncio.gather(*pages), timeout=25)

    responses = asyncio.run(all_at_once())
    assert [r.status_code for r in responses] == [200] * AT_ONCE
    assert all("Alpha Primary School" in r.text for r in responses)
