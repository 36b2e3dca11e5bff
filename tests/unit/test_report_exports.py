"""CSV and XLSX downloads, read back as a spreadsheet would read them."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from audit_portal.reports.exports import (
    Provenance,
    SheetTable,
    csv_rows,
    neutralise,
    safe_sheet_names,
    xlsx_workbook,
)
from audit_portal.reports.figures import Share
from audit_portal.reports.suppression import Cell

HASH = "3f2a" * 16
PROVENANCE = Provenance("section-175-schools", "2025.1", HASH, source="Schools audit 2025")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+44 1632 960000", "'+44 1632 960000"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturn", "'\rReturn"),
        ("Plain text", "Plain text"),
        ("a=b", "a=b"),
        ("", ""),
        (-1, -1),
        (-2.5, -2.5),
        (Decimal("-3.0"), Decimal("-3.0")),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    result = neutralise(value)
    assert result == expected
    assert type(result) is type(expected)


def kwargs() -> dict[str, str]:
    return {
        "questionnaire_key": "section-175-schools",
        "questionnaire_version": "2025.1",
        "content_hash": HASH,
    }


def test_csv_lines_one_chunk_each_with_bom_and_provenance() -> None:
    rows = [
        ["Acme Primary, North", 3, "=cmd|' /C calc'!A0", date(2025, 11, 3)],
        ['Ye "Olde" School', -1, "Line one\nline two", None],
        ["Small", Cell(None, True, "primary"), Share(8, 10), True],
    ]
    chunks = list(csv_rows(["Organisation", "Rating", "Narrative", "Submitted"], rows, **kwargs()))
    assert all(isinstance(c, bytes) for c in chunks)
    assert len(chunks) == 4, "a header line and one chunk per row"
    assert chunks[0].startswith(b"\xef\xbb\xbfQuestionnaire,Version,Content hash,Organisation,")
    assert not any(c.startswith(b"\xef\xbb\xbf") for c in chunks[1:])
    assert (
        chunks[1]
        == (
            f'section-175-schools,2025.1,{HASH},"Acme Primary, North",3,'
            "'=cmd|' /C calc'!A0,2025-11-03\r\n"  # only the comma needs quotes
        ).encode()
    )
    text = b"".join(chunks).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == [
        "Questionnaire",
        "Version",
        "Content hash",
        "Organisation",
        "Rating",
        "Narrative",
        "Submitted",
    ]
    assert parsed[2] == [
        "section-175-schools",
        "2025.1",
        HASH,
        'Ye "Olde" School',
        "-1",
        "Line one\nline two",
        "",
    ]
    assert parsed[3][3:] == ["Small", "fewer than 5", "80% (8 of 10)", "Yes"]


def test_csv_refuses_a_row_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="2 values for 1 columns"):
        list(csv_rows(["Only"], [["a", "b"]], **kwargs()))


def test_csv_is_lazy_and_memory_stays_flat() -> None:
    produced = 0

    def rows() -> Iterator[list[object]]:
        nonlocal produced
        for n in range(50_000):
            produced += 1
            yield [f"Organisation {n}", n, "Some narrative text " * 5]

    stream = csv_rows(["Organisation", "Number", "Narrative"], rows(), **kwargs())
    next(stream)
    assert produced == 0, "nothing is read before it is needed"
    next(stream)
    assert produced == 1
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert produced == 50_000 and total > 7_000_000  # 50,000 lines of about 220 bytes
    assert peak < 1_000_000, f"peak {peak} bytes for {total} bytes written"


def read_back(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_sheets_values_types_and_layout() -> None:
    tables = [
        SheetTable(
            name="Ratings by standard: 2025/26",
            header=["Standard", "Green", "Amber", "Share green", "Change"],
            rows=[
                ["Leadership", 30, Cell(None, True, "primary"), 0.75, Decimal("-12.5")],
                [
                    '=HYPERLINK("http://evil","click")',
                    Cell(12, False, None),
                    Cell(None, True, "secondary"),
                    -1,
                    None,
                ],
                ["-1+2", -3, 0, 2.5, datetime(2025, 11, 3, 9, 30)],
            ],
            notes=["“Fewer than 5” means between 1 and 4."],
        ),
        SheetTable(
            name="Responses",
            header=["District", "Submitted"],
            rows=iter([["North", date(2025, 1, 31)]]),
        ),
    ]
    book = read_back(xlsx_workbook(tables, PROVENANCE))
    assert book.sheetnames == ["Ratings by standard 2025 26", "Responses"]
    sheet = book["Ratings by standard 2025 26"]
    provenance = (
        "Schools audit 2025. Questionnaire section-175-schools, version 2025.1, "
        f"content hash {HASH}"
    )
    assert sheet["A1"].value == provenance
    assert [c.value for c in sheet[2]] == ["Standard", "Green", "Amber", "Share green", "Change"]
    assert all(c.font.bold for c in sheet[2])
    assert sheet.freeze_panes == "A3"
    assert [c.value for c in sheet[3]] == ["Leadership", 30, "fewer than 5", 0.75, -12.5]
    assert [c.data_type for c in sheet[3]] == ["s", "n", "s", "n", "n"]
    row4 = [c.value for c in sheet[4]]
    assert row4 == ['\'=HYPERLINK("http://evil","click")', 12, "withheld", -1, None]
    assert sheet["A4"].data_type == "s", "stored as text, never as a formula"
    assert [c.value for c in sheet[5]][:4] == ["'-1+2", -3, 0, 2.5]
    assert sheet["E5"].value == datetime(2025, 11, 3, 9, 30) and sheet["E5"].is_date
    assert sheet["A7"].value == "“Fewer than 5” means between 1 and 4."  # after a blank row
    # The widest value in column A is the neutralised "'=HYPERLINK(...)": 34 characters, + 2.
    # (XlsxWriter stores a width of n as n plus a little padding, so compare whole parts.)
    assert int(sheet.column_dimensions["A"].width) == 36
    assert int(sheet.column_dimensions["B"].width) == 8, "no column narrower than 8"
    assert int(sheet.column_dimensions["D"].width) == 13  # "Share green", 11 + 2
    other = book["Responses"]
    assert other["A1"].value == provenance, "provenance on every sheet"
    assert other.freeze_panes == "A3"
    assert other["B3"].value == datetime(2025, 1, 31) and other["B3"].is_date


def test_xlsx_widths_have_a_ceiling() -> None:
    book = read_back(xlsx_workbook([SheetTable("Long", ["Narrative"], [["x" * 500]])], PROVENANCE))
    assert int(book["Long"].column_dimensions["A"].width) == 60


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Ratings [draft]: a/b\\c*?"], ["Ratings draft a b c"]),
        (["A" * 40], ["A" * 31]),
        (["Same", "same", "SAME"], ["Same", "same (2)", "SAME (3)"]),
        (["B" * 31, "B" * 31], ["B" * 31, "B" * 27 + " (2)"]),
        (["", "  ", "'quoted'"], ["Sheet", "Sheet (2)", "quoted"]),
        (["History"], ["History sheet"]),
    ],
)
def test_safe_sheet_names(names: list[str], expected: list[str]) -> None:
    assert safe_sheet_names(names) == expected


def test_awkward_sheet_names_still_make_a_workbook() -> None:
    tables = [SheetTable(name, ["A"], [[1]]) for name in ["x" * 40, "x" * 40, "History", "a:b"]]
    book = read_back(xlsx_workbook(tables, PROVENANCE))
    assert book.sheetnames == ["x" * 31, "x" * 27 + " (2)", "History sheet", "a b"]
