"""The portal's own simple CSV formats: partner agencies and early-years settings, and intelligence.

Documented in docs/imports.md. Each row either becomes a record or is skipped with a reason that
names the column and the value, so the person importing can fix the file.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from audit_portal.importing.csvfile import read_rows
from audit_portal.importing.report import Skip
from audit_portal.models import FLAG_TYPES
from audit_portal.vocabulary import FEATURES, SECTORS

ORGANISATION_COLUMNS = ("name", "duty_type")
ORGANISATION_DUTY_TYPES = ("section-11-agency", "early-years-group", "childminder")
SCHEMES = ("", "ofsted-urn", "ods", "charity")
INTELLIGENCE_COLUMNS = ("identifier_scheme", "identifier", "flag", "source", "noted_on")


@dataclass(frozen=True)
class Record:
    row: int
    values: dict[str, Any]


class RowProblem(ValueError):
    pass


def _choice(row: dict[str, str], column: str, allowed: Collection[str], default: str = "") -> str:
    value = row.get(column, "") or default
    if value not in allowed:
        known = ", ".join(a for a in allowed if a)
        raise RowProblem(f"{column} ‘{value}’ is not known (known: {known})")
    return value


def parse_organisations(data: bytes) -> tuple[list[Record], list[Skip]]:
    records, skipped = [], []
    seen: dict[tuple[str, ...], int] = {}
    for number, row in read_rows(data, ORGANISATION_COLUMNS):
        try:
            values = _organisation(row)
        except RowProblem as problem:
            skipped.append(Skip(number, str(problem), row.get("name", "")))
            continue
        key = _match_key(values)
        if key in seen:
            # Two rows for one organisation: applying both would silently keep only the last.
            skipped.append(
                Skip(
                    number,
                    f"the same organisation as row {seen[key]}; row {seen[key]} was used",
                    values["name"],
                )
            )
            continue
        seen[key] = number
        records.append(Record(number, values))
    return records, skipped


def _match_key(values: dict[str, Any]) -> tuple[str, ...]:
    if values.get("identifier"):
        return ("id", values["identifier_scheme"], values["identifier"])
    return ("name", values["name"].lower(), values["duty_type"])


def _organisation(row: dict[str, str]) -> dict[str, Any]:
    if not row["name"]:
        raise RowProblem("name is empty")
    duty_type = _choice(row, "duty_type", ORGANISATION_DUTY_TYPES)
    sector = row.get("sector", "")
    if duty_type == "section-11-agency" or sector:
        sector = _choice(row, "sector", SECTORS)
    features = [f.strip() for f in row.get("features", "").split(";") if f.strip()]
    for feature in features:
        if feature not in FEATURES:
            raise RowProblem(f"feature ‘{feature}’ is not known (known: {', '.join(FEATURES)})")
    scheme = _choice(row, "identifier_scheme", SCHEMES)
    identifier = row.get("identifier", "")
    if bool(scheme) != bool(identifier):
        raise RowProblem("identifier_scheme and identifier must be given together")
    email = row.get("contact_email", "")
    if email and ("@" not in email or " " in email):
        raise RowProblem(f"contact_email ‘{email}’ is not an email address")
    return {
        "name": row["name"][:200],
        "duty_type": duty_type,
        "sector": sector or None,
        # Only when given: a row without one must not wipe an identifier already recorded.
        **({"identifier_scheme": scheme, "identifier": identifier[:40]} if identifier else {}),
        "district": row.get("district", "")[:100],
        "contact_name": row.get("contact_name", "")[:200],
        "contact_email": email[:254],
        "contact_phone": row.get("contact_phone", "")[:40],
        "features": sorted(set(features)),
        "status": _choice(row, "status", ("active", "inactive"), default="active"),
    }


def parse_intelligence(data: bytes) -> tuple[list[Record], list[Skip]]:
    records, skipped = [], []
    for number, row in read_rows(data, INTELLIGENCE_COLUMNS):
        try:
            records.append(Record(number, _intelligence(row)))
        except RowProblem as problem:
            skipped.append(Skip(number, str(problem), row.get("identifier", "")))
    return records, skipped


def _intelligence(row: dict[str, str]) -> dict[str, Any]:
    if not row["identifier"] or not row["identifier_scheme"]:
        raise RowProblem("identifier_scheme and identifier are needed to find the organisation")
    if not row["source"]:
        raise RowProblem("source is empty: say where the intelligence came from")
    return {
        "identifier_scheme": row["identifier_scheme"],
        "identifier": row["identifier"],
        "flag": _choice(row, "flag", FLAG_TYPES),
        "value": row.get("value", "")[:200],
        "source": row["source"][:200],
        "noted_on": _date(row["noted_on"]),
        "note": row.get("note", "")[:2000],
    }


def _date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise RowProblem(f"noted_on ‘{value}’ is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
