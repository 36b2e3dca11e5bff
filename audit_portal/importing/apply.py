"""Writing parsed files: upsert organisations and note intelligence, with audit events.

Everything is parsed and checked before the first write, and all writes go through the
caller's session: a file that cannot be read changes nothing, and a crash part way through
rolls the whole import back.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from audit_portal.audit import AuditContext
from audit_portal.importing import gias
from audit_portal.importing.report import ImportReport, Progress, Skip
from audit_portal.importing.simple_csv import parse_intelligence, parse_organisations
from audit_portal.models import Organisation, saved_id
from audit_portal.organisations import create_organisation, note_intelligence, update_organisation


def tick(progress: Progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def by_identifier(db: Session, scheme: str, identifiers: list[str]) -> dict[str, Organisation]:
    found: dict[str, Organisation] = {}
    for start in range(0, len(identifiers), 500):  # stay well under parameter limits
        chunk = identifiers[start : start + 500]
        rows = db.exec(
            select(Organisation).where(
                Organisation.identifier_scheme == scheme, col(Organisation.identifier).in_(chunk)
            )
        ).all()
        found.update({o.identifier: o for o in rows})
    return found


def import_schools(
    db: Session,
    data: bytes,
    local_authorities: list[str],
    ctx: AuditContext,
    progress: Progress = None,
) -> ImportReport:
    parsed = gias.parse(data, local_authorities)
    report = ImportReport(skipped=list(parsed.skipped))
    existing = by_identifier(db, "urn", [s.urn for s in parsed.schools])
    for done, school in enumerate(parsed.schools, start=1):
        org = existing.get(school.urn)
        if org is None and school.status == "inactive":
            report.skipped.append(
                Skip(school.row, "closed and never imported", school.values["name"])
            )
        elif org is None:
            create_organisation(db, ctx, {**school.values, "status": "active"})
            report.created += 1
        elif update_organisation(db, ctx, org, {**school.values, "status": school.status}):
            report.updated += 1
        else:
            report.unchanged += 1
        tick(progress, done, len(parsed.schools))
    report.skipped.sort(key=lambda s: s.row)
    return report


def import_organisations(
    db: Session, data: bytes, ctx: AuditContext, progress: Progress = None
) -> ImportReport:
    records, skipped = parse_organisations(data)
    report = ImportReport(skipped=skipped)
    for done, record in enumerate(records, start=1):
        values = record.values
        org = _find_organisation(db, values)
        if org is None:
            create_organisation(db, ctx, values)
            report.created += 1
        elif update_organisation(db, ctx, org, values):
            report.updated += 1
        else:
            report.unchanged += 1
        tick(progress, done, len(records))
    return report


def _find_organisation(db: Session, values: dict) -> Organisation | None:
    if values.get("identifier"):
        return by_identifier(db, values["identifier_scheme"], [values["identifier"]]).get(
            values["identifier"]
        )
    return db.exec(
        select(Organisation).where(
            func.lower(Organisation.name) == values["name"].lower(),
            Organisation.duty_type == values["duty_type"],
        )
    ).first()


def import_intelligence(
    db: Session, data: bytes, ctx: AuditContext, progress: Progress = None
) -> ImportReport:
    records, skipped = parse_intelligence(data)
    report = ImportReport(skipped=skipped)
    for done, record in enumerate(records, start=1):
        v = record.values
        org = by_identifier(db, v["identifier_scheme"], [v["identifier"]]).get(v["identifier"])
        if org is None:
            report.skipped.append(
                Skip(record.row, f"no organisation has {v['identifier_scheme']} {v['identifier']}")
            )
            continue
        outcome = note_intelligence(
            db,
            ctx,
            saved_id(org),
            flag=v["flag"],
            value=v["value"],
            source=v["source"],
            noted_on=v["noted_on"],
            note=v["note"],
        )
        if outcome == "unchanged":
            report.unchanged += 1
        elif outcome == "superseded":
            report.updated += 1
        else:
            report.created += 1
        tick(progress, done, len(records))
    report.skipped.sort(key=lambda s: s.row)
    return report
