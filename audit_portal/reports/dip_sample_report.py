"""Dip samples in the campaign report: what evidence challenges found, as published figures.

``challenge_figures`` answers the questions (outcomes, and the gap between self-rating and
moderated rating, by standard and by kind); this module turns its answers into tables that can
leave QA, with the same small-number suppression as every other breakdown of the report:

- Each breakdown is one table (groups by the three outcomes, or by lower / same / higher), whose
  row totals (items reviewed, or compared) and column totals (the overall figures) are
  published, and whose cells go through ``reports.suppression.suppress``. A share is given only
  for a cell that is shown, and always of a published total.
- The mean gap of a group rests on its counts, so it is withheld when any of that group's counts
  is hidden. The mean over every group is withheld when any group's mean is (in either
  breakdown), or it could be used, with the other groups' means, to work out the hidden one;
  so is the mean of a breakdown's only group, which is the same number.

Plain data in, plain data out: the rows come from ``challenge_queries.challenge_data``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from audit_portal.models import Outcome
from audit_portal.reports.challenge_figures import (
    ChallengeData,
    Figures,
    OutcomeShares,
    RatingGap,
    challenge_report,
)
from audit_portal.reports.figures import Share
from audit_portal.reports.suppression import WITHHELD, CountTable, SuppressedTable, suppress

OUTCOME_COLUMNS = tuple(o.label for o in Outcome)
GAP_COLUMNS = ("Moderated lower", "Same", "Moderated higher")
OVERALL = "All"


@dataclass(frozen=True)
class ChallengeTable:
    """One breakdown as published: groups (by key) by columns, with row and column totals."""

    caption: str
    group_heading: str  # "Standard", "Kind of organisation"
    total_heading: str  # "Reviewed", "Compared"
    labels: Mapping[str, str]  # row key -> what a reader sees
    table: SuppressedTable
    means: Mapping[str, str]  # gap tables: each group's mean gap in words (or "withheld")
    overall_mean: str = ""

    @property
    def rows(self) -> tuple[str, ...]:
        return self.table.rows

    @property
    def columns(self) -> tuple[str, ...]:
        return self.table.columns

    @property
    def total(self) -> int:
        return sum((self.table.row_totals or {}).values())

    def text(self, row: str, column: str) -> str:
        """A group's cell: "40% (2 of 5)", "fewer than 5" or "withheld"."""
        return self.table.text(row, column, "row")

    def overall_text(self, column: str) -> str:
        """The column over every group: the published column total as a share of the total.
        With one group the table has no column totals, and the group's own cell is the figure."""
        if self.table.column_totals is not None:
            return Share(self.table.column_totals[column], self.total).text
        return self.text(self.rows[0], column)


@dataclass(frozen=True)
class DipSampleFigures:
    organisations: int  # organisations with an issued challenge (filters applied)
    challenged: int  # items challenged
    reviewed: int  # items with an outcome
    not_compared: int  # reviewed, but a rating missing or not on the scale
    outcomes: tuple[ChallengeTable, ChallengeTable]  # by standard, by kind
    gaps: tuple[ChallengeTable, ChallengeTable]

    @property
    def empty(self) -> bool:
        return self.challenged == 0

    @property
    def awaiting_review(self) -> int:
        return self.challenged - self.reviewed

    @property
    def tables(self) -> tuple[ChallengeTable, ...]:
        return (*self.outcomes, *self.gaps)

    @property
    def footnotes(self) -> list[str]:
        notes: list[str] = []
        for table in self.tables:
            for note in table.table.footnotes:
                if note not in notes:
                    notes.append(note)
        return notes


def dip_sample_figures(data: ChallengeData, threshold: int) -> DipSampleFigures:
    """Every dip-sample figure of the report, suppressed for publication."""
    found = challenge_report(data)
    gaps = (
        _gap_table(found.gaps_by_standard, "standard", threshold),
        _gap_table(found.gaps_by_kind, "kind", threshold),
    )
    if any(mean == WITHHELD for table in gaps for mean in table.means.values()):
        gaps = (_overall_withheld(gaps[0]), _overall_withheld(gaps[1]))
    overall = found.outcomes_by_standard.overall
    return DipSampleFigures(
        organisations=len({row.organisation_id for row in data.rows}),
        challenged=overall.challenged,
        reviewed=overall.reviewed,
        not_compared=found.gaps_by_standard.overall.not_compared,
        outcomes=(
            _outcome_table(found.outcomes_by_standard, "standard", threshold),
            _outcome_table(found.outcomes_by_kind, "kind", threshold),
        ),
        gaps=gaps,
    )


def _overall_withheld(table: ChallengeTable) -> ChallengeTable:
    """The overall mean withheld; so is a lone group's, which is the same number."""
    means = {key: WITHHELD for key in table.means} if len(table.means) == 1 else table.means
    return replace(table, means=means, overall_mean=WITHHELD)


_GROUPS = {"standard": "Standard", "kind": "Kind of organisation"}


def _table(
    keys: Sequence[str],
    columns: Sequence[str],
    cells: Mapping[tuple[str, str], int],
    threshold: int,
) -> SuppressedTable:
    counts = CountTable(keys, columns, cells, row_totals=True, column_totals=len(keys) > 1)
    return suppress(counts, threshold)


def _outcome_table(figures: Figures[OutcomeShares], by: str, threshold: int) -> ChallengeTable:
    groups = [g for g in figures.groups if g.reviewed]
    cells = {
        (g.key, column): share.numerator
        for g in groups
        for column, share in zip(
            OUTCOME_COLUMNS, (g.substantiated, g.partly, g.not_substantiated), strict=True
        )
    }
    return ChallengeTable(
        caption=f"Outcomes of challenged items by {_GROUPS[by].lower()}",
        group_heading=_GROUPS[by],
        total_heading="Reviewed",
        labels={g.key: g.label for g in groups},
        table=_table([g.key for g in groups], OUTCOME_COLUMNS, cells, threshold),
        means={},
    )


def _gap_table(figures: Figures[RatingGap], by: str, threshold: int) -> ChallengeTable:
    groups = [g for g in figures.groups if g.compared]
    cells = {
        (g.key, column): n
        for g in groups
        for column, n in zip(GAP_COLUMNS, (g.lower, g.same, g.higher), strict=True)
    }
    table = _table([g.key for g in groups], GAP_COLUMNS, cells, threshold)
    means = {
        g.key: WITHHELD
        if any(table.cell(g.key, c).suppressed for c in GAP_COLUMNS)
        else g.mean_gap_text
        for g in groups
    }
    return ChallengeTable(
        caption=f"Moderated rating against self-rating by {_GROUPS[by].lower()}",
        group_heading=_GROUPS[by],
        total_heading="Compared",
        labels={g.key: g.label for g in groups},
        table=table,
        means=means,
        overall_mean=figures.overall.mean_gap_text,
    )
