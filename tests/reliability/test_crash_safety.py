"""Crash safety: SIGKILL the portal while respondents autosave; nothing acknowledged is lost.

A real ``audit-portal serve`` on a scratch database of the kind under test, twenty respondents
saving ratings to their own returns over HTTP as htmx does, and a SIGKILL half way through
(no shutdown, no rollback by the portal). After a restart on the same database every save the
portal had acknowledged must be there, and nothing may be half-written.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from audit_portal.db import migrate
from bench import driver
from bench.dataset import Dataset, populate, stored_ratings
from bench.figures import count_lost
from bench.servers import Running
from tests.reliability.portal import SECRET_KEY, client_for, half_written, portal

CLIENTS = 20
SAVES_BEFORE_KILL = 3 * CLIENTS  # acknowledged saves before the kill, whatever the machine's speed
START_TIMEOUT_S = 90.0
SAVING_AFTER_KILL_S = 0.5  # clients keep trying (and failing) for this long after it


@dataclass
class Until:
    """The load's window, ended early by the kill (``bench.driver`` reads it on every save)."""

    start: float
    deadline: float

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment <= self.deadline


async def _save_then_kill(
    running: Running, dataset: Dataset
) -> tuple[driver.Tally, list[driver.SaveLog]]:
    """Respondents autosave; once enough saves are acknowledged the server gets SIGKILL."""
    client = driver.shared_client(len(dataset.respondents))
    browsers = [driver.Browser(r, client) for r in dataset.respondents]
    tally, now = driver.Tally(), time.perf_counter()
    window = Until(now, now + START_TIMEOUT_S)
    saving = [
        driver._respondent(  # type: ignore[arg-type]
            b, r, dataset.item_ids, window, tally, random.Random(n), (running.base_url,)
        )
        for n, (b, r) in enumerate(zip(browsers, dataset.respondents, strict=True))
    ]
    load = asyncio.gather(*saving)
    try:
        while tally.saved < SAVES_BEFORE_KILL and time.perf_counter() < window.deadline:
            await asyncio.sleep(0.05)
        os.kill(running.pid, signal.SIGKILL)
        window.deadline = time.perf_counter() + SAVING_AFTER_KILL_S
        logs = await load
    finally:
        await client.close()
    return tally, list(logs)


def test_every_acknowledged_save_survives_a_sigkill(
    empty_database_url: str, tmp_path: Path
) -> None:
    migrate(empty_database_url)
    dataset = populate(empty_database_url, CLIENTS, SECRET_KEY)
    with portal(empty_database_url, tmp_path, "portal-killed") as running:
        tally, logs = asyncio.run(_save_then_kill(running, dataset))
    assert tally.saved >= CLIENTS, f"too few saves before the kill to mean anything: {tally}"
    assert tally.errors, "the kill should have cut some saves off"

    with portal(empty_database_url, tmp_path, "portal-restarted") as running:
        stored = stored_ratings(empty_database_url, [r.return_id for r in dataset.respondents])
        lost = count_lost(logs, stored)
        assert lost.checked >= CLIENTS
        assert lost.lost == 0, f"{lost.lost} of {lost.checked} acknowledged saves are missing"
        assert half_written(empty_database_url) == []
        # The restarted portal carries on from what is stored: the first respondent's page
        # shows its last acknowledged rating of an item.
        first = dataset.respondents[0]
        with client_for(running, first) as browser:
            page = browser.get(f"/returns/{first.return_id}")
        assert page.status_code == 200
