"""Shared column helpers for the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from audit_portal import clock


def utcnow() -> datetime:
    """The portal's clock (``audit_portal.clock``), so tests can move time."""
    return clock.now()


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC one: SQLite hands back naive datetimes; all stored are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Stored(Protocol):
    """A table row with an integer primary key: None until the row is first flushed."""

    @property
    def id(self) -> int | None: ...


def saved_id(row: Stored) -> int:
    """The primary key of a row that is in the database.

    SQLModel types every ``id`` as optional because a new row has none until it is flushed;
    code that holds a row read from the database (or flushed) says so here, once, and a row
    that was never saved fails loudly instead of writing NULL into a foreign key.
    """
    if row.id is None:
        raise ValueError(f"this {type(row).__name__} has not been saved yet")
    return row.id
