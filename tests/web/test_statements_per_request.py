"""How much database work a request does: one session, and few statements, on both databases.

An autosave is the hottest path of the portal (every school saving at once on deadline day),
so its statement count is a budget; a section page must not grow with the number of answers.
The N+1 guard fills a 100-item return (the benchmark's enlarged questionnaire, served from a
folder of its own) to 10 answers and then to 100, and counts the statements of each page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, insert
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.audit import AuditContext
from audit_portal.config import PROJECT_ROOT, Settings
from audit_portal.db import session_scope
from audit_portal.models import Action, Answer
from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.locks import lock_version
from audit_portal.returns.context import RETURN_OWNER
from audit_portal.web.app import create_app
from bench.questionnaire import ITEMS, answer_rows, definition_in, write_questionnaire
from tests.builders import visible_text
from tests.conftest import make_settings
from tests.personas import World, signed_in

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


ANSWER_COUNTS = (10, ITEMS)


@pytest.fixture
def opened(clean_db: Engine, world: World) -> None:
    """The campaign's questionnaire version is locked, as opening a real campaign does."""
    lock(clean_db, PROJECT_ROOT / "questionnaires")


def lock(engine: Engine, folder: Path) -> None:
    catalogue = load_catalogue(folder)
    with session_scope(engine, write=True) as db:
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


@pytest.mark.usefixtures("opened")
def test_an_autosave_uses_one_session_and_at_most_five_statements(
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
        # The session with the return's owner; the return locked with what the save needs
        # (the item's action count among it, asked for a less effective rating); the answer
        # inserted (its first save: not looked for first) or locked and updated; the return's
        # update (its first change, then once a minute at most); the audit event.
        assert len(counts.statements) <= 5, "\n".join(counts.statements)


@pytest.mark.usefixtures("opened")
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


@pytest.mark.usefixtures("opened")
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


# --- the N+1 guard: 10 and 100 answers on a 100-item return ---------------------------------------


@pytest.fixture(scope="module")
def hundred_items(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_questionnaire(tmp_path_factory.mktemp("questionnaires"))


@pytest.fixture
def hundred_item_app(
    settings: Settings, engine: Engine, hundred_items: Path, tmp_path: Path
) -> Starlette:
    """The portal reading the 100-item definition (same key and version as the campaign's)."""
    own = make_settings(settings.database_url, tmp_path, QUESTIONNAIRES_DIR=str(hundred_items))
    return create_app(own, engine=engine)


def answer_up_to(engine: Engine, folder: Path, return_id: int, before: int, count: int) -> None:
    """Store answers (and the actions their weak ratings need) for items ``before``..``count``."""
    answers, actions = answer_rows(definition_in(folder), return_id, count)
    new_items = {row["item_id"] for row in answers[before:]}
    with engine.begin() as conn:
        conn.execute(insert(Answer), answers[before:])
        new_actions = [a for a in actions if a["item_id"] in new_items]
        if new_actions:
            conn.execute(insert(Action), new_actions)


@pytest.mark.parametrize(
    ("page", "shows"),
    [
        ("sections/s175.2", "Partly in place"),  # partly answered at 10 answers
        ("sections/s175.14", "Partly in place"),  # the last standard: empty at 10 answers
        ("check", "(Copy 31)"),  # every answer on one page
        ("", "Check your answers"),  # the overview and its task list
    ],
    ids=["first-sections", "last-section", "check-answers", "overview"],
)
def test_a_page_makes_as_many_statements_for_100_answers_as_for_10(
    hundred_item_app: Starlette,
    clean_db: Engine,
    world: World,
    hundred_items: Path,
    page: str,
    shows: str,
) -> None:
    lock(clean_db, hundred_items)
    return_id = world.returns[world.org_a]
    url = f"/returns/{return_id}/{page}".rstrip("/")
    counted: dict[int, list[str]] = {}
    with TestClient(hundred_item_app) as client:
        signed_in(client, clean_db, world.people["respondent_a"])
        client.get("/dashboard")  # the session is touched once, then not for a minute
        client.get(url)  # the questionnaire's lock is checked once per process and file
        before = 0
        for count in ANSWER_COUNTS:
            answer_up_to(clean_db, hundred_items, return_id, before, count)
            before = count
            with counting(clean_db) as counts:
                response = client.get(url)
            assert response.status_code == 200
            counted[count] = counts.statements
    assert shows in visible_text(response.text), "the page shows the 100th answer's standard"
    few, many = (counted[n] for n in ANSWER_COUNTS)
    assert len(many) == len(few), "\n\n".join(s for s in many if s not in few)


@pytest.mark.usefixtures("opened")
def test_the_autosave_reads_the_returns_owner_with_the_session_and_refuses_others(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    """The owner rides in the session's statement; read alone (as a scope resolver) it gives
    the same answer; another organisation's return and one that does not exist are both 404."""
    own, other = world.returns[world.org_a], world.returns[world.org_b]
    with session_scope(clean_db, write=False) as db:
        assert RETURN_OWNER(db, {"return_id": own}) == world.org_a
        assert RETURN_OWNER(db, {"return_id": 999_999}) is None
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        for return_id in (other, 999_999):
            refused = autosave(client, token, return_id, "s175.1.1", "3", "")
            assert refused.status_code == 404, return_id
        assert "Saved" in autosave(client, token, own, "s175.1.1", "3", "").text
    with session_scope(clean_db, write=False) as db:
        stored = db.exec(select(Answer.return_id)).all()
    assert stored == [own]
