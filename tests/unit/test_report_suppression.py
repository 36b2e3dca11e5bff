"""Small-number suppression: worked tables, then properties over any table.

The recovery property is checked with linear algebra over exact fractions, independently of the
way ``suppress`` chooses cells: a hidden cell can be worked out exactly when its unit vector lies
in the span of the published totals' equations over the hidden cells.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_portal.reports.figures import Share
from audit_portal.reports.suppression import CountTable, SuppressedTable, suppress

GAR = ["green", "amber", "red"]


def texts(result: SuppressedTable) -> list[list[str]]:
    return [[result.text(r, c) for c in result.columns] for r in result.rows]


def test_a_small_count_and_its_partner_in_the_row() -> None:
    """Row A: 3 is under 5 (primary); 20 - 10 - 7 = 3 would give it away, so the next smallest
    non-zero cell, 7, is withheld. Row B has nothing under 5. Totals stay true."""
    table = CountTable(
        rows=["A", "B"],
        columns=GAR,
        cells={
            ("A", "green"): 10,
            ("A", "amber"): 3,
            ("A", "red"): 7,
            ("B", "green"): 12,
            ("B", "amber"): 6,
        },
    )
    result = suppress(table)
    assert texts(result) == [["10", "fewer than 5", "withheld"], ["12", "6", "0"]]
    assert result.row_totals == {"A": 20, "B": 18}
    assert result.column_totals is None
    assert result.cell("A", "amber").reason == "primary"
    assert result.cell("A", "red").reason == "secondary"
    assert result.cell("A", "red").value is None and result.cell("A", "red").suppressed
    assert result.cell("B", "red").value == 0 and not result.cell("B", "red").suppressed
    assert result.text("A", "green", percent_of="row") == "50% (10 of 20)"
    assert result.text("A", "amber", percent_of="row") == "fewer than 5"
    assert result.share("B", "amber") == Share(6, 18)
    assert result.share("A", "red") is None
    assert result.footnotes == [
        "“Fewer than 5” means between 1 and 4: small numbers are not shown so that no organisation can be identified.",
        "“Withheld” means a number that is not shown so that a number under 5 cannot be worked out from the totals.",
    ]


def test_a_zero_is_withheld_when_no_other_cell_can_protect_the_small_one() -> None:
    """Row total 3 = 3 + 0 + 0: hiding the 3 alone hides nothing, so the first zero goes too."""
    table = CountTable(["A"], GAR, {("A", "green"): 3})
    assert texts(suppress(table)) == [["fewer than 5", "withheld", "0"]]


def test_ties_for_the_partner_go_to_the_first_column() -> None:
    table = CountTable(["A"], GAR, {("A", "green"): 9, ("A", "amber"): 9, ("A", "red"): 1})
    assert texts(suppress(table)) == [["withheld", "9", "fewer than 5"]]


def test_two_small_cells_protect_each_other_and_the_threshold_is_the_partnerships() -> None:
    table = CountTable(["A"], GAR, {("A", "green"): 2, ("A", "amber"): 9, ("A", "red"): 1})
    assert texts(suppress(table)) == [["fewer than 5", "9", "fewer than 5"]]
    assert texts(suppress(table, threshold=10)) == [
        ["fewer than 10", "fewer than 10", "fewer than 10"]
    ]
    assert texts(suppress(table, threshold=1)) == [["2", "9", "1"]]


def test_without_totals_only_small_cells_are_hidden() -> None:
    table = CountTable(["A"], GAR, {("A", "green"): 10, ("A", "amber"): 3}, row_totals=False)
    result = suppress(table)
    assert texts(result) == [["10", "fewer than 5", "0"]]
    assert result.row_totals is None
    with pytest.raises(ValueError, match="no row totals"):
        result.share("A", "green")


def test_rows_and_columns_with_totals() -> None:
    """
            green amber red | total          green  amber  red
        X     10     3    8 |  21      ->  X  10     <5     w
        Y     12     6    2 |  20          Y  12      w    <5
        total 22     9   10
    Row X withholds 8 (smaller than 10); row Y withholds 6 (smaller than 12). Every row and
    column then hides two cells, and the four hidden cells form a loop, so none is fixed.
    """
    table = CountTable(
        ["X", "Y"],
        GAR,
        {
            ("X", "green"): 10,
            ("X", "amber"): 3,
            ("X", "red"): 8,
            ("Y", "green"): 12,
            ("Y", "amber"): 6,
            ("Y", "red"): 2,
        },
        column_totals=True,
    )
    result = suppress(table)
    assert texts(result) == [["10", "fewer than 5", "withheld"], ["12", "withheld", "fewer than 5"]]
    assert result.row_totals == {"X": 21, "Y": 20}
    assert result.column_totals == {"green": 22, "amber": 9, "red": 10}
    assert result.text("X", "green", percent_of="column") == "45% (10 of 22)"


def test_a_hidden_cell_that_joins_two_groups_is_protected() -> None:
    """Every line already hides two or more cells, yet a1-c3 can be worked out:
    (row a1 + row a2) - (column c1 + column c2) leaves exactly a1-c3. Its groups are
    {a1, a2, c1, c2} and {b1, b2, c3, c4}; hiding a cell between a row of the second group
    and a column of the first (the smallest: b2-c1 = 6) puts it on a loop.

              c1  c2  c3  c4
        a1     1   2   1  20
        a2     3   4  30  40
        b1     9   7   1   2
        b2     6   8   3   4
    """
    values = {
        "a1": [1, 2, 1, 20],
        "a2": [3, 4, 30, 40],
        "b1": [9, 7, 1, 2],
        "b2": [6, 8, 3, 4],
    }
    columns = ["c1", "c2", "c3", "c4"]
    table = CountTable(
        list(values),
        columns,
        {(r, c): v for r, row in values.items() for c, v in zip(columns, row, strict=True)},
        column_totals=True,
    )
    result = suppress(table)
    secondary = {k for k, cell in result.cells.items() if cell.reason == "secondary"}
    assert secondary == {("b2", "c1")}
    assert texts(result) == [
        ["fewer than 5", "fewer than 5", "fewer than 5", "20"],
        ["fewer than 5", "fewer than 5", "30", "40"],
        ["9", "7", "fewer than 5", "fewer than 5"],
        ["withheld", "8", "fewer than 5", "fewer than 5"],
    ]
    assert not recoverable(table, result)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (CountTable(["A"], ["only"], {("A", "only"): 3}), "at least two columns"),
        (CountTable(["A"], GAR, {}, row_totals=False, column_totals=True), "at least two rows"),
        (CountTable(["A", "A"], GAR, {}), "unique"),
        (CountTable(["A"], GAR, {("B", "green"): 1}), "rows and columns"),
        (CountTable(["A"], GAR, {("A", "green"): -1}), "negative"),
    ],
)
def test_tables_that_cannot_be_protected_are_refused(table: CountTable, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        suppress(table)


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold"):
        suppress(CountTable(["A"], GAR, {}), threshold=0)


# --- properties ------------------------------------------------------------------------------


def recoverable(table: CountTable, result: SuppressedTable) -> set[tuple[str, str]]:
    """Hidden cells fixed by the published totals and cells (exact linear algebra)."""
    hidden = [k for k, cell in result.cells.items() if cell.suppressed]
    index = {k: n for n, k in enumerate(hidden)}
    equations: list[list[Fraction]] = []
    lines = []
    if table.row_totals:
        lines += [[(r, c) for c in table.columns] for r in table.rows]
    if table.column_totals:
        lines += [[(r, c) for r in table.rows] for c in table.columns]
    for line in lines:
        vector = [Fraction(0)] * len(hidden)
        for key in line:
            if key in index:
                vector[index[key]] = Fraction(1)
        equations.append(vector)
    base = rank(equations)
    found = set()
    for key, n in index.items():
        unit = [Fraction(int(i == n)) for i in range(len(hidden))]
        if rank([*equations, unit]) == base:
            found.add(key)
    return found


def rank(matrix: list[list[Fraction]]) -> int:
    rows = [row[:] for row in matrix if any(row)]
    if not rows:
        return 0
    rank_, width = 0, len(rows[0])
    for col in range(width):
        pivot = next((i for i in range(rank_, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank_], rows[pivot] = rows[pivot], rows[rank_]
        for i in range(len(rows)):
            if i != rank_ and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank_][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank_], strict=True)]
        rank_ += 1
    return rank_


@st.composite
def tables(draw: st.DrawFn) -> tuple[CountTable, int]:
    row_totals = draw(st.booleans())
    column_totals = draw(st.booleans())
    n_rows = draw(st.integers(2 if column_totals else 1, 6))
    n_cols = draw(st.integers(2 if row_totals else 1, 6))
    rows = [f"r{i}" for i in range(n_rows)]
    columns = [f"c{j}" for j in range(n_cols)]
    value = st.one_of(st.just(0), st.integers(1, 6), st.integers(0, 40))
    cells = {(r, c): draw(value) for r in rows for c in columns}
    threshold = draw(st.sampled_from([3, 5, 5, 10]))
    return CountTable(rows, columns, cells, row_totals, column_totals), threshold


@settings(max_examples=400, deadline=None)
@given(tables())
def test_properties_of_any_suppressed_table(case: tuple[CountTable, int]) -> None:
    table, threshold = case
    result = suppress(table, threshold)
    for key, cell in result.cells.items():
        count = table.cells[key]
        if cell.suppressed:
            assert cell.value is None and cell.text in {f"fewer than {threshold}", "withheld"}
            assert (cell.reason == "primary") == (0 < count < threshold)
        else:
            assert cell.value == count, "a published cell shows its true count"
            assert count == 0 or count >= threshold, "no published count below the threshold"
    if table.row_totals:
        assert result.row_totals == {
            r: sum(table.cells[(r, c)] for c in table.columns) for r in table.rows
        }
        for r in table.rows:
            hidden = sum(result.cells[(r, c)].suppressed for c in table.columns)
            assert hidden != 1, "one hidden cell in a row would be its total minus the rest"
    if table.column_totals:
        assert result.column_totals == {
            c: sum(table.cells[(r, c)] for r in table.rows) for c in table.columns
        }
        for c in table.columns:
            assert sum(result.cells[(r, c)].suppressed for r in table.rows) != 1
    assert not recoverable(table, result)
