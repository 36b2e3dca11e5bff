"""Concurrent edits: two colleagues hammering the same answer never overwrite each other silently.

Two respondents of one school, each in their own browser session, save the same rating over
and over through the autosave route of a real ``audit-portal serve``, each naming the version
it last saw, as the page does. The version rule must hold under that load: every save the
portal acknowledged is the stored value at the version it was given (one version, one value),
every other save was answered with a conflict showing the newer answer, and the audit trail has
exactly one save per version.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, update

from audit_portal.db import migrate
from audit_portal.models import Membership, Return
from bench import driver
from bench.dataset import Respondent, populate, rating_items, stored_ratings
from tests.reliability.portal import SECRET_KEY, answer_history, portal

SAVES_EACH = 40
ITEM = rating_items()[0]  # the first rating item of the schools' questionnaire


@dataclass
class Told:
    """What one colleague's browser was told."""

    acknowledged: list[tuple[int, int]] = field(default_factory=list)  # (version, value)
    conflicts: int = 0
    other: list[str] = field(default_factory=list)


def _colleagues(database_url: str) -> tuple[Respondent, Respondent]:
    """Two signed-in respondents of the same school (the second school's user moves over)."""
    first, second = populate(database_url, 2, SECRET_KEY).respondents
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            school = conn.execute(
                Return.__table__.select().where(Return.__table__.c.id == first.return_id)  # type: ignore[attr-defined]
            ).one()
            conn.execute(
                update(Membership)
                .where(Membership.organisation_id != school.organisation_id)  # type: ignore[arg-type]
                .values(organisation_id=school.organisation_id)
            )
    finally:
        engine.dispose()
    return first, Respondent(first.return_id, second.session_token, second.csrf_token)


async def _hammer(browser: driver.Browser, base_url: str, return_id: int, seed: int) -> Told:
    """Save SAVES_EACH new ratings, each based on the version this browser last saw."""
    told, version, rng = Told(), "", random.Random(seed)
    fid = driver.field_prefix(ITEM)
    for _ in range(SAVES_EACH):
        value = rng.choice(driver.RATINGS)
        form = {f"{fid}-value": str(value), f"{fid}-version": version}
        response = await browser.post(base_url, f"/returns/{return_id}/items/{ITEM}", form)
        outcome, error, shown = driver.classify(response, fid)
        if outcome is driver.Outcome.SAVED and shown:
            told.acknowledged.append((int(shown), value))
            version = shown
        elif outcome is driver.Outcome.CONFLICT and shown:
            told.conflicts += 1
            version = shown  # as a person would after reading the other answer
        else:
            told.other.append(error)
    return told


async def _both(base_url: str, colleagues: tuple[Respondent, Respondent]) -> list[Told]:
    client = driver.shared_client(len(colleagues))
    browsers = [driver.Browser(c, client) for c in colleagues]
    try:
        return list(
            await asyncio.gather(
                *(
                    _hammer(b, base_url, r.return_id, n)
                    for n, (b, r) in enumerate(zip(browsers, colleagues, strict=True))
                )
            )
        )
    finally:
        await client.close()


def test_two_colleagues_saving_one_answer_never_lose_a_write_silently(
    empty_database_url: str, tmp_path: Path
) -> None:
    migrate(empty_database_url)
    colleagues = _colleagues(empty_database_url)
    return_id = colleagues[0].return_id
    with portal(empty_database_url, tmp_path, "portal") as running:
        started = time.perf_counter()
        told = asyncio.run(_both(running.base_url, colleagues))
        elapsed = time.perf_counter() - started

    assert [t.other for t in told] == [[], []], "every save was answered saved or conflict"
    assert all(t.acknowledged for t in told), "both colleagues saved something"
    assert sum(t.conflicts for t in told) > 0, f"no contention in {elapsed:.1f} s: not a test"
    history = answer_history(empty_database_url)[(return_id, ITEM)]
    stored = stored_ratings(empty_database_url, [return_id])[(return_id, ITEM)]
    assert history[-1] == stored
    for n, colleague in enumerate(told):
        for version, value in colleague.acknowledged:
            assert history[version - 1] == value, (
                f"colleague {n + 1} was told version {version} holds {value}, "
                f"but the saves recorded were {history}"
            )
    newest = max((v for t in told for v in t.acknowledged), key=lambda saved: saved[0])
    assert newest == (len(history), stored)
