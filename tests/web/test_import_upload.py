"""Administrators upload import files in the browser's form; bad uploads are refused clearly."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, Organisation
from tests.personas import World, signed_in

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"


def upload(client: TestClient, token: str, kind: str, name: str, data: bytes, las: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/organisations/import",
        data={"csrf_token": token, "kind": kind, "local_authorities": las},
        files={"file": (name, data, "text/csv")},
    )


def test_gias_upload_shows_the_report(app: Starlette, clean_db: Engine, world: World) -> None:
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        page = upload(
            client,
            token,
            "schools",
            "edubase.csv",
            (FIXTURES / "gias_devon.csv").read_bytes(),
            las="Devon, Cornwall",
        )
        assert page.status_code == 200
        assert "6 created, 0 updated, 0 unchanged, 6 skipped" in page.text
        assert "URN missing or not a number" in page.text and "Nameless URN School" in page.text
    with session_scope(clean_db, write=False) as db:
        assert (
            len(db.exec(select(Organisation).where(Organisation.identifier_scheme == "urn")).all())
            == 2 + 6
        )


def test_bad_uploads_are_refused_and_logged(app: Starlette, clean_db: Engine, world: World) -> None:
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["admin"])
        no_la = upload(client, token, "schools", "edubase.csv", b"URN\n1\n")
        assert no_la.status_code == 400 and "Enter the local authority" in no_la.text
        not_csv = upload(client, token, "organisations", "orgs.xlsx", b"PK\x03\x04")
        assert not_csv.status_code == 400 and "must be a CSV file" in not_csv.text
        workbook = upload(client, token, "organisations", "orgs.csv", b"PK\x03\x04 data")
        assert workbook.status_code == 400 and "Excel workbook" in workbook.text
        assert "Nothing was imported." in workbook.text
        no_kind = upload(client, token, "", "orgs.csv", b"name\n")
        assert "Choose what the file contains" in no_kind.text
    with session_scope(clean_db, write=False) as db:
        rejected = db.exec(
            select(AuditEvent).where(AuditEvent.action == "security.upload_rejected")
        ).all()
        assert len(rejected) == 4
        assert len(db.exec(select(Organisation)).all()) == 2  # only the test world's
