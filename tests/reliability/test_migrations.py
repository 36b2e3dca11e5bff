"""Migrations keep data: upgrading a populated database, and a downgrade-then-upgrade round trip.

The database is filled with raw inserts (not the models, which describe only the latest schema)
at every revision from the first migration on: each table gets a few rows as soon as a migration
creates it, with values made from its columns' types, and the submissions hold real answers for
the data migrations to work on. Each step up must keep every row of every table that was already
there. Then a round trip: down one migration at a time to the revision that created the answers
table, and back up to the latest.

What a downgrade cannot keep, and the test allows: the rows of a table the downgraded migration
created (the older schema has no such table) and the values of the columns it added. Every other
row must survive both ways, and the schema after the round trip must be the models' schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import audit_portal.models  # noqa: F401  (every table registered on the metadata)
from audit_portal.db import alembic_config
from audit_portal.returns.typed_answers import answer_rows

ROWS = 3  # rows per table: enough to tell "kept" from "one left"
ROUND_TRIP_TABLE = "answer"  # round trip down to the migration that created it, and back
SUBMITTED = {
    "answers": {
        "s175.1.1": {"value": 1, "evidence": "Safeguarding policy, reviewed in March"},
        "s175.1.2": {"value": 3, "evidence": ""},
        "s175.1.3": {"value": None, "not_applicable": True},
    },
    "score": {
        "items": {"s175.1.1": "red", "s175.1.2": "green"},
        "less_effective": ["s175.1.1"],
    },
    "actions": [],
}
# Columns whose meaning the data migrations read: realistic values instead of made-up ones.
MEANINGFUL: dict[tuple[str, str], Callable[[int], Any]] = {
    ("audit_return", "status"): lambda n: "submitted",
    ("submission", "content"): lambda n: SUBMITTED,
    ("campaign", "follow_up_months"): lambda n: 6,
}


@pytest.fixture
def database(empty_database_url: str) -> Iterator[tuple[Config, Engine]]:
    engine = create_engine(empty_database_url, poolclass=NullPool)
    yield alembic_config(empty_database_url), engine
    engine.dispose()


def _revisions(cfg: Config) -> list[str]:
    """Every revision from the first migration to the latest (the history is one line)."""
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1, "the migrations have more than one head"
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _tables(engine: Engine) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(engine)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in _tables(engine)
        }


def _made_up(table: Table, column: Column, n: int) -> Any:
    """A value of the column's type, different for each row (so unique constraints hold)."""
    kind = column.type
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, Integer):
        return n + 1
    if isinstance(kind, DateTime):
        return datetime(2025, 1, 1, 9, tzinfo=UTC) + timedelta(days=n)
    if isinstance(kind, Date):
        return date(2025, 1, 1) + timedelta(days=n)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, Float | Numeric):
        return n + 0.5
    text = f"{table.name}-{column.name}-{n}"
    length = getattr(kind, "length", None)
    return text[-length:] if length else text


def _fill_empty_tables(engine: Engine) -> None:
    """A few rows in every table that has none, parents first, children pointing at them."""
    with engine.begin() as conn:
        for table in _tables(engine):
            if conn.execute(select(func.count()).select_from(table)).scalar_one():
                continue
            parents: dict[str, list[Any]] = {}
            for column in table.columns:
                for key in column.foreign_keys:
                    target = key.column
                    parents[column.name] = list(
                        conn.execute(select(target).order_by(target)).scalars()
                    )
            count = min([ROWS, *(len(ids) for ids in parents.values() if ids)])
            rows = []
            for n in range(count):
                row = {}
                for column in table.columns:
                    meaningful = MEANINGFUL.get((table.name, column.name))
                    if meaningful is not None:
                        row[column.name] = meaningful(n)
                    elif column.name in parents:
                        ids = parents[column.name]
                        row[column.name] = ids[n % len(ids)] if ids else None
                    elif column.primary_key and isinstance(column.type, Integer):
                        continue  # the database numbers it
                    else:
                        row[column.name] = _made_up(table, column, n)
                rows.append(row)
            conn.execute(insert(table), rows)


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Tables on both sides of a step whose number of rows changed: (before, after)."""
    return {
        name: (before[name], after[name])
        for name in before.keys() & after.keys()
        if before[name] != after[name]
    }


def _upgrade_filling(
    cfg: Config, engine: Engine, revisions: list[str]
) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Up one revision at a time, each step keeping every row; new tables filled after it.

    Returns the final row counts and the tables present at each revision.
    """
    counts, tables_at = _counts(engine), {}
    for revision in revisions:
        command.upgrade(cfg, revision)
        after = _counts(engine)
        assert _changed(counts, after) == {}, f"upgrading to {revision} changed rows"
        tables_at[revision] = set(after)
        _fill_empty_tables(engine)
        counts = _counts(engine)
    return counts, tables_at


def test_migrations_keep_every_row_upgrading_and_on_a_round_trip(
    database: tuple[Config, Engine],
) -> None:
    """One test, because populating at every revision is most of the work of both halves."""
    cfg, engine = database
    revisions = _revisions(cfg)
    counts, tables_at = _upgrade_filling(cfg, engine, revisions)
    assert all(counts.values()), f"tables left empty: {[n for n, c in counts.items() if not c]}"
    # The data migrations worked from the kept rows: each submission's answers became rows.
    assert counts["submitted_answer"] == counts["submission"] * len(answer_rows(SUBMITTED))

    made_at = next(r for r in revisions if ROUND_TRIP_TABLE in tables_at[r])
    for revision in reversed(revisions[revisions.index(made_at) : -1]):
        command.downgrade(cfg, revision)
        after = _counts(engine)
        assert _changed(counts, after) == {}, f"downgrading to {revision} changed rows"
        counts = after
    command.upgrade(cfg, "head")
    after = _counts(engine)
    assert _changed(counts, after) == {}, f"upgrading from {made_at} again changed rows"

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": False, "compare_server_default": False}
        )
        assert compare_metadata(context, SQLModel.metadata) == []
