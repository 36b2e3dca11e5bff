"""Downloads: CSV streamed line by line, and XLSX workbooks, safe to open in a spreadsheet.

Both carry the questionnaire key, version and content hash, so a figure taken out of the portal
can always be traced to the exact questions that produced it. Text that a spreadsheet would run
as a formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``...) is neutralised with a leading
apostrophe; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from audit_portal.reports.figures import Share
from audit_portal.reports.suppression import Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
PROVENANCE_HEADER = ("Questionnaire", "Version", "Content hash")
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
MAX_SHEET_NAME = 31
MIN_WIDTH, MAX_WIDTH = 8, 60
WIDTH_SAMPLE = 1000  # rows looked at to size the columns


def neutralise(value: Any) -> Any:
    """Text a spreadsheet could read as a formula gets a leading ``'``; anything else as is.

    Only text is touched: the number -1 is a number, the text "-1+2" is neutralised.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def plain(value: Any) -> Any:
    """Report values as spreadsheet values: a suppressed Cell as its words ("fewer than 5"), a
    published Cell as its count, a Share as "80% (8 of 10)", True/False as Yes/No."""
    if isinstance(value, Cell):
        return value.text if value.suppressed else value.value
    if isinstance(value, Share):
        return value.text
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


@dataclass(frozen=True)
class Provenance:
    """Which questions the figures answer; ``source`` adds e.g. the campaign's name."""

    questionnaire_key: str
    questionnaire_version: str
    content_hash: str
    source: str = ""

    @property
    def line(self) -> str:
        text = (
            f"Questionnaire {self.questionnaire_key}, version {self.questionnaire_version}, "
            f"content hash {self.content_hash}"
        )
        return f"{self.source}. {text}" if self.source else text


# --- CSV -------------------------------------------------------------------------------------


def csv_rows(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    questionnaire_key: str,
    questionnaire_version: str,
    content_hash: str,
) -> Iterator[bytes]:
    """CSV as UTF-8 bytes, one line per chunk, for a streamed response.

    The first chunk starts with a byte order mark so that Excel reads UTF-8. Each line starts
    with the questionnaire key, version and content hash. ``rows`` is read lazily and one line
    is held at a time, so memory stays flat however long the export.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    provenance = (questionnaire_key, questionnaire_version, content_hash)

    def line(values: Sequence[Any]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_value(v) for v in values])
        return buffer.getvalue().encode("utf-8")

    yield BOM.encode("utf-8") + line([*PROVENANCE_HEADER, *header])
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} values for {len(header)} columns")
        yield line([*provenance, *row])


def _csv_value(value: Any) -> Any:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


# --- XLSX ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetTable:
    """One sheet: a header, rows (read once, in order) and notes printed under the table."""

    name: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]
    notes: Sequence[str] = ()


def xlsx_workbook(tables: Sequence[SheetTable], provenance: Provenance) -> bytes:
    """A workbook with one sheet per table.

    Each sheet: the provenance line, then a bold header row, both frozen; numbers written as
    numbers, dates as dates, text neutralised; the table's notes after a blank row; columns
    sized to their contents (within reason).
    """
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, WORKBOOK_OPTIONS)
    workbook.set_properties({"title": provenance.line})
    formats = {
        "header": workbook.add_format({"bold": True, "bottom": 1, "text_wrap": True}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "note": workbook.add_format({"italic": True}),
    }
    for table, name in zip(tables, safe_sheet_names([t.name for t in tables]), strict=True):
        _write_sheet(workbook.add_worksheet(name), table, provenance, formats)
    workbook.close()
    return output.getvalue()


def _write_sheet(sheet: Any, table: SheetTable, provenance: Provenance, formats: Any) -> None:
    sheet.write_string(0, 0, provenance.line, formats["note"])
    widths = [len(str(h)) for h in table.header]
    for col, heading in enumerate(table.header):
        sheet.write_string(1, col, str(neutralise(heading)), formats["header"])
    sheet.freeze_panes(2, 0)
    row_number = 2
    for n, row in enumerate(table.rows):
        if len(row) != len(table.header):
            raise ValueError(f"a row has {len(row)} values for {len(table.header)} columns")
        for col, value in enumerate(row):
            shown = _write_cell(sheet, row_number, col, value, formats)
            if n < WIDTH_SAMPLE:
                widths[col] = max(widths[col], len(shown))
        row_number += 1
    for note in table.notes:
        row_number += 1
        sheet.write_string(row_number, 0, str(neutralise(note)), formats["note"])
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))


def _write_cell(sheet: Any, row: int, col: int, value: Any, formats: Any) -> str:
    """Write one value with its proper type; return roughly what it shows, for the width."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and math.isfinite(value):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value)
        return str(value)
    if isinstance(value, datetime):
        sheet.write_datetime(row, col, value, formats["datetime"])
        return "yyyy-mm-dd hh:mm"
    if isinstance(value, date):
        sheet.write_datetime(row, col, value, formats["date"])
        return "yyyy-mm-dd"
    text = str(neutralise(str(value)))
    sheet.write_string(row, col, text)
    return text


_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def safe_sheet_names(names: Sequence[str]) -> list[str]:
    """Names Excel accepts: no []:*?/\\, not blank, not starting or ending with an apostrophe,
    not "History" (reserved), at most 31 characters, and unique ignoring case ("Name (2)")."""
    taken: set[str] = set()
    safe = []
    for name in names:
        base = " ".join(_NOT_IN_SHEET_NAMES.sub(" ", name).split()).strip("'").strip()
        base = base or "Sheet"
        if base.casefold() == "history":
            base = "History sheet"
        candidate, n = base[:MAX_SHEET_NAME].rstrip("' "), 1
        while candidate.casefold() in taken:
            n += 1
            suffix = f" ({n})"
            candidate = base[: MAX_SHEET_NAME - len(suffix)].rstrip("' ") + suffix
        taken.add(candidate.casefold())
        safe.append(candidate)
    return safe
