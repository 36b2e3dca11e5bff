"""Engine, sessions and schema status for SQLite and PostgreSQL through one code path.

SQLite is tuned for a web app with several writers: WAL (readers never block the writer),
foreign keys enforced on every connection, a busy timeout, and write transactions that begin
IMMEDIATE so two concurrent savers queue for the write lock instead of one failing with
"database is locked" when it upgrades a read lock half way through.

Endpoints are ``async def`` (they must await the request body); the synchronous session work
runs in the thread pool through ``web.context.run_db``, never on the event loop.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Column,
    ColumnDefault,
    Connection,
    Engine,
    Table,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.engine.url import make_url
from sqlmodel import Session

from audit_portal.config import MOST_ACTIVE_REQUESTS, PROJECT_ROOT, Settings

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 15_000
_BEGIN_MODE = "audit_portal_begin"


# Each web request keeps one pooled connection for its whole life (see RequestDatabase), and
# queues on the event loop for one of REQUEST_CONNECTIONS before it starts (web.context). The
# rest of the pool is left for the worker's sender and reminders, which share the engine.
# Every connection the pool opens is kept (no overflow): an overflow connection is closed
# when it is given back, so under load each request beyond the pool's size opened a new one
# (a new PostgreSQL backend process), which cost a fifth of the autosave's throughput.
POOL_SIZE, MAX_OVERFLOW = 20, 0
REQUEST_CONNECTIONS = POOL_SIZE + MAX_OVERFLOW - 2
assert REQUEST_CONNECTIONS == MOST_ACTIVE_REQUESTS


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings.database_url, url.database)
    # No ping before every checkout (a round trip per request): connections are recycled after
    # half an hour instead, and one that died with the server is thrown away on its first error
    # (SQLAlchemy invalidates the whole pool on a disconnect), so the next request reconnects.
    return create_engine(
        settings.database_url,
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
    )


def _sqlite_engine(database_url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        database_url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # isolation_level=None stops the driver issuing its own (deferred) BEGIN: _on_begin does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def session_scope(engine: Engine, *, write: bool) -> Iterator[Session]:
    """One session per unit of work; commits on success, rolls back on any error.

    ``write=True`` begins IMMEDIATE on SQLite (take the write lock first, then read).
    """
    bind = engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"}) if write else engine
    with Session(bind=bind, expire_on_commit=False) as session:
        try:
            yield session
            if write:
                session.commit()
            # A read session just closes: rollback() would expire the objects it loaded,
            # which the caller still reads after the session has gone.
        except BaseException:
            session.rollback()
            raise


class ValueTooLong(ValueError):
    """A text value longer than its column: refused the same way on SQLite and PostgreSQL.

    SQLite would store it and PostgreSQL would fail with an error deep in a request; every form
    checks its own lengths with a message by the field, and this is the net under them.
    """

    def __init__(self, table: str, column: str, limit: int) -> None:
        super().__init__(f"{table}.{column} is limited to {limit:,} characters")
        self.table, self.column, self.limit = table, column, limit


_limits: dict[Any, tuple[tuple[str, int], ...]] = {}


def _text_limits(table: Any) -> tuple[tuple[str, int], ...]:
    """(column, length) of a table's limited text columns, worked out once per table."""
    found = _limits.get(table)
    if found is None:
        found = tuple(
            (c.key, c.type.length) for c in table.columns if getattr(c.type, "length", None)
        )
        _limits[table] = found
    return found


@event.listens_for(Session, "before_flush")
def _refuse_over_long_text(session: Session, _context: Any, _instances: Any) -> None:
    for instance in (*session.new, *session.dirty):
        table = getattr(instance, "__table__", None)
        if table is None:
            continue
        for key, limit in _text_limits(table):
            value = getattr(instance, key, None)
            if isinstance(value, str) and len(value) > limit:
                raise ValueTooLong(table.name, key, limit)


_writer_locks: dict[int, threading.Lock] = {}


def writer_lock(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, writers of this process queue on a lock of ours before asking for SQLite's.

    SQLite lets one writer in at a time; the others wait in its busy handler, which polls with
    sleeps of up to 100 ms. Under load (every school saving at once) that sleeping, not the
    work, sets the latency. Queuing here first hands the write lock straight to the next writer
    of this process; other processes still wait in the busy handler. PostgreSQL needs nothing.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _writer_locks.setdefault(id(engine), threading.Lock())


class RequestDatabase:
    """One session on one connection for a whole web request, opened on first use.

    The guard, the scope check and the page all read through the same session, so an object
    the guard loaded (the return a URL names, say) is not read twice. Reads share one
    transaction. On SQLite a write first ends that read transaction, then runs in its own write
    transaction (``BEGIN IMMEDIATE``, so concurrent writers queue instead of failing when a read
    lock would have to be upgraded) and commits. On PostgreSQL the write carries on in the read
    transaction and commits it: at READ COMMITTED every statement reads what is committed when
    it runs, and the reads took no lock, so ending them first would only cost a round trip.
    Calls are made one at a time from the thread pool; the session is never used by two
    threads at once.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Any = None
        self._session: Session | None = None
        self._sqlite = engine.dialect.name == "sqlite"

    def session(self) -> Session:
        if self._session is None:
            self._connection = self.engine.connect()
            self._session = Session(bind=self._connection, expire_on_commit=False)
        return self._session

    def call(self, fn: Callable[..., T], *args: Any, write: bool = False) -> T:
        session = self.session()
        if not write:
            try:
                return fn(session, *args)
            except BaseException:
                session.rollback()
                raise
        if self._sqlite and session.in_transaction():
            session.commit()  # end the read transaction: the write takes its lock afresh
        with writer_lock(self.engine):
            self._connection.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
            try:
                result = fn(session, *args)
                session.commit()
                return result
            except BaseException:
                session.rollback()
                raise
            finally:
                self._connection.execution_options(**{_BEGIN_MODE: "DEFERRED"})

    @property
    def idle(self) -> bool:
        """No transaction is open: closing costs no round trip to the database (the pool's
        reset of a connection outside a transaction is done by the driver without one)."""
        return self._session is None or not (
            self._session.in_transaction() or self._connection.in_transaction()
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._connection.close()
            self._session = self._connection = None


def check_database(engine: Engine) -> bool:
    """True when the database answers a trivial query (used by /healthz)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


# --- schema status -------------------------------------------------------------------------


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


@dataclass(frozen=True)
class SchemaStatus:
    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.head)

    def problem(self) -> str | None:
        """A plain-English explanation and fix when the schema is not the expected one."""
        if self.up_to_date:
            return None
        if not self.current:
            return (
                "The database has no portal tables yet. "
                "Run `audit-portal migrate` to create them, then start the portal again."
            )
        known = self.current
        return (
            f"The database schema is at revision {', '.join(known)} but this version of the "
            f"portal needs {', '.join(self.head)}. Run `audit-portal migrate` to upgrade it "
            "(your data is kept), then start the portal again."
        )


def schema_status(engine: Engine, database_url: str) -> SchemaStatus:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return SchemaStatus(current=tuple(sorted(current)), head=tuple(sorted(script.get_heads())))


class SchemaNotReady(RuntimeError):
    """Raised at start-up when the database needs `audit-portal migrate`."""


def require_current_schema(engine: Engine, database_url: str) -> None:
    problem = schema_status(engine, database_url).problem()
    if problem:
        raise SchemaNotReady(problem)


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrade the schema; a SQLite file's folder is made first if it is not there yet."""
    from alembic import command

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


# --- bulk loading ----------------------------------------------------------------------------

BULK_BATCH = 2000


def bulk_insert(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many rows of one table in the connection's transaction, as fast as it allows.

    On PostgreSQL this is ``COPY ... FROM STDIN``: the county demo's quarter of a million rows
    load in a few seconds instead of the fifteen that one INSERT per row takes there. Values go
    through each column's own SQLAlchemy bind processing first (JSON, enums), and Python-side
    column defaults are filled in as an INSERT would, so the rows stored are the same either way.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), BULK_BATCH):
            connection.execute(insert(table), list(rows[start : start + BULK_BATCH]))
        return
    given = list(rows[0])
    defaults = [
        c
        for c in table.columns
        if c.name not in given and c.default is not None and not c.default.is_sequence
    ]
    columns = [table.columns[name] for name in given] + defaults
    processors = [_copy_processor(c, connection) for c in columns]
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = [row[name] for name in given] + [_default_of(c) for c in defaults]
            copy.write_row(
                [
                    p(v) if p is not None and v is not None else v
                    for p, v in zip(processors, values, strict=True)
                ]
            )


def _copy_processor(column: Column[Any], connection: Connection) -> Callable[[Any], Any] | None:
    if isinstance(column.type, JSON):  # the driver adapts JSON itself when it binds a parameter
        return json.dumps
    return column.type.bind_processor(connection.dialect)


def _default_of(column: Column[Any]) -> Any:
    default = column.default
    assert isinstance(default, ColumnDefault)
    return default.arg(None) if default.is_callable else default.arg
