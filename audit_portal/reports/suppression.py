"""Small-number suppression, so that no one can pick out a few organisations from a breakdown.

The partnership sets a threshold (5 unless it says otherwise). Rules, applied identically on the
page, in the PDF and in every download, because they all call ``suppress``:

- **Primary**: a count from 1 to threshold - 1 shows as "fewer than 5" instead of its number
  (and no percentage is given for it). Zero is shown: it identifies no one.
- **Totals are published unchanged.** Row totals (and column totals, where the table has them)
  are the true sums of every cell, suppressed or not: they are the numbers of returns, which
  the response rates publish anyway, and adjusting them would make the tables disagree.
- **Secondary**: because totals are published, a row (or column) with exactly one hidden cell
  would give that cell away by subtraction. So the smallest other non-zero cell in that line is
  hidden too ("withheld"), or a zero when no non-zero cell is left. When a table has both row
  and column totals, a hidden cell can also be worked out by adding and subtracting whole rows
  and columns, even when every line holds two hidden cells; that happens exactly when the cell
  joins two otherwise separate groups of hidden cells, so another cell is hidden to link them.
  Both steps repeat until nothing changes.

A withheld cell is not shown as "fewer than 5", because it may well be 5 or more and the page
must not say something untrue. What this does not protect against: reasoning from the known
ranges of hidden cells (each "fewer than 5" is between 1 and 4) can still narrow, and in rare
small tables pin down, a value; keep breakdowns coarse where groups are tiny.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from audit_portal.reports.figures import Share

DEFAULT_THRESHOLD = 5
WITHHELD = "withheld"

Key = tuple[str, str]  # (row, column)
Reason = Literal["primary", "secondary"]


@dataclass(frozen=True)
class CountTable:
    """A breakdown of counts: rows by columns, a missing cell counts as 0."""

    rows: Sequence[str]
    columns: Sequence[str]
    cells: Mapping[Key, int]
    row_totals: bool = True
    column_totals: bool = False

    def count(self, row: str, column: str) -> int:
        return self.cells.get((row, column), 0)


@dataclass(frozen=True)
class Cell:
    """One published cell: its count, or None with the reason it is hidden."""

    value: int | None
    suppressed: bool = False
    reason: Reason | None = None
    threshold: int = DEFAULT_THRESHOLD

    @property
    def text(self) -> str:
        if self.reason == "primary":
            return f"fewer than {self.threshold}"
        if self.reason == "secondary":
            return WITHHELD
        return str(self.value)


@dataclass(frozen=True)
class SuppressedTable:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[Key, Cell]
    row_totals: Mapping[str, int] | None  # None when the table has no row totals
    column_totals: Mapping[str, int] | None
    threshold: int

    def cell(self, row: str, column: str) -> Cell:
        return self.cells[(row, column)]

    def share(self, row: str, column: str, of: Literal["row", "column"] = "row") -> Share | None:
        """A published cell as a share of its row (or column) total; None when hidden.

        Only against a published total: a percentage of an unpublished total would let a
        reader work the total out, and with it the hidden cells.
        """
        totals = self.row_totals if of == "row" else self.column_totals
        if totals is None:
            raise ValueError(f"this table publishes no {of} totals to take a share of")
        cell = self.cell(row, column)
        if cell.value is None:
            return None
        return Share(cell.value, totals[row if of == "row" else column])

    def text(
        self, row: str, column: str, percent_of: Literal["row", "column"] | None = None
    ) -> str:
        """What a person reads in the cell: "12", "fewer than 5", "withheld", "80% (8 of 10)"."""
        cell = self.cell(row, column)
        share = self.share(row, column, percent_of) if percent_of else None
        return share.text if share is not None else cell.text

    @property
    def footnotes(self) -> list[str]:
        """The notes to print under the table, for the kinds of hiding it uses."""
        reasons = {cell.reason for cell in self.cells.values()}
        notes = []
        if "primary" in reasons:
            notes.append(
                f"“Fewer than {self.threshold}” means between 1 and {self.threshold - 1}: "
                "small numbers are not shown so that no organisation can be identified."
            )
        if "secondary" in reasons:
            notes.append(
                f"“Withheld” means a number that is not shown so that a number under "
                f"{self.threshold} cannot be worked out from the totals."
            )
        return notes


def suppress(table: CountTable, threshold: int = DEFAULT_THRESHOLD) -> SuppressedTable:
    """Hide small counts, and whatever else would give them away (see the module's rules)."""
    _check(table, threshold)
    order = {(r, c): (i, j) for i, r in enumerate(table.rows) for j, c in enumerate(table.columns)}
    counts = {key: table.count(*key) for key in order}
    primary = {key for key, value in counts.items() if 0 < value < threshold}
    hidden = set(primary)
    lines = _lines(table)
    while True:
        extra = _lone_cell_partner(lines, hidden, counts, order)
        if extra is None and table.row_totals and table.column_totals:
            extra = _bridge_partner(table, hidden, counts, order)
        if extra is None:
            break
        hidden.add(extra)
    cells = {
        key: Cell(None, True, "primary" if key in primary else "secondary", threshold)
        if key in hidden
        else Cell(counts[key], threshold=threshold)
        for key in order
    }
    return SuppressedTable(
        rows=tuple(table.rows),
        columns=tuple(table.columns),
        cells=cells,
        row_totals=(
            {r: sum(counts[(r, c)] for c in table.columns) for r in table.rows}
            if table.row_totals
            else None
        ),
        column_totals=(
            {c: sum(counts[(r, c)] for r in table.rows) for c in table.columns}
            if table.column_totals
            else None
        ),
        threshold=threshold,
    )


def _check(table: CountTable, threshold: int) -> None:
    if threshold < 1:
        raise ValueError("the suppression threshold must be 1 or more")
    if len(set(table.rows)) != len(table.rows) or len(set(table.columns)) != len(table.columns):
        raise ValueError("row and column names must be unique")
    keys = {(r, c) for r in table.rows for c in table.columns}
    if not set(table.cells) <= keys:
        raise ValueError("every cell must be in one of the table's rows and columns")
    if any(value < 0 for value in table.cells.values()):
        raise ValueError("counts cannot be negative")
    # With one cell per line the total is the cell itself: nothing could protect it.
    if table.row_totals and len(table.columns) < 2:
        raise ValueError("a table with row totals needs at least two columns")
    if table.column_totals and len(table.rows) < 2:
        raise ValueError("a table with column totals needs at least two rows")


def _lines(table: CountTable) -> list[list[Key]]:
    """Every row and column whose total is published."""
    lines = []
    if table.row_totals:
        lines += [[(r, c) for c in table.columns] for r in table.rows]
    if table.column_totals:
        lines += [[(r, c) for r in table.rows] for c in table.columns]
    return lines


def _smallest(
    candidates: Iterable[Key], counts: Mapping[Key, int], order: Mapping[Key, tuple[int, int]]
) -> Key | None:
    """The smallest non-zero cell, else a zero; ties in table order."""
    return min(candidates, key=lambda k: (counts[k] == 0, counts[k], order[k]), default=None)


def _lone_cell_partner(
    lines: list[list[Key]],
    hidden: set[Key],
    counts: Mapping[Key, int],
    order: Mapping[Key, tuple[int, int]],
) -> Key | None:
    for line in lines:
        if sum(key in hidden for key in line) == 1:
            return _smallest((k for k in line if k not in hidden), counts, order)
    return None


Node = tuple[str, str]  # ("row", name) or ("column", name)


def _bridge_partner(
    table: CountTable,
    hidden: set[Key],
    counts: Mapping[Key, int],
    order: Mapping[Key, tuple[int, int]],
) -> Key | None:
    """A cell to hide so that no hidden cell can be worked out from the row and column totals.

    Think of rows and columns as points and hidden cells as links between them. Each total
    gives one equation over the hidden cells of its line. A hidden cell is fixed by those
    equations exactly when it is a bridge: removing its link splits its group in two (sum the
    rows on one side, subtract that side's columns, and every other cell cancels). Hiding any
    cell between a row on one side and a column on the other puts the bridge on a loop.
    """
    links: dict[Node, set[Key]] = {}
    for key in hidden:
        links.setdefault(("row", key[0]), set()).add(key)
        links.setdefault(("column", key[1]), set()).add(key)
    for key in sorted(hidden, key=order.__getitem__):
        row_side = _reachable(("row", key[0]), links, without=key)
        if ("column", key[1]) in row_side:
            continue
        column_side = _reachable(("column", key[1]), links, without=key)
        candidates = [
            (r, c)
            for r in table.rows
            for c in table.columns
            if ("row", r) in column_side and ("column", c) in row_side and (r, c) not in hidden
        ]
        return _smallest(candidates, counts, order)
    return None


def _reachable(start: Node, links: Mapping[Node, set[Key]], without: Key) -> set[Node]:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for key in links.get(node, ()):
            if key == without:
                continue
            for other in (("row", key[0]), ("column", key[1])):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen
