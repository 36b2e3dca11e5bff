"""Every state-changing route refuses a missing or wrong CSRF token, and keeps what was typed."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import Answer, AuditEvent, Membership
from audit_portal.policy import Permission
from audit_portal.web.guard import GuardedRoute
from tests.personas import World, signed_in
from tests.routes import add_challenges, fill


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
    challenges = add_challenges(clean_db, world, app.state.settings)
    members_only = {
        r.path
        for r in app.routes
        if isinstance(r, GuardedRoute) and r.permission is Permission.CHALLENGE_RESPOND
    }
    for path in unsafe_routes(app):
        with TestClient(app, follow_redirects=False) as client:
            editing_a_return = (
                "/returns/" in path
                and not path.endswith(("/amend", "/accept", "/follow-up/review", "}/actions"))
            ) or path in members_only
            signed_in(
                client, clean_db, world.people["signatory_a" if editing_a_return else "admin"]
            )
            data = {"name": "Kept value"} | ({"csrf_token": token} if token else {})
            response = client.post(
                fill(
                    path,
                    world.org_a,
                    world.people["no_roles"].user_id,
                    world,
                    challenges=challenges,
                ),
                data=data,
            )
            assert response.status_code == 403, path
            assert "Your form could not be sent" in response.text, path
    with session_scope(clean_db, write=False) as db:
        failures = db.exec(
            select(AuditEvent).where(AuditEvent.action == "security.csrf_failed")
        ).all()
        assert len(failures) == len(unsafe_routes(app))


def test_a_forged_administrative_change_is_not_re_armed(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    """A token-less forged POST must not come back as a one-click form carrying a valid token."""
    victim = world.people["no_roles"].user_id
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["admin"])
        refused = client.post(f"/users/{victim}/roles", data={"role": "admin"})
        assert refused.status_code == 403
        html = refused.text
        assert "Your form could not be sent" in html
        assert "Send again" not in html
        assert 'name="role"' not in html and 'value="admin"' not in html
        assert f'action="/users/{victim}/roles"' not in html
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(Membership).where(Membership.user_id == victim)).all() == []


def test_typed_answers_are_shown_back_as_text_not_resent(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    with TestClient(app, follow_redirects=False) as client:
        signed_in(client, clean_db, world.people["respondent_a"])
        typed = {"item-s175-1-1-value": "2", "item-s175-1-1-narrative": "Our <b>DSL</b> & deputy"}
        refused = client.post(
            f"/returns/{return_id}/sections/s175.1", data={**typed, "csrf_token": "stale"}
        )
        assert refused.status_code == 403
        html = refused.text
        assert "Our &lt;b&gt;DSL&lt;/b&gt; &amp; deputy" in html, "kept, shown as text, escaped"
        assert "Send again" not in html and 'type="hidden" name="item-' not in html
        assert f'href="/returns/{return_id}/sections/s175.1"' in html
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(Answer)).all() == []


def test_htmx_requests_may_send_the_token_in_a_header(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        response = client.post("/sign-out", headers={"X-CSRF-Token": token, "HX-Request": "true"})
        assert response.status_code == 303
