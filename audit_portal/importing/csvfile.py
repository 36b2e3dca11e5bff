"""Reading a CSV file whatever its origin: UTF-8 (with or without BOM) or Windows-1252."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from audit_portal.importing.report import ImportFileError

MAX_ROWS = 100_000


def decode(data: bytes) -> str:
    if not data.strip():
        raise ImportFileError("The file is empty.")
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "The file is an Excel workbook, not a CSV file. Open it in Excel and save it as "
            "‘CSV (comma delimited)’, then import that."
        )
    if b"\x00" in data[:4096]:
        raise ImportFileError(
            "The file is not a CSV file (it looks like a spreadsheet or other binary file)."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Get Information about Schools publishes Windows-1252.
        return data.decode("cp1252", errors="replace")


def read_rows(data: bytes, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: value}) for every data row; the header is row 1."""
    text = decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ImportFileError(f"The file is not a readable CSV file: {exc}.") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFileError(
            "The file is missing the column"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"‘{c}’" for c in missing)
            + ". Check it is the right kind of file."
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for raw in reader:
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows.")
            values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            if any(values.values()):
                rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ImportFileError(
            f"Line {reader.line_num} of the file cannot be read: {exc}."
        ) from None
    return rows
