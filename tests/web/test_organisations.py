"""Administrators create and change organisations and intelligence; every change is audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, IntelligenceFlag, Organisation
from tests.personas import World, signed_in

AGENCY = {
    "name": "Testshire Constabulary",
    "duty_type": "section-11-agency",
    "sector": "police",
    "phase": "",
    "identifier_scheme": "",
    "identifier": "",
    "district": "",
    "contact_name": "Pat",
    "contact_email": "pat@police.example",
    "contact_phone": "",
    "status": "active",
    "features": ["direct-services-to-children", "prevent-specified-authority"],
}


@pytest.fixture
def admin(app: Starlette, clean_db: Engine, world: World) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, clean_db, world.people["admin"])


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_create_an_agency_and_its_audit_event(admin, clean_db: Engine) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    response = client.post("/organisations/new", data={**AGENCY, "csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Testshire Constabulary" in page.text and "has been added" in page.text
    assert "Specified authority under the Prevent duty" in page.text
    with session_scope(clean_db, write=False) as db:
        org = db.exec(
            select(Organisation).where(Organisation.name == "Testshire Constabulary")
        ).one()
        assert (org.kind, org.sector, org.phase) == ("agency", "police", None)
    [event] = events(clean_db, "organisation.create")
    assert (
        event.new["name"] == "Testshire Constabulary" and event.actor_label == "admin@test.example"
    )


def test_an_agency_needs_a_sector_and_errors_keep_what_was_typed(admin) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    response = client.post("/organisations/new", data={**AGENCY, "sector": "", "csrf_token": token})
    assert response.status_code == 400
    assert "Choose the partner agency&#39;s sector" in response.text
    assert 'value="Testshire Constabulary"' in response.text


def test_identifiers_are_unique(admin, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    clash = {**AGENCY, "identifier_scheme": "urn", "identifier": "100001", "csrf_token": token}
    response = client.post("/organisations/new", data=clash)
    assert (
        response.status_code == 400
        and "Alpha Primary School already has the identifier 100001" in response.text
    )


def test_edit_records_only_what_changed(admin, clean_db: Engine, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    form = client.get(f"/organisations/{world.org_a}/edit")
    assert 'value="Alpha Primary School"' in form.text
    data = {
        "name": "Alpha Primary School",
        "duty_type": "section-175-school",
        "sector": "",
        "phase": "primary",
        "identifier_scheme": "urn",
        "identifier": "100001",
        "district": "East",
        "contact_name": "",
        "contact_email": "",
        "contact_phone": "",
        "status": "active",
        "csrf_token": token,
    }
    assert client.post(f"/organisations/{world.org_a}/edit", data=data).status_code == 303
    [event] = events(clean_db, "organisation.update")
    assert event.old == {"district": "North"} and event.new == {"district": "East"}
    assert event.organisation_id == world.org_a
    client.post(f"/organisations/{world.org_a}/edit", data=data)
    assert len(events(clean_db, "organisation.update")) == 1, "no change, no event"


def test_intelligence_is_superseded_never_overwritten(
    admin, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    url = f"/organisations/{world.org_b}/intelligence"
    LATER = {"noted_on-day": "14", "noted_on-month": "10", "noted_on-year": "2026"}
    first = {
        "flag": "ofsted-judgement",
        "value": "Good",
        "source": "Ofsted report",
        "noted_on-day": "1",
        "noted_on-month": "5",
        "noted_on-year": "2024",
        "note": "",
        "csrf_token": token,
    }
    assert client.post(url, data=first).status_code == 303
    assert (
        client.post(url, data={**first, "value": "Requires improvement", **LATER}).status_code
        == 303
    )
    client.post(url, data={**first, "value": "Requires improvement", **LATER})
    with session_scope(clean_db, write=False) as db:
        flags = db.exec(select(IntelligenceFlag).order_by(IntelligenceFlag.id)).all()
    assert [(f.value, f.superseded_at is None) for f in flags] == [
        ("Good", False),
        ("Requires improvement", True),
    ]
    page = client.get(f"/organisations/{world.org_b}")
    assert "Requires improvement" in page.text and "History of intelligence" in page.text
    bad = client.post(
        url, data={**first, "noted_on-day": "31", "noted_on-month": "2", "source": ""}
    )
    assert bad.status_code == 400 and "Enter where this intelligence came from" in bad.text
    assert "The date must be a real date" in bad.text


def test_members_see_their_organisation_without_intelligence_or_people(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people["signatory_a"])
        page = client.get(f"/organisations/{world.org_a}")
        assert page.status_code == 200 and "Alpha Primary School" in page.text
        assert "Intelligence" not in page.text and "People" not in page.text.split("<main")[1]
        assert client.get(f"/organisations/{world.org_b}").status_code == 404


def test_list_filters(admin, world: World) -> None:  # type: ignore[no-untyped-def]
    client, _ = admin
    assert "Beta Academy" in client.get("/organisations?district=South").text
    assert "Alpha Primary" not in client.get("/organisations?district=South").text
    assert "Alpha Primary" in client.get("/organisations?search=100001").text
    assert "0 organisations" in client.get("/organisations?status=inactive").text
