"""Campaign progress: counts by status, overall and by kind or district, and who is late."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from audit_portal.models import ReturnStatus

DONE = {ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED}


@dataclass(frozen=True)
class ReturnRow:
    """What progress needs to know about one return (plain data)."""

    return_id: int
    organisation: str
    kind: str
    district: str
    status: ReturnStatus


@dataclass
class Progress:
    overall: Counter = field(default_factory=Counter)
    by_kind: dict[str, Counter] = field(default_factory=dict)
    by_district: dict[str, Counter] = field(default_factory=dict)
    outstanding: list[ReturnRow] = field(default_factory=list)  # not started, or late
    late: bool = False

    @property
    def total(self) -> int:
        return sum(self.overall.values())

    @property
    def not_submitted(self) -> int:
        """Returns a reminder can still help: not started, in progress or sent back."""
        return sum(n for status, n in self.overall.items() if ReturnStatus(status).editable)

    @property
    def response_rate(self) -> int:
        done = sum(self.overall[s] for s in DONE)
        return round(100 * done / self.total) if self.total else 0


def campaign_progress(rows: Iterable[ReturnRow], closes_on: date, today: date) -> Progress:
    progress = Progress(late=today > closes_on)
    for row in rows:
        progress.overall[row.status] += 1
        progress.by_kind.setdefault(row.kind, Counter())[row.status] += 1
        progress.by_district.setdefault(row.district or "No district", Counter())[row.status] += 1
        if row.status is ReturnStatus.NOT_STARTED or (progress.late and row.status not in DONE):
            progress.outstanding.append(row)
    progress.outstanding.sort(key=lambda r: r.organisation)
    return progress
