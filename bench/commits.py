"""The "raw commits" baseline: how many one-row write transactions the database itself takes.

C threads each upsert their own row of a small table, one transaction per upsert, straight
through the database driver (no ORM, no HTTP). On SQLite the connections are set up as the
portal sets up its own (WAL, foreign keys, the same busy timeout, synchronous=NORMAL) and each
transaction begins IMMEDIATE, as the portal's writes do; on PostgreSQL each is an
``INSERT ... ON CONFLICT DO UPDATE``. An autosave needs at least one such commit, so this rate
is a ceiling for saves per second on this database and machine.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.engine.url import make_url

from bench.driver import Window

SQLITE_PRAGMAS = (  # as audit_portal/db.py sets them on every connection
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=15000",
    "PRAGMA synchronous=NORMAL",
)
SQLITE_BUSY_TIMEOUT_S = 15.0
POSTGRES_RESERVED_CONNECTIONS = 10  # left free for the portal, psql and the clean-up

SQLITE_UPSERT = (
    "INSERT INTO bench_upsert (id, value) VALUES (?, ?) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)
POSTGRES_UPSERT = (
    "INSERT INTO bench_upsert (id, value) VALUES (%s, %s) "
    "ON CONFLICT (id) DO UPDATE SET value = excluded.value"
)
CREATE = "CREATE TABLE IF NOT EXISTS bench_upsert (id integer PRIMARY KEY, value integer NOT NULL)"

Commit = Callable[[int, int], None]  # (row id, value): one upsert in its own transaction


@dataclass(frozen=True)
class CommitFigures:
    """Commits per second from ``threads`` threads sharing ``connections`` connections."""

    threads: int
    connections: int
    commits: int  # finished inside the measured window
    per_second: float
    errors: dict[str, int] = field(default_factory=dict)


def measure(database_url: str, threads: int, warmup: float, seconds: float) -> CommitFigures:
    """Run the upsert loop from ``threads`` threads and count commits in the window."""
    url = make_url(database_url)
    opener = _sqlite if url.get_backend_name() == "sqlite" else _postgres
    with opener(database_url, threads) as (commit, connections):
        window = Window.starting_now(warmup, seconds)
        counts: Counter[str] = Counter()
        lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="commit") as pool:
            loops = [
                pool.submit(_loop, commit, n + 1, window, counts, lock) for n in range(threads)
            ]
        for finished in loops:
            finished.result()  # a loop that died says why here
    committed = counts.pop("committed", 0)
    return CommitFigures(threads, connections, committed, committed / seconds, dict(counts))


def _loop(
    commit: Commit, row: int, window: Window, counts: Counter[str], lock: threading.Lock
) -> None:
    value, mine = 0, Counter[str]()
    while time.perf_counter() < window.deadline:
        value += 1
        try:
            commit(row, value)
        except Exception as problem:  # counted and reported, never hidden
            mine[type(problem).__name__] += 1
            continue
        if time.perf_counter() in window:
            mine["committed"] += 1
    with lock:
        counts.update(mine)


@contextmanager
def _sqlite(database_url: str, threads: int) -> Iterator[tuple[Commit, int]]:
    path = str(make_url(database_url).database)
    local = threading.local()
    opened: list[sqlite3.Connection] = []
    guard = threading.Lock()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = _sqlite_connect(path)
            with guard:
                opened.append(local.conn)
        conn: sqlite3.Connection = local.conn
        return conn

    def commit(row: int, value: int) -> None:
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(SQLITE_UPSERT, (row, value))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    setup = _sqlite_connect(path)
    setup.execute(CREATE)
    setup.close()
    try:
        yield commit, threads
    finally:
        for conn in opened:
            conn.close()


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    return conn


@contextmanager
def _postgres(database_url: str, threads: int) -> Iterator[tuple[Commit, int]]:
    """Up to one connection per thread, as many as the server has free; shared through a queue."""
    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as setup:
        setup.execute(CREATE)
        free = free_connections(setup)
    count = max(1, min(threads, free - POSTGRES_RESERVED_CONNECTIONS))
    pool: queue.Queue[psycopg.Connection[Any]] = queue.Queue()
    conns = [psycopg.connect(conninfo) for _ in range(count)]
    for conn in conns:
        pool.put(conn)

    def commit(row: int, value: int) -> None:
        conn = pool.get()
        try:
            conn.execute(POSTGRES_UPSERT, (row, value))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            pool.put(conn)

    try:
        yield commit, count
    finally:
        for conn in conns:
            conn.close()


def free_connections(conn: psycopg.Connection[Any]) -> int:
    """Connections the server would still accept now: max_connections less those open."""
    row = conn.execute(
        "SELECT current_setting('max_connections')::int - (SELECT count(*) FROM pg_stat_activity)"
    ).fetchone()
    return int(row[0]) if row else 0
