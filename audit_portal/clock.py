"""The one "now" and "today" of the whole portal, which tests and the demo can move.

Every domain decision (is a follow-up overdue, has a half-finished sign-in expired, is a target
date in the past) asks this module, never the wall clock, so a test can stand on 2 September
and see a follow-up become overdue without waiting six months. "Today" is the date in England,
where every partnership is, so a return signed at 00:30 BST is dated that day, not the day before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    LOCAL_ZONE: ZoneInfo | None = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # a machine without time-zone data: fall back to UTC
    LOCAL_ZONE = None

_offset = timedelta(0)


def now() -> datetime:
    """The current moment, timezone-aware in UTC (as everything is stored)."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today's date in England."""
    moment = now()
    return (moment.astimezone(LOCAL_ZONE) if LOCAL_ZONE else moment).date()


def local(moment: datetime) -> datetime:
    """A stored UTC moment as people in England read it (for 'Saved at 14:32')."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE) if LOCAL_ZONE else aware


def set_offset(offset: timedelta) -> None:
    """Move the whole portal's clock by ``offset`` (tests and the demo)."""
    global _offset
    _offset = offset


def offset() -> timedelta:
    return _offset


@contextmanager
def travel(to: datetime | date) -> Iterator[None]:
    """Stand at ``to`` (a date means 10:00 UTC that day) inside the block; time still runs."""
    target = to if isinstance(to, datetime) else datetime(to.year, to.month, to.day, 10, tzinfo=UTC)
    if target.tzinfo is None:
        target = target.replace(tzinfo=UTC)
    before = _offset
    set_offset(target - datetime.now(UTC))
    try:
        yield
    finally:
        set_offset(before)
