"""How much database work a request does: one session, and few statements, on both databases.

An autosave is the hottest path of the portal (every school saving at once on deadline day),
so its statement count is a budget; a section page must not grow with the number of answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, event
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.audit import AuditContext
from audit_portal.config import PROJECT_ROOT
from audit_portal.db import session_scope
from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.locks import lock_version
from tests.personas import World, signed_in

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@pytest.fixture(autouse=True)
def opened(clean_db: Engine, world: World) -> None:
    """The campaign's questionnaire version is locked, as opening a real campaign does."""
    catalogue = load_catalogue(PROJECT_ROOT / "questionnaires")
    with session_scope(clean_db, write=True) as db:
        lock_version(
            db, catalogue, "section-175-schools", "2025.1", "test", AuditContext(None, "t")
        )


@dataclass
class Counts:
    statements: list[str] = field(default_factory=list)
    checkouts: int = 0


@contextmanager
def counting(engine: Engine) -> Iterator[Counts]:
    counts = Counts()

    def on_execute(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            counts.statements.append(statement)

    def on_checkout(dbapi_connection, record, proxy):  # type: ignore[no-untyped-def]
        counts.checkouts += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)


def autosave(client: TestClient, token: str, return_id: int, item: str, value: str, version: str):  # type: ignore[no-untyped-def]
    prefix = "item-" + item.replace(".", "-")
    return client.post(
        f"/returns/{return_id}/items/{item}",
        data={f"{prefix}-value": value, f"{prefix}-version": version},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )


def test_an_autosave_uses_one_session_and_at_most_eight_statements(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        client.get(f"/returns/{return_id}")  # the session is touched once, then not for a minute
        with counting(clean_db) as first:
            assert "Saved" in autosave(client, token, return_id, "s175.1.1", "3", "").text
        with counting(clean_db) as second:
            assert "Saved" in autosave(client, token, return_id, "s175.1.1", "2", "1").text
    for counts in (first, second):
        assert counts.checkouts == 1, "one connection (one session) for the whole request"
        assert len(counts.statements) <= 8, "\n".join(counts.statements)


def test_the_return_overview_opens_one_session(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people["respondent_a"])
        client.get("/dashboard")
        with counting(clean_db) as counts:
            assert client.get(f"/returns/{world.returns[world.org_a]}").status_code == 200
    assert counts.checkouts == 1
    assert len(counts.statements) <= 13, "\n".join(counts.statements)


def test_a_section_page_does_not_grow_with_its_answers(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        client.get("/dashboard")
        with counting(clean_db) as empty:
            assert client.get(f"/returns/{return_id}/sections/s175.1").status_code == 200
        for n in range(1, 7):
            autosave(client, token, return_id, f"s175.1.{n}", "3", "")
        with counting(clean_db) as full:
            assert client.get(f"/returns/{return_id}/sections/s175.1").status_code == 200
        with counting(clean_db) as check:
            assert client.get(f"/returns/{return_id}/check").status_code == 200
    assert len(full.statements) == len(empty.statements) <= 13, "\n".join(full.statements)
    assert len(check.statements) <= 13, "\n".join(check.statements)
