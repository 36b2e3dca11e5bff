"""Get Information about Schools (GIAS) "all establishments" CSV, as the service publishes it.

Windows-1252, ~130 columns, dates as dd-mm-yyyy. Rows outside the partnership's local
authorities are ignored; rows inside it are kept, skipped with a reason, or marked closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from audit_portal.importing.csvfile import read_rows
from audit_portal.importing.report import ImportFileError, Skip

REQUIRED = (
    "URN",
    "LA (name)",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "PhaseOfEducation (name)",
)

# Maintained schools and further education: section 175 of the Education Act 2002.
SECTION_175_TYPES = {
    "community school",
    "voluntary aided school",
    "voluntary controlled school",
    "foundation school",
    "community special school",
    "foundation special school",
    "pupil referral unit",
    "local authority nursery school",
    "further education",
    "sixth form centres",
}
# Academies, free schools and independent schools: section 157 (independent school standards).
SECTION_157_TYPES = {
    "academy converter",
    "academy sponsor led",
    "academy special converter",
    "academy special sponsor led",
    "academy alternative provision converter",
    "academy alternative provision sponsor led",
    "academy 16-19 converter",
    "academy 16 to 19 sponsor led",
    "free schools",
    "free schools special",
    "free schools alternative provision",
    "free schools 16 to 19",
    "studio schools",
    "university technical college",
    "other independent school",
    "other independent special school",
    "non-maintained special school",
}
PHASES = {
    "nursery": "nursery",
    "primary": "primary",
    "middle deemed primary": "middle",
    "middle deemed secondary": "middle",
    "secondary": "secondary",
    "16 plus": "sixteen-plus",
    "all-through": "all-through",
}
OPEN = {"open", "open, but proposed to close"}


@dataclass(frozen=True)
class SchoolRecord:
    row: int
    urn: str
    status: str  # active | inactive
    values: dict[str, Any] = field(default_factory=dict)  # organisation fields


@dataclass
class ParsedFile:
    schools: list[SchoolRecord]
    skipped: list[Skip]
    total: int  # rows inside the partnership's local authorities


def parse(data: bytes, local_authorities: list[str]) -> ParsedFile:
    wanted = {la.strip().lower() for la in local_authorities if la.strip()}
    if not wanted:
        raise ImportFileError("Name at least one local authority to import schools from.")
    rows = [(n, r) for n, r in read_rows(data, REQUIRED) if r["LA (name)"].lower() in wanted]
    schools: list[SchoolRecord] = []
    skipped: list[Skip] = []
    seen: dict[str, int] = {}
    for number, row in rows:
        outcome = _school(number, row)
        if isinstance(outcome, Skip):
            skipped.append(outcome)
        elif outcome.urn in seen:
            skipped.append(
                Skip(
                    number,
                    f"URN {outcome.urn} appears more than once; row {seen[outcome.urn]} was used",
                    row["EstablishmentName"],
                )
            )
        else:
            seen[outcome.urn] = number
            schools.append(outcome)
    return ParsedFile(schools, skipped, len(rows))


def _school(number: int, row: dict[str, str]) -> SchoolRecord | Skip:
    name = row["EstablishmentName"]
    urn = row["URN"]
    if not urn.isdigit():
        return Skip(number, "URN missing or not a number", name)
    if not name:
        return Skip(number, "EstablishmentName is empty")
    kind = row["TypeOfEstablishment (name)"]
    duty_type = _duty_type(kind)
    if duty_type is None:
        return Skip(
            number, f"establishment type ‘{kind}’ is not audited under section 175 or 157", name
        )
    status = row["EstablishmentStatus (name)"].lower()
    if status not in OPEN and status != "closed":
        return Skip(number, f"status ‘{row['EstablishmentStatus (name)']}’: not open yet", name)
    try:
        opened_on = _date(row, "OpenDate")
        closed_on = _date(row, "CloseDate")
    except ValueError as problem:
        return Skip(number, str(problem), name)
    values = {
        "name": name[:200],
        "duty_type": duty_type,
        "phase": PHASES.get(row["PhaseOfEducation (name)"].lower()),
        "features": _features(row, kind),
        "identifier_scheme": "urn",
        "identifier": urn,
        "local_authority": row["LA (name)"][:100],
        "district": row.get("DistrictAdministrative (name)", "")[:100],
        "establishment_type": kind[:100],
        "postcode": row.get("Postcode", "")[:10],
        "opened_on": opened_on,
        "closed_on": closed_on,
        "contact_name": _head(row)[:200],
        "contact_phone": row.get("TelephoneNum", "")[:40],
    }
    return SchoolRecord(number, urn, "active" if status in OPEN else "inactive", values)


def _duty_type(kind: str) -> str | None:
    lowered = kind.lower()
    if lowered in SECTION_175_TYPES:
        return "section-175-school"
    if lowered in SECTION_157_TYPES:
        return "section-157-school"
    return None


def _features(row: dict[str, str], kind: str) -> list[str]:
    lowered = kind.lower()
    features = []
    if row.get("Boarders (name)", "").lower() not in {"", "no boarders", "not applicable"}:
        features.append("boarding")
    if row.get("OfficialSixthForm (name)", "") == "Has a sixth form":
        features.append("sixth-form")
    if "special" in lowered:
        features.append("special-school")
    if "pupil referral" in lowered or "alternative provision" in lowered:
        features.append("alternative-provision")
    if row.get("NurseryProvision (name)", "") == "Has Nursery Classes":
        features.append("early-years-provision")
    return sorted(features)


def _date(row: dict[str, str], column: str) -> date | None:
    value = row.get(column, "")
    if not value:
        return None
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{column} ‘{value}’ is not a date in the form dd-mm-yyyy")


def _head(row: dict[str, str]) -> str:
    parts = [
        row.get("HeadTitle (name)", ""),
        row.get("HeadFirstName", ""),
        row.get("HeadLastName", ""),
    ]
    return " ".join(p for p in parts if p and p.lower() != "not applicable")
