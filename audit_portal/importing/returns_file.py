"""Past years' returns from a spreadsheet: one row per organisation per item, CSV or XLSX.

Pure: bytes and a questionnaire definition in, checked rows and plain-English problems out.
Finding the organisations and writing the campaign is ``historical.py``'s work.

Columns (the header is row 1): ``identifier_scheme`` (urn, ofsted-urn, ods or charity),
``identifier``, ``item_id``, ``rating`` (a value or a label of the questionnaire's scale, or
its not-applicable label), and optionally ``narrative`` and ``submitted_on``. Every cell is
read as text: a spreadsheet formula such as ``=cmd|...`` is never run, only reported.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from audit_portal.importing.csvfile import MAX_ROWS, read_rows
from audit_portal.importing.report import ImportFileError, Skip
from audit_portal.models.organisations import IDENTIFIER_SCHEMES
from audit_portal.questionnaires.model import Definition

REQUIRED = ("identifier_scheme", "identifier", "item_id", "rating")
OPTIONAL = ("narrative", "submitted_on")
NARRATIVE_MAX = 5000  # as Answer.narrative
SCHEMES = tuple(s for s in IDENTIFIER_SCHEMES if s)
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # a workbook's XML, unzipped: refuses "zip bombs"
NOT_APPLICABLE_WORDS = {"n/a", "na", "not applicable"}


@dataclass(frozen=True)
class ReturnRow:
    """One usable row: an answer to one rating item for one organisation."""

    row: int
    identifier_scheme: str
    identifier: str
    item_id: str
    rating: int | None  # None when not applicable
    not_applicable: bool
    narrative: str
    submitted_on: date | None


@dataclass
class CheckedFile:
    rows: list[ReturnRow]
    problems: list[Skip]
    total: int  # data rows in the file

    def fingerprint(self) -> str:
        """The same answers give the same fingerprint, whether from CSV or XLSX, in any order."""
        rows = sorted(
            (r.identifier_scheme, r.identifier, r.item_id, r.rating, r.not_applicable, r.narrative)
            for r in self.rows
        )
        return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


class _RowProblem(Exception):
    pass


def is_workbook(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def read_table(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every non-blank data row of a CSV or XLSX file."""
    if is_workbook(data):
        return _workbook_rows(data)
    return read_rows(data, REQUIRED)  # refuses binary junk and empty files in plain English


def _workbook_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError("The file is not a readable Excel workbook (.xlsx).") from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(
            "The file is not an Excel workbook (.xlsx). Save it from Excel as "
            "‘Excel Workbook (.xlsx)’ or ‘CSV (comma delimited)’ and import that."
        )
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError("The workbook is too large to import once unpacked.")
    from openpyxl import load_workbook  # openpyxl reads through defusedxml when it is installed

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [_text(v) for v in next(lines, ())]
        _require(header)
        rows: list[tuple[int, dict[str, str]]] = []
        for number, values in enumerate(lines, start=2):
            cells = {h: _text(v) for h, v in zip(header, values, strict=False) if h}
            if any(cells.values()):
                if len(rows) >= MAX_ROWS:
                    raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows.")
                rows.append((number, cells))
        book.close()
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds of error on damaged files
        raise ImportFileError(
            "The workbook cannot be read: it may be damaged or password-protected. Open it in "
            "Excel, save it again as ‘Excel Workbook (.xlsx)’ and import that."
        ) from None
    return rows


def _require(header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(
            "The file is missing the column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"‘{c}’" for c in missing)
            + ". The first row must name the columns: "
            + ", ".join(REQUIRED + OPTIONAL)
            + "."
        )


def _text(value: Any) -> str:
    """A cell as the text a person sees; formulas stay text (never evaluated)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_rows(
    table: list[tuple[int, dict[str, str]]], definition: Definition, default_date: date
) -> CheckedFile:
    """Every row checked against the questionnaire; each bad row reported with its reason."""
    rows: list[ReturnRow] = []
    problems: list[Skip] = []
    seen: dict[tuple[str, str, str], int] = {}
    dates: dict[tuple[str, str], tuple[date, int]] = {}
    for number, cells in table:
        try:
            row = _row(number, cells, definition)
            key = (row.identifier_scheme, row.identifier, row.item_id)
            if key in seen:
                raise _RowProblem(
                    f"item {row.item_id} for {row.identifier_scheme} {row.identifier} is "
                    f"also on row {seen[key]}: give each organisation's answer once"
                )
            organisation = key[:2]
            on = row.submitted_on or default_date
            if organisation in dates and dates[organisation][0] != on:
                first_date, first_row = dates[organisation]
                raise _RowProblem(
                    f"submitted_on {on:%d/%m/%Y} differs from {first_date:%d/%m/%Y} on row "
                    f"{first_row} for the same organisation"
                )
        except _RowProblem as problem:
            problems.append(Skip(number, str(problem), cells.get("identifier", "")[:40]))
            continue
        seen[key] = number
        dates.setdefault(organisation, (on, number))
        rows.append(row)
    return CheckedFile(rows, problems, len(table))


def _row(number: int, cells: dict[str, str], definition: Definition) -> ReturnRow:
    scheme = cells.get("identifier_scheme", "").lower()
    identifier = cells.get("identifier", "")
    if scheme not in SCHEMES:
        raise _RowProblem(f"identifier_scheme ‘{scheme[:40]}’ is not one of " + ", ".join(SCHEMES))
    if not identifier:
        raise _RowProblem("identifier is empty: say which organisation the answer is from")
    if len(identifier) > 40:
        raise _RowProblem("identifier is longer than 40 characters")
    item_id = cells.get("item_id", "")
    item = definition.item(item_id)
    if item is None:
        raise _RowProblem(f"item ‘{item_id[:40]}’ is not in {definition.key} {definition.version}")
    if item.kind != "rating":
        raise _RowProblem(f"item {item_id} is not a rating item, so it cannot be imported")
    rating, not_applicable = _rating(cells.get("rating", ""), definition)
    narrative = cells.get("narrative", "")
    if len(narrative) > NARRATIVE_MAX:
        raise _RowProblem(f"narrative is longer than {NARRATIVE_MAX:,} characters")
    return ReturnRow(
        row=number,
        identifier_scheme=scheme,
        identifier=identifier,
        item_id=item_id,
        rating=rating,
        not_applicable=not_applicable,
        narrative=narrative,
        submitted_on=_date(cells.get("submitted_on", "")),
    )


def _rating(text: str, definition: Definition) -> tuple[int | None, bool]:
    scale = definition.rating_scale
    wanted = " ".join(text.split()).lower()
    if not wanted:
        raise _RowProblem("rating is empty")
    for point in scale.points:
        if wanted in {str(point.value), point.label.lower()}:
            return point.value, False
    na = scale.not_applicable
    if na is not None and wanted in NOT_APPLICABLE_WORDS | {na.label.lower()}:
        return None, True
    allowed = [f"{p.value} ({p.label})" for p in scale.points]
    if na is not None:
        allowed.append(na.label)
    raise _RowProblem(f"rating ‘{text[:40]}’ is not on the scale: use " + ", ".join(allowed))


def _date(text: str) -> date | None:
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _RowProblem(f"submitted_on ‘{text[:40]}’ is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
