"""Past years' returns come in from a spreadsheet as a closed campaign, all or nothing.

Through the command (`audit-portal import-returns`) and the administrator's upload, on the
database under test: the stored submissions, typed answer rows and scores are checked, and so is
the campaign report's comparison with the imported year.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import xlsxwriter
from sqlalchemy import Engine
from sqlmodel import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import cli, clock
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    AuditEvent,
    Campaign,
    Return,
    Submission,
    SubmittedAnswer,
)
from tests.personas import World, signed_in

HEADER = ["identifier_scheme", "identifier", "item_id", "rating", "narrative", "submitted_on"]
GOOD = [
    ["urn", "100001", "s175.1.1", "3", "Policy reviewed by governors", "2024-03-28"],
    ["urn", "100001", "s175.1.2", "Partly in place", "", "2024-03-28"],
    ["urn", "100001", "s175.1.3", "Not applicable", "", "2024-03-28"],
    ["URN", "100002", "s175.1.1", "not in place", '=HYPERLINK("x")', ""],
    ["urn", "100002", "s175.1.2", "fully in place", "", ""],
]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Answers")
    for r, row in enumerate([HEADER, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


@pytest.fixture(autouse=True)
def in_2026():  # type: ignore[no-untyped-def]
    with clock.travel(date(2026, 4, 20)):
        yield


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("AUDIT_PORTAL_VAR_DIR", str(settings.var_dir))


def run(tmp_path, data: bytes, *extra: str, name: str = "past.csv") -> int:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    return cli.main(
        [
            "import-returns",
            str(path),
            "--questionnaire",
            "section-175-schools",
            "--version",
            "2022.1",
            "--campaign-title",
            "Section 175 audit 2024",
            "--submitted-on",
            "2024-03-31",
            *extra,
        ]
    )


def imported_campaigns(engine: Engine) -> list[Campaign]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(Campaign).where(Campaign.title == "Section 175 audit 2024")))


def test_the_command_imports_a_closed_campaign_scored_like_a_signed_return(
    env: None, tmp_path, clean_db: Engine, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, csv_bytes(GOOD)) == 0
    assert "Imported into campaign" in capsys.readouterr().out
    [campaign] = imported_campaigns(clean_db)
    assert campaign.status == "closed"
    assert (campaign.opens_on, campaign.closes_on) == (date(2024, 3, 28), date(2024, 3, 31))
    with session_scope(clean_db, write=False) as db:
        returns = db.exec(select(Return).where(Return.campaign_id == campaign.id)).all()
        assert sorted(r.status for r in returns) == ["accepted", "accepted"]
        by_org = {r.organisation_id: r for r in returns}
        alpha = db.exec(
            select(Submission).where(Submission.return_id == by_org[world.org_a].id)
        ).one()
        assert alpha.declaration_date == date(2024, 3, 28)
        assert alpha.content["answers"]["s175.1.1"]["narrative"] == "Policy reviewed by governors"
        assert alpha.content["answers"]["s175.1.3"]["not_applicable"] is True
        assert alpha.content["score"]["items"]["s175.1.2"] == "amber"
        assert "s175.1.2" in alpha.content["score"]["less_effective"]
        beta = db.exec(
            select(Submission).where(Submission.return_id == by_org[world.org_b].id)
        ).one()
        assert beta.declaration_date == date(2024, 3, 31)  # no submitted_on: the default
        assert beta.content["answers"]["s175.1.1"]["narrative"] == '=HYPERLINK("x")'  # text only
        rows = db.exec(
            select(SubmittedAnswer.item_id, SubmittedAnswer.rating, SubmittedAnswer.not_applicable)
            .where(SubmittedAnswer.campaign_id == campaign.id)
            .order_by(SubmittedAnswer.organisation_id, SubmittedAnswer.item_id)
        ).all()
        answered = [r for r in rows if r[1] is not None or r[2]]
        assert [tuple(r) for r in answered] == [
            ("s175.1.1", 3, False),
            ("s175.1.2", 2, False),
            ("s175.1.3", None, True),
            ("s175.1.1", 1, False),
            ("s175.1.2", 3, False),
        ]
        events = db.exec(
            select(AuditEvent).where(AuditEvent.action == "campaign.import_historical")
        ).all()
        assert len(events) == 1 and events[0].new["answers"] == 5


def test_every_bad_row_is_reported_and_nothing_is_imported(
    env: None, tmp_path, clean_db: Engine, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        *GOOD,
        ["urn", "999999", "s175.1.1", "3", "", ""],  # row 7: unknown organisation
        ["urn", "100001", "s175.99.9", "3", "", ""],  # row 8: unknown item
        ["urn", "100002", "s175.1.3", "5", "", ""],  # row 9: not on the scale
        ["urn", "100001", "s175.1.1", "2", "", "2024-03-28"],  # row 10: duplicate of row 2
    ]
    assert run(tmp_path, csv_bytes(bad)) == 1
    out = capsys.readouterr().out
    assert "4 of 9 rows cannot be used, so nothing was imported" in out
    lines = [line.strip() for line in out.splitlines() if line.startswith("  row ")]
    assert [line.split(":")[0] for line in lines] == ["row 7", "row 8", "row 9", "row 10"]
    assert "no organisation has urn 999999" in lines[0]
    assert "s175.99.9" in lines[1] and "is not in section-175-schools 2022.1" in lines[1]
    assert "‘5’ is not on the scale" in lines[2] and "3 (Fully in place)" in lines[2]
    assert "also on row 2" in lines[3]
    assert imported_campaigns(clean_db) == []
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(func.count()).select_from(Submission)).one() == 0


def test_a_dry_run_checks_and_imports_nothing_and_xlsx_works_like_csv(
    env: None, tmp_path, clean_db: Engine, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, xlsx_bytes(GOOD), "--dry-run", name="past.xlsx") == 0
    assert "Dry run, nothing imported: the file is ready (5 answers from 2 organisations" in (
        capsys.readouterr().out
    )
    assert imported_campaigns(clean_db) == []
    assert run(tmp_path, xlsx_bytes(GOOD), name="past.xlsx") == 0
    [campaign] = imported_campaigns(clean_db)
    with session_scope(clean_db, write=False) as db:
        count = select(func.count()).select_from(SubmittedAnswer)
        assert db.exec(count.where(SubmittedAnswer.campaign_id == campaign.id)).one() >= 5
    assert run(tmp_path, xlsx_bytes(GOOD), name="past.xlsx") == 2  # the title is taken
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary junk", "Nothing was imported."),
        (csv_bytes([], header=["identifier", "item_id"]), "identifier_scheme"),
        (csv_bytes([]), "no answers"),
        (b"PK\x03\x04not really a workbook", "Nothing was imported."),
    ],
)
def test_unusable_files_are_refused_in_plain_english(
    env: None,
    tmp_path,
    clean_db: Engine,
    world: World,
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    message: str,
) -> None:
    assert run(tmp_path, data) == 2
    assert message in capsys.readouterr().err
    assert imported_campaigns(clean_db) == []


def upload(client: TestClient, token: str, data: bytes, name: str = "past.csv", **form: str):  # type: ignore[no-untyped-def]
    fields = {
        "csrf_token": token,
        "questionnaire": "section-175-schools/2022.1",
        "title": "Section 175 audit 2024",
        "submitted-day": "31",
        "submitted-month": "3",
        "submitted-year": "2024",
        **form,
    }
    return client.post("/campaigns/import", data=fields, files={"file": (name, data, "text/csv")})


def test_an_administrator_uploads_past_returns_and_the_report_compares_with_them(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        form = client.get("/campaigns/import")
        assert (
            form.status_code == 200
            and "Section 175/157 safeguarding self-assessment for schools and colleges (version 2022.1)"
            in form.text
        )
        done = upload(client, token, csv_bytes(GOOD))
        assert done.status_code == 200, done.text[:2000]
        assert "Past returns imported" in done.text
        assert "5 answers from 2 organisations (5 rows)" in done.text
        [campaign] = imported_campaigns(clean_db)
        page = client.get(f"/campaigns/{campaign.id}")
        assert page.status_code == 200
        assert "Alpha Primary School" in page.text and "Beta Academy" in page.text
        report = client.get(f"/campaigns/{world.campaign_id}/report")
        assert report.status_code == 200
        assert "Section 175 audit 2024" in report.text  # the previous campaign it compares with


def test_bad_uploads_keep_what_was_typed_and_list_every_bad_row(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        bad = upload(client, token, csv_bytes([*GOOD, ["urn", "999999", "s175.1.1", "3", "", ""]]))
        assert bad.status_code == 400
        assert "1 of 6 rows cannot be used, so nothing was imported" in bad.text
        assert "no organisation has urn 999999" in bad.text
        assert 'value="Section 175 audit 2024"' in bad.text
        future = upload(client, token, csv_bytes(GOOD), **{"submitted-year": "2027"})
        assert "The submitted date must be today or in the past" in future.text
        impossible = upload(client, token, csv_bytes(GOOD), **{"submitted-month": "13"})
        assert "must be a real date" in impossible.text
        unknown = upload(client, token, csv_bytes(GOOD), questionnaire="nope/1")
        assert "Choose the questionnaire the returns answered" in unknown.text
        wrong_type = upload(client, token, b"%PDF-1.4", name="past.pdf")
        assert "must be a CSV or Excel (.xlsx) file" in wrong_type.text
        untitled = upload(client, token, csv_bytes(GOOD), title="  ")
        assert "Enter a title for the campaign" in untitled.text
        too_long = upload(client, token, csv_bytes(GOOD), title="T" * 201)
        assert "The title must be 200 characters or fewer" in too_long.text
        for response in (future, impossible, unknown, wrong_type, untitled, too_long):
            assert response.status_code == 400
    assert imported_campaigns(clean_db) == []
