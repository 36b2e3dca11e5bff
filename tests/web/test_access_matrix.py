"""Every route x every persona, with own- and other-organisation resources.

The expectations (in ``tests/routes.py``) are written out by hand, not read from the policy module, so the test
fails when a route's permission changes. A route that is not built with ``page()`` (and so
declares no permission), or that is missing from EXPECTED, also fails the test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.personas import World, add_action_and_submission, csrf_from, signed_in
from tests.routes import (
    EXPECTED,
    PERSONAS,
    Access,
    add_challenges,
    declared_routes,
    fill,
    is_scoped_path,
)


def test_every_route_declares_a_permission_and_has_an_expectation(app: Starlette) -> None:
    declared = {(m, p) for m, p, _ in declared_routes(app)}
    assert declared - EXPECTED.keys() == set(), "routes with no expectation in this test"
    assert EXPECTED.keys() - declared == set(), "expectations for routes that do not exist"


def is_sign_in_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 303 and response.headers["location"].startswith("/sign-in?")


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_route_access(
    method: str, path: str, app: Starlette, world: World, clean_db: Engine
) -> None:
    expected = EXPECTED[(method, path)]
    actions = add_action_and_submission(clean_db, world)
    challenges = add_challenges(clean_db, world, app.state.settings)
    scoped = is_scoped_path(path) and bool(expected.members)
    target = world.people["no_roles"].user_id
    cases = [("anonymous", world.org_a)] + [(p, world.org_a) for p in PERSONAS]
    if scoped:
        cases += [(p, world.org_b) for p in PERSONAS]
    for persona, org in cases:
        with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
            if persona == "anonymous":
                token = csrf_from(client.get("/sign-in").text)
            else:
                token = signed_in(client, clean_db, world.people[persona])
            url = fill(path, org, target, world, actions, challenges)
            if method == "GET":
                response = client.get(url)
            else:
                response = client.request(method, url, data={"csrf_token": token})
            outcome = describe(response)
            want = expectation(expected, persona, org, world, scoped)
            assert outcome == want or (want == "allowed" and outcome.startswith("allowed")), (
                f"{method} {url} as {persona}: expected {want}, got {outcome} "
                f"({response.status_code})"
            )


def describe(response) -> str:  # type: ignore[no-untyped-def]
    if is_sign_in_redirect(response):
        return "sign-in"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 404:
        return "not-found"
    assert response.status_code < 500, response.text[:2000]
    return f"allowed ({response.status_code})"


def expectation(expected: Access, persona: str, org: int, world: World, scoped: bool) -> str:
    if persona == "anonymous":
        return "allowed" if expected.anonymous else "sign-in"
    if persona in expected.allowed:
        return "allowed"
    if scoped:
        who = world.people[persona]
        member = (
            who.organisation_id == org
            and who.role is not None
            and who.role.value in expected.members
        )
        return "allowed" if member else "not-found"
    return "forbidden"
