"""Deadline day beyond what one process can serve: a fast 503 with Retry-After, never a hang.

The limits are set low (a handful of requests at once) so that an ordinary burst overloads the
portal; every answer must be a page or a plain 503, none a 500, all within seconds, and the
portal must serve normally straight afterwards. The default limits are what the README says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.accounts.sessions import COOKIE_NAME
from audit_portal.config import MOST_ACTIVE_REQUESTS, Settings
from audit_portal.db import REQUEST_CONNECTIONS, session_scope
from audit_portal.models import Answer
from audit_portal.web.app import create_app
from audit_portal.web.reports import pack_queue
from tests.builders import visible_text
from tests.conftest import make_settings
from tests.personas import World, signed_in

BASE_URL = "http://127.0.0.1:8000"
BURST = 60
NO_HANG_S = 25  # far beyond what the burst needs; a queue into time-outs would exceed it


def busy_app(database_url: str, engine: Engine, tmp_path: Path, **limits: str) -> Starlette:
    return create_app(make_settings(database_url, tmp_path, **limits), engine=engine)


def one_place_app(database_url: str, engine: Engine, tmp_path: Path) -> Starlette:
    """One request served at once, none waiting: a second request at once gets a 503."""
    return busy_app(
        database_url,
        engine,
        tmp_path,
        MAX_ACTIVE_REQUESTS="1",
        MAX_WAITING_REQUESTS="0",
        MAX_WAIT_MS="5000",
    )


def sign_in(
    app: Starlette, engine: Engine, world: World, persona: str = "respondent_a"
) -> tuple[str, str]:
    """The session cookie and CSRF token of one of the world's people (organisation A's
    respondent unless ``persona`` says otherwise)."""
    with TestClient(app, base_url=BASE_URL) as client:
        token = signed_in(client, engine, world.people[persona])
        return client.cookies[COOKIE_NAME], token


def client_for(app: Starlette, cookie: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, cookies={COOKIE_NAME: cookie}
    )


def stored_answers(engine: Engine) -> dict[str, object]:
    with session_scope(engine, write=False) as db:
        return {a.item_id: a.value["v"] for a in db.exec(select(Answer)).all()}


def test_the_limits_default_to_fewer_than_the_connections_kept_for_requests(
    settings: Settings,
) -> None:
    assert settings.max_active_requests == 8 < REQUEST_CONNECTIONS
    assert MOST_ACTIVE_REQUESTS == REQUEST_CONNECTIONS  # the most MAX_ACTIVE_REQUESTS accepts
    assert settings.max_waiting_requests == 300 and settings.max_wait_ms == 10_000


def test_a_burst_beyond_the_limit_gets_fast_503s_and_then_normal_service(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    app = busy_app(
        database_url,
        clean_db,
        tmp_path,
        MAX_ACTIVE_REQUESTS="2",
        MAX_WAITING_REQUESTS="3",
        MAX_WAIT_MS="20000",  # the 3 waiting are served even on a busy test machine
    )
    cookie, _ = sign_in(app, clean_db, world)

    async def burst() -> tuple[list[httpx.Response], httpx.Response, list[httpx.Response]]:
        async with client_for(app, cookie) as http:
            pages = [http.get("/dashboard") for _ in range(BURST)]
            both = asyncio.gather(asyncio.gather(*pages), http.get("/healthz"))
            during, health = await asyncio.wait_for(both, timeout=NO_HANG_S)
            after = [await http.get("/dashboard") for _ in range(5)]
            return during, health, after

    during, health, after = asyncio.run(burst())
    statuses = [r.status_code for r in during]
    assert set(statuses) == {200, 503}, statuses
    assert statuses.count(200) >= 5, "those let in (2 at once, 3 waiting) were served"
    assert statuses.count(503) >= BURST // 2
    for refused in (r for r in during if r.status_code == 503):
        assert refused.headers["Retry-After"] == "5"
        assert refused.headers["Cache-Control"] == "no-store"
        assert "unsafe-inline" not in refused.headers["Content-Security-Policy"]
        page = visible_text(refused.text)
        assert "Sorry, the service is unavailable" in page
        assert "a lot of people are using it at once" in page and "try again" in page
    assert health.status_code == 200, "the load balancer still sees a healthy, busy instance"
    assert [r.status_code for r in after] == [200] * 5
    assert all("Alpha Primary School" in r.text for r in after)


def test_a_request_that_waits_too_long_for_a_turn_gets_a_503(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    app = busy_app(
        database_url,
        clean_db,
        tmp_path,
        MAX_ACTIVE_REQUESTS="1",
        MAX_WAITING_REQUESTS="1000",
        MAX_WAIT_MS="30",
    )
    cookie, _ = sign_in(app, clean_db, world)

    async def burst() -> list[httpx.Response]:
        async with client_for(app, cookie) as http:
            pages = [http.get("/dashboard") for _ in range(30)]
            return await asyncio.wait_for(asyncio.gather(*pages), timeout=NO_HANG_S)

    statuses = [r.status_code for r in asyncio.run(burst())]
    assert set(statuses) == {200, 503}, "one at a time, and none may wait more than 30 ms"


def test_a_refused_autosave_stores_nothing_and_saves_when_sent_again(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    app = one_place_app(database_url, clean_db, tmp_path)
    cookie, token = sign_in(app, clean_db, world)
    return_id = world.returns[world.org_a]
    hx = {"X-CSRF-Token": token, "HX-Request": "true"}

    def save(item: str, value: str) -> dict[str, str]:
        prefix = "item-" + item.replace(".", "-")
        return {f"{prefix}-value": value, f"{prefix}-version": ""}

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        body_may_finish = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            # The only turn is held by a save whose body has not finished arriving.
            await body_may_finish.wait()
            yield b"item-s175-1-2-value=3&item-s175-1-2-version="

        async with client_for(app, cookie) as http:
            slow = asyncio.ensure_future(
                http.post(
                    f"/returns/{return_id}/items/s175.1.2",
                    content=slow_body(),
                    headers={**hx, "Content-Type": "application/x-www-form-urlencoded"},
                )
            )
            await asyncio.sleep(0.2)  # it has taken the turn and waits for its body
            url = f"/returns/{return_id}/items/s175.1.1"
            refused = await asyncio.wait_for(
                http.post(url, data=save("s175.1.1", "2"), headers=hx), timeout=NO_HANG_S
            )
            body_may_finish.set()
            held = await asyncio.wait_for(slow, timeout=NO_HANG_S)
            assert stored_answers(clean_db) == {"s175.1.2": 3}, "the refused save stored nothing"
            again = await http.post(url, data=save("s175.1.1", "2"), headers=hx)
            return refused, held, again

    refused, held, again = asyncio.run(scenario())
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert visible_text(refused.text) == (
        "Not saved yet: the portal is very busy. Trying again in a few seconds."
    )
    assert held.status_code == 200 and "Saved" in held.text
    assert again.status_code == 200 and "Saved" in again.text
    assert stored_answers(clean_db) == {"s175.1.1": 2, "s175.1.2": 3}


def test_a_refused_form_says_it_was_not_saved(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    app = busy_app(
        database_url, clean_db, tmp_path, MAX_ACTIVE_REQUESTS="1", MAX_WAITING_REQUESTS="0"
    )
    cookie, token = sign_in(app, clean_db, world)

    async def scenario() -> httpx.Response:
        release = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            await release.wait()
            yield b""

        async with client_for(app, cookie) as http:
            slow = asyncio.ensure_future(
                http.post(
                    "/sign-out",
                    content=slow_body(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            )
            await asyncio.sleep(0.2)
            refused = await http.post("/sign-out", data={"csrf_token": token})
            release.set()
            await asyncio.wait_for(slow, timeout=NO_HANG_S)
            return refused

    refused = asyncio.run(scenario())
    assert refused.status_code == 503
    page = visible_text(refused.text)
    assert "what you sent has not been saved" in page and "send it again" in page


def test_a_pack_waiting_for_its_turn_leaves_its_place_to_other_requests(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    """Packs are made one at a time. One waiting for its turn gives its place among the
    requests served at once back: with one place, a school's save is still served (it was
    refused with 503 while the pack held the place), and the pack is made afterwards."""
    app = one_place_app(database_url, clean_db, tmp_path)
    scrutineer, _ = sign_in(app, clean_db, world, "scrutineer")
    cookie, token = sign_in(app, clean_db, world)
    return_id = world.returns[world.org_a]
    hx = {"X-CSRF-Token": token, "HX-Request": "true"}
    save = {"item-s175-1-1-value": "3", "item-s175-1-1-version": ""}

    async def scenario() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        queue = pack_queue()
        await queue.turn.acquire()  # another pack is being made
        async with client_for(app, scrutineer) as reader, client_for(app, cookie) as school:
            pack = asyncio.ensure_future(reader.get(f"/campaigns/{world.campaign_id}/report.pdf"))
            for _ in range(500):  # until the pack waits for its turn
                await asyncio.sleep(0.01)
                if queue.waiting:
                    break
            saved = await asyncio.wait_for(
                school.post(f"/returns/{return_id}/items/s175.1.1", data=save, headers=hx),
                timeout=NO_HANG_S,
            )
            queue.turn.release()
            made = await asyncio.wait_for(pack, timeout=NO_HANG_S)
            after = await school.get("/dashboard")
            return saved, made, after

    saved, made, after = asyncio.run(scenario())
    assert saved.status_code == 200 and "Saved" in saved.text
    assert stored_answers(clean_db) == {"s175.1.1": 3}
    assert made.status_code == 200 and made.content.startswith(b"%PDF")
    assert after.status_code == 200 and "Alpha Primary School" in after.text


def test_packs_waiting_for_their_turn_are_limited_and_the_next_is_told_to_come_back(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    """Packs waiting for their turn cost nothing while they wait, but each takes a second or
    more to make: beyond MAX_WAITING_PACKS, a request for one gets a plain 503 at once with
    Retry-After (it used to wait, behind every other, however long the line)."""
    app = busy_app(database_url, clean_db, tmp_path, MAX_WAITING_PACKS="1")
    scrutineer, _ = sign_in(app, clean_db, world, "scrutineer")
    address = f"/campaigns/{world.campaign_id}/report.pdf"

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        queue = pack_queue()
        await queue.turn.acquire()  # another pack is being made
        async with client_for(app, scrutineer) as first, client_for(app, scrutineer) as second:
            waiting = asyncio.ensure_future(first.get(address))
            for _ in range(500):  # until the first pack waits for its turn
                await asyncio.sleep(0.01)
                if queue.waiting:
                    break
            refused = await asyncio.wait_for(second.get(address), timeout=NO_HANG_S)
            queue.turn.release()
            made = await asyncio.wait_for(waiting, timeout=NO_HANG_S)
            return refused, made

    refused, made = asyncio.run(scenario())
    assert refused.status_code == 503 and refused.headers["retry-after"] == "60"
    assert "no-store" in refused.headers["cache-control"]
    text = visible_text(refused.text)
    assert "Many people are downloading the pack just now" in text
    assert "Try again in a minute" in text
    assert made.status_code == 200 and made.content.startswith(b"%PDF")


def test_with_no_pack_allowed_to_wait_a_pack_is_still_made_when_none_is_being_made(
    database_url: str, clean_db: Engine, world: World, tmp_path: Path
) -> None:
    """MAX_WAITING_PACKS=0 means no pack waits, not that no pack is made."""
    app = busy_app(database_url, clean_db, tmp_path, MAX_WAITING_PACKS="0")
    scrutineer, _ = sign_in(app, clean_db, world, "scrutineer")

    async def scenario() -> httpx.Response:
        async with client_for(app, scrutineer) as reader:
            address = f"/campaigns/{world.campaign_id}/report.pdf"
            return await asyncio.wait_for(reader.get(address), timeout=NO_HANG_S)

    made = asyncio.run(scenario())
    assert made.status_code == 200 and made.content.startswith(b"%PDF")
