"""Imports from a real-format GIAS file and the portal's own CSV formats, on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from audit_portal import cli
from audit_portal.audit import AuditContext
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.importing import (
    ImportFileError,
    ImportReport,
    import_intelligence,
    import_organisations,
    import_schools,
)
from audit_portal.models import AuditEvent, IntelligenceFlag, Organisation

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
GIAS = (FIXTURES / "gias_devon.csv").read_bytes()
CTX = AuditContext(None, "test-import")


def schools(engine: Engine, data: bytes = GIAS, las: tuple[str, ...] = ("Devon",)) -> ImportReport:
    with session_scope(engine, write=True) as db:
        return import_schools(db, data, list(las), CTX)


def organisations(engine: Engine) -> dict[str, Organisation]:
    with session_scope(engine, write=False) as db:
        return {o.identifier or o.name: o for o in db.exec(select(Organisation)).all()}


def count(engine: Engine, model: type) -> int:
    with session_scope(engine, write=False) as db:
        return len(db.exec(select(model)).all())


def test_gias_import_counts_and_skips(clean_db: Engine) -> None:
    report = schools(clean_db)
    assert (report.created, report.updated, report.unchanged) == (6, 0, 0)
    assert [str(s) for s in report.skipped] == [
        "row 5: closed and never imported (Old Mill Infants)",
        "row 6: status ‘Proposed to open’: not open yet (New Horizons Free School)",
        "row 7: establishment type ‘Online provider’ is not audited under section 175 or 157 "
        "(Devon Online Academy)",
        "row 8: URN missing or not a number (Nameless URN School)",
        "row 9: OpenDate ‘31-13-1999’ is not a date in the form dd-mm-yyyy (Riverside Special School)",
        "row 10: URN 110001 appears more than once; row 2 was used "
        "(St Mary's C of E Primary School (duplicate))",
    ]
    assert "110003" not in organisations(clean_db), "other local authorities are not imported"


def test_gias_values_map_to_duties_phases_and_characteristics(clean_db: Engine) -> None:
    schools(clean_db)
    orgs = organisations(clean_db)
    stmarys, ecole, pru = orgs["110001"], orgs["110002"], orgs["110009"]
    assert (stmarys.name, stmarys.duty_type, stmarys.phase) == (
        "St Mary's C of E Primary School",
        "section-175-school",
        "primary",
    )
    assert stmarys.features == ["early-years-provision"]
    assert stmarys.contact_name == "Mrs Jane Smith" and stmarys.district == "Exeter"
    assert stmarys.opened_on.isoformat() == "1974-09-01"
    assert ecole.name == "École Française de Dartmoor", "Windows-1252 decoded"
    assert (ecole.duty_type, ecole.phase, ecole.features) == (
        "section-157-school",
        "secondary",
        ["boarding", "sixth-form"],
    )
    assert pru.features == ["alternative-provision"] and pru.status == "active"
    assert orgs["110010"].duty_type == "section-157-school"
    assert orgs["110010"].features == ["boarding", "special-school"]
    assert (orgs["130001"].duty_type, orgs["130001"].phase) == (
        "section-175-school",
        "sixteen-plus",
    )
    assert orgs["110011"].phase == "nursery"


def test_reimporting_changes_nothing(clean_db: Engine) -> None:
    schools(clean_db)
    events = count(clean_db, AuditEvent)
    again = schools(clean_db)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert count(clean_db, AuditEvent) == events, "no change, no audit event"


def test_a_changed_school_is_updated_and_audited_and_a_closed_one_made_inactive(
    clean_db: Engine,
) -> None:
    schools(clean_db)
    changed = GIAS.replace(b"Mrs,Jane,Smith", b"Mr,Raj,Khan")
    changed = changed.replace(
        b"Tiny Steps Nursery School,Local authority nursery school,Local authority maintained schools,Open,"
        b"Not applicable,01-09-1970,Not applicable,,",
        b"Tiny Steps Nursery School,Local authority nursery school,Local authority maintained schools,Closed,"
        b"Not applicable,01-09-1970,Closed,31-08-2026,",
    )
    report = schools(clean_db, changed)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 4)
    orgs = organisations(clean_db)
    assert orgs["110001"].contact_name == "Mr Raj Khan"
    assert (
        orgs["110011"].status == "inactive" and orgs["110011"].closed_on.isoformat() == "2026-08-31"
    )
    with session_scope(clean_db, write=False) as db:
        updates = db.exec(
            select(AuditEvent).where(AuditEvent.action == "organisation.update")
        ).all()
    contact = next(e for e in updates if e.organisation_id == orgs["110001"].id)
    assert contact.old == {"contact_name": "Mrs Jane Smith"} and contact.new == {
        "contact_name": "Mr Raj Khan"
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x14\x00junk", "The file is an Excel workbook, not a CSV file."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "The file is not a CSV file"),
        (b"URN,EstablishmentName\r\n1,School\r\n", "The file is missing the columns ‘LA (name)’"),
    ],
)
def test_a_malformed_file_changes_nothing(clean_db: Engine, data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as problem:
        schools(clean_db, data)
    assert str(problem.value).startswith(message)
    assert count(clean_db, Organisation) == 0 and count(clean_db, AuditEvent) == 0


def test_local_authorities_are_required(clean_db: Engine) -> None:
    with pytest.raises(ImportFileError, match="Name at least one local authority"):
        schools(clean_db, las=())


def test_organisations_csv(clean_db: Engine) -> None:
    with session_scope(clean_db, write=True) as db:
        report = import_organisations(db, (FIXTURES / "organisations.csv").read_bytes(), CTX)
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    assert [str(s) for s in report.skipped] == [
        "row 6: sector ‘polce’ is not known (known: police, health, local-authority, district-council, "
        "probation, youth-justice, cafcass, secure-setting, voluntary, other) (Typo Agency)",
        "row 7: sector ‘’ is not known (known: police, health, local-authority, district-council, "
        "probation, youth-justice, cafcass, secure-setting, voluntary, other) (No Sector Agency)",
        "row 8: feature ‘flying-lessons’ is not known (known: boarding, sixth-form, special-school, "
        "alternative-provision, early-years-provision, direct-services-to-children, commissions-services, "
        "prevent-specified-authority, overnight-care) (Bad Feature Nursery)",
        "row 9: name is empty",
        "row 10: contact_email ‘not-an-email’ is not an email address (Bad Email Trust)",
    ]
    orgs = organisations(clean_db)
    police = orgs["Devon and Cornwall Police"]
    assert (police.kind, police.sector, police.status) == ("agency", "police", "active")
    assert police.features == ["direct-services-to-children", "prevent-specified-authority"]
    assert orgs["EY500002"].duty_type == "childminder" and orgs["EY500002"].kind == "early-years"
    with session_scope(clean_db, write=True) as db:
        again = import_organisations(db, (FIXTURES / "organisations.csv").read_bytes(), CTX)
    assert (again.created, again.unchanged) == (0, 4), "matched by identifier or by name and duty"


def test_intelligence_csv_keeps_history(clean_db: Engine) -> None:
    schools(clean_db)
    data = (FIXTURES / "intelligence.csv").read_bytes()
    with session_scope(clean_db, write=True) as db:
        report = import_intelligence(db, data, CTX)
    assert (report.created, report.updated) == (2, 0)
    assert [s.row for s in report.skipped] == [4, 5, 6, 7]
    assert "no organisation has urn 999999" in str(report.skipped[0])
    assert "flag ‘unknown-flag’ is not known" in str(report.skipped[1])
    assert "source is empty" in str(report.skipped[2])
    assert "noted_on ‘yesterday’ is not a date" in str(report.skipped[3])
    newer = data.replace(
        b"Good,Ofsted inspection report,2023-03-14",
        b"Outstanding,Ofsted inspection report,2026-06-01",
    )
    with session_scope(clean_db, write=True) as db:
        second = import_intelligence(db, newer, CTX)
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    with session_scope(clean_db, write=False) as db:
        judgements = db.exec(
            select(IntelligenceFlag)
            .where(IntelligenceFlag.flag == "ofsted-judgement")
            .order_by(IntelligenceFlag.id)
        ).all()
    assert [(j.value, j.superseded_at is not None) for j in judgements] == [
        ("Good", True),
        ("Outstanding", False),
    ]


def test_cli_import_with_dry_run_and_report(
    settings: Settings,
    clean_db: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("AUDIT_PORTAL_VAR_DIR", str(settings.var_dir))
    path = str(FIXTURES / "gias_devon.csv")
    assert cli.main(["import-schools", path, "--la", "Devon", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Dry run, nothing changed: 6 created, 0 updated, 0 unchanged, 6 skipped")
    assert "  row 8: URN missing or not a number (Nameless URN School)" in out
    assert count(clean_db, Organisation) == 0
    assert cli.main(["import-schools", path, "--la", "Devon"]) == 0
    assert capsys.readouterr().out.startswith("Imported: 6 created")
    assert count(clean_db, Organisation) == 6
    with session_scope(clean_db, write=False) as db:
        event = db.exec(select(AuditEvent)).first()
    assert event.actor_label.startswith("cli:")


def test_cli_reports_a_bad_file_in_one_line(
    settings: Settings,
    clean_db: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AUDIT_PORTAL_VAR_DIR", str(settings.var_dir))
    bad = tmp_path / "book.csv"
    bad.write_bytes(b"PK\x03\x04 not really csv")
    assert cli.main(["import-organisations", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Excel workbook" in err and "Nothing was imported." in err
    assert cli.main(["import-organisations", str(tmp_path / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_row_without_an_identifier_never_wipes_a_recorded_one(clean_db: Engine) -> None:
    with session_scope(clean_db, write=True) as db:
        import_organisations(db, (FIXTURES / "organisations.csv").read_bytes(), CTX)
    # Same name and duty as the trust, which has an ODS code: the row matches it by name.
    by_name = b"name,duty_type,sector,district\r\nRoyal Devon NHS Trust,section-11-agency,health,East Devon\r\n"
    police = b"name,duty_type,sector,district\r\nDevon and Cornwall Police,section-11-agency,police,Exeter\r\n"
    with session_scope(clean_db, write=True) as db:
        import_organisations(db, by_name, CTX)
        report = import_organisations(db, police, CTX)
    assert (report.created, report.updated) == (0, 1)
    orgs = organisations(clean_db)
    assert orgs["RH8"].identifier_scheme == "ods", "the trust keeps its ODS code"
    assert orgs["RH8"].district == "East Devon", "and the rest of the row was applied"
    assert orgs["Devon and Cornwall Police"].district == "Exeter"


def test_two_rows_for_one_organisation_are_reported_not_merged(clean_db: Engine) -> None:
    data = (
        b"name,duty_type,sector,identifier_scheme,identifier\r\n"
        b"Royal Devon NHS Trust,section-11-agency,health,ods,RH8\r\n"
        b"Royal Devon University Trust,section-11-agency,health,ods,RH8\r\n"
        b"Little Owls,early-years-group,,,\r\n"
        b"little owls,early-years-group,,,\r\n"
    )
    with session_scope(clean_db, write=True) as db:
        report = import_organisations(db, data, CTX)
    assert report.created == 2
    assert [str(s) for s in report.skipped] == [
        "row 3: the same organisation as row 2; row 2 was used (Royal Devon University Trust)",
        "row 5: the same organisation as row 4; row 4 was used (little owls)",
    ]
