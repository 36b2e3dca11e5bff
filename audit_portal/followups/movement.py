"""Rating movement: how organisations' ratings changed between the return and its follow-up.

From plain rows ``(item_id, original_value, revised_value)`` and the questionnaire's rating
scale, build a table per item and one over all items: rows are the original rating, columns
the revised rating, each cell a count of organisations (e.g. 3 moved from "Not met" to "Fully
met"), plus a "No revised rating" column for follow-ups that gave none. Improved, same and worse
are read from the scale's values (higher is better, as in every questionnaire), never from
labels or colours, so a move between two amber points still counts.

Rows and columns follow the order the scale declares its points in (as the questionnaire
pages show them), and every point appears even with no organisations, so tables for different
items line up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from audit_portal.questionnaires.model import RatingScale


class RatingChange(NamedTuple):
    """One organisation's rating of one item, at the return and at the follow-up."""

    item_id: str
    original_value: int
    revised_value: int | None


@dataclass(frozen=True)
class RatingHeading:
    value: int
    label: str
    rag: str


@dataclass(frozen=True)
class MovementRow:
    """Organisations that first gave ``original``: how many moved to each revised rating."""

    original: RatingHeading
    counts: tuple[int, ...]  # one per column of the table, in the same order
    no_revised: int

    @property
    def total(self) -> int:
        return sum(self.counts) + self.no_revised


@dataclass(frozen=True)
class MovementSummary:
    improved: int
    same: int
    worse: int
    no_revised: int

    @property
    def total(self) -> int:
        return self.improved + self.same + self.worse + self.no_revised


@dataclass(frozen=True)
class MovementTable:
    """One table: for one item, or (``item_id`` None) for all items together."""

    item_id: str | None
    columns: tuple[RatingHeading, ...]  # revised ratings
    rows: tuple[MovementRow, ...]  # original ratings
    summary: MovementSummary

    @property
    def total(self) -> int:
        return self.summary.total

    def count(self, original: int, revised: int | None) -> int:
        """Organisations that moved from one value to another (None: no revised rating)."""
        row = next(r for r in self.rows if r.original.value == original)
        if revised is None:
            return row.no_revised
        index = next(i for i, c in enumerate(self.columns) if c.value == revised)
        return row.counts[index]


@dataclass(frozen=True)
class RatingMovement:
    overall: MovementTable
    items: Mapping[str, MovementTable]  # in ``item_order``, then in the order first seen


def rating_movement(
    changes: Iterable[tuple[str, int, int | None]],
    scale: RatingScale,
    item_order: Sequence[str] = (),
) -> RatingMovement:
    """Movement tables per item and overall.

    Items named in ``item_order`` get a table even when no rows mention them (all zero), so
    a page can list every item of the questionnaire. A value that is not on the scale is an
    error, not something to count quietly.
    """
    headings = tuple(RatingHeading(p.value, p.label, p.rag) for p in scale.points)
    on_scale = {h.value for h in headings}
    by_item: dict[str, Counter[tuple[int, int | None]]] = {i: Counter() for i in item_order}
    overall: Counter[tuple[int, int | None]] = Counter()
    for item_id, original, revised in changes:
        for value in (original, revised):
            if value is not None and value not in on_scale:
                raise ValueError(f"{value} is not a value on the rating scale (item {item_id})")
        by_item.setdefault(item_id, Counter())[original, revised] += 1
        overall[original, revised] += 1
    return RatingMovement(
        overall=_table(None, headings, overall),
        items={item_id: _table(item_id, headings, c) for item_id, c in by_item.items()},
    )


def _table(
    item_id: str | None,
    headings: tuple[RatingHeading, ...],
    counts: Counter[tuple[int, int | None]],
) -> MovementTable:
    rows = tuple(
        MovementRow(
            original=h,
            counts=tuple(counts[h.value, c.value] for c in headings),
            no_revised=counts[h.value, None],
        )
        for h in headings
    )
    return MovementTable(item_id, headings, rows, _summary(counts))


def _summary(counts: Counter[tuple[int, int | None]]) -> MovementSummary:
    tally: Counter[str] = Counter()
    for (original, revised), n in counts.items():
        if revised is None:
            tally["no_revised"] += n
        elif revised > original:
            tally["improved"] += n
        elif revised < original:
            tally["worse"] += n
        else:
            tally["same"] += n
    return MovementSummary(tally["improved"], tally["same"], tally["worse"], tally["no_revised"])
