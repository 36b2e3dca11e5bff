"""SQLite is tuned for several writers; both databases share one code path."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, func, text
from sqlmodel import select

from audit_portal.db import REQUEST_CONNECTIONS, RequestDatabase, session_scope
from audit_portal.models import QuestionnaireVersion


def test_sqlite_pragmas_on_every_connection(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL has no pragmas; the rest of this module runs on both.
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_concurrent_read_then_write_transactions_queue_instead_of_failing(
    clean_db: Engine,
) -> None:
    """Each writer reads, pauses, then writes: with deferred BEGIN on SQLite two of them would
    deadlock on the lock upgrade and one would fail with "database is locked"."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with session_scope(clean_db, write=True) as session:
                session.exec(select(func.count()).select_from(QuestionnaireVersion)).one()
                time.sleep(0.05)
                session.add(
                    QuestionnaireVersion(key="k", version=f"2025.{n}", title="t", content_hash="h")
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope(clean_db, write=False) as session:
        assert session.exec(select(func.count()).select_from(QuestionnaireVersion)).one() == 6


def test_a_failed_unit_of_work_leaves_nothing_behind(clean_db: Engine) -> None:
    try:
        with session_scope(clean_db, write=True) as session:
            session.add(
                QuestionnaireVersion(key="k", version="2025.1", title="t", content_hash="h")
            )
            session.flush()
            raise RuntimeError("crash half way")
    except RuntimeError:
        pass
    with session_scope(clean_db, write=False) as session:
        assert session.exec(select(QuestionnaireVersion)).all() == []


def test_the_pool_keeps_every_connection_a_busy_moment_opened(engine: Engine) -> None:
    """Connections opened while every request slot is busy stay open for the next requests:
    with overflow connections, each was closed on its return and the next request beyond the
    pool's size opened a new one (a new PostgreSQL backend), a fifth of the autosave's time."""
    engine.dispose()
    held = [engine.connect() for _ in range(REQUEST_CONNECTIONS)]
    for connection in held:
        connection.close()
    assert engine.pool.checkedin() == REQUEST_CONNECTIONS  # type: ignore[attr-defined]
    again = [engine.connect() for _ in range(REQUEST_CONNECTIONS)]
    assert engine.pool.checkedin() == 0  # type: ignore[attr-defined]
    assert engine.pool.overflow() <= 0  # type: ignore[attr-defined]  # none opened anew
    for connection in again:
        connection.close()


def test_a_write_after_reads_in_one_request_sees_and_keeps_both(clean_db: Engine) -> None:
    """The request's session reads, then writes (on PostgreSQL in the same transaction), then
    closes without a trip to a thread: the write is committed and the connection given back."""
    database = RequestDatabase(clean_db)
    count = select(func.count()).select_from(QuestionnaireVersion)
    assert database.call(lambda db: db.exec(count).one()) == 0
    assert not database.idle  # the read transaction is open
    version = QuestionnaireVersion(key="k", version="2025.1", title="t", content_hash="h")
    database.call(lambda db: db.add(version), write=True)
    assert database.idle  # committed: closing needs no round trip
    database.close()
    with session_scope(clean_db, write=False) as db:
        assert db.exec(count).one() == 1
