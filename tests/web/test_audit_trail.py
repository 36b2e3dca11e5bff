"""The audit trail is append-only in the database itself, and administrators can filter it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.audit import AuditContext, record
from audit_portal.db import session_scope
from tests.personas import World, signed_in


def add_event(
    engine: Engine, action: str = "organisation.update", organisation_id: int | None = None
) -> None:
    with session_scope(engine, write=True) as db:
        record(
            db,
            AuditContext(None, "someone@test.example"),
            action,
            organisation_id=organisation_id,
            new={"district": "East"},
        )


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_event SET action = 'tampered'", "DELETE FROM audit_event"]
)
def test_the_database_refuses_to_change_audit_events(clean_db: Engine, statement: str) -> None:
    add_event(clean_db)
    with pytest.raises(DBAPIError, match="audit events are append-only"), clean_db.begin() as conn:
        conn.execute(text(statement))
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_event")).scalars().all() == [
            "organisation.update"
        ]


def test_a_change_and_its_event_roll_back_together(clean_db: Engine, world: World) -> None:
    from audit_portal.models import Organisation
    from audit_portal.organisations import update_organisation

    with pytest.raises(RuntimeError), session_scope(clean_db, write=True) as db:
        org = db.get(Organisation, world.org_a)
        update_organisation(db, AuditContext(None, "x"), org, {"district": "West"})
        raise RuntimeError("crash after the change")
    with clean_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() == 0
        assert (
            conn.execute(
                text("SELECT district FROM organisation WHERE id = :id"), {"id": world.org_a}
            ).scalar()
            == "North"
        )


def test_administrators_filter_the_trail(app: Starlette, clean_db: Engine, world: World) -> None:
    add_event(clean_db, "organisation.update", world.org_a)
    add_event(clean_db, "intelligence.create", world.org_b)
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people["admin"])
        everything = client.get("/audit")
        assert "organisation.update" in everything.text and "intelligence.create" in everything.text
        only_b = client.get(f"/audit?organisation_id={world.org_b}")
        assert "intelligence.create" in only_b.text and "organisation.update" not in only_b.text
        by_action = client.get("/audit?action=intelligence")
        assert "organisation.update" not in by_action.text
        future = client.get("/audit?date_from-day=1&date_from-month=1&date_from-year=2099")
        assert "0 events" in future.text
        bad = client.get("/audit?date_from-day=yesterday&date_from-month=1&date_from-year=2026")
        assert bad.status_code == 400 and "The ‘from’ date must be a real date" in bad.text
        assert 'value="yesterday"' in bad.text, "what was typed is kept"
        half = client.get("/audit?date_to-day=3&date_to-year=2026")
        assert "The ‘to’ date must include a month" in half.text
        assert "Edit" not in everything.text and "Delete" not in everything.text
