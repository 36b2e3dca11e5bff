"""Every state-changing route refuses a missing or wrong CSRF token, and keeps what was typed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, Organisation
from audit_portal.web.guard import GuardedRoute
from tests.personas import World, signed_in
from tests.web.test_access_matrix import fill


def unsafe_routes(app: Starlette) -> list[str]:
    return sorted(
        r.path
        for r in app.routes
        if isinstance(r, GuardedRoute) and r.methods & {"POST", "PUT", "PATCH", "DELETE"}
    )


def test_there_are_state_changing_routes_to_check(app: Starlette) -> None:
    assert len(unsafe_routes(app)) >= 15


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_every_state_changing_route_checks_the_token(
    app: Starlette, clean_db: Engine, world: World, token: str | None
) -> None:
    for path in unsafe_routes(app):
        with TestClient(app, follow_redirects=False) as client:
            editing_a_return = "/returns/" in path and not path.endswith(("/amend", "/accept"))
            signed_in(
                client, clean_db, world.people["signatory_a" if editing_a_return else "admin"]
            )
            data = {"name": "Kept value"} | ({"csrf_token": token} if token else {})
            response = client.post(
                fill(path, world.org_a, world.people["no_roles"].user_id, world), data=data
            )
            assert response.status_code == 403, path
            assert "Your form could not be sent" in response.text, path
    with session_scope(clean_db, write=False) as db:
        failures = db.exec(
            select(AuditEvent).where(AuditEvent.action == "security.csrf_failed")
        ).all()
        assert len(failures) == len(unsafe_routes(app))


def test_refused_form_is_offered_again_with_the_typed_values(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["admin"])
        typed = {
            "name": "Gamma <Nursery> & Co",
            "duty_type": "early-years-group",
            "password": "secret!",
        }
        refused = client.post("/organisations/new", data={**typed, "csrf_token": "stale"})
        assert refused.status_code == 403
        html = refused.text
        assert 'value="Gamma &lt;Nursery&gt; &amp; Co"' in html, "kept, and escaped"
        assert "secret!" not in html, "passwords are never echoed"
        assert 'name="csrf_token" value="' in html and 'value="stale"' not in html
    with session_scope(clean_db, write=False) as db:
        assert (
            db.exec(select(Organisation).where(Organisation.name.startswith("Gamma"))).all() == []
        )


def test_htmx_requests_may_send_the_token_in_a_header(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        response = client.post("/sign-out", headers={"X-CSRF-Token": token, "HX-Request": "true"})
        assert response.status_code == 303
