"""Every route x every persona, with own- and other-organisation resources.

The expectations below are written out here, not read from the policy module, so the test
fails when a route's permission changes. A route that is not built with ``page()`` (and so
declares no permission), or that is missing from EXPECTED, also fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from audit_portal.web.guard import GuardedRoute
from tests.personas import World, add_action_and_submission, csrf_from, signed_in

PERSONAS = ("respondent_a", "signatory_a", "respondent_b", "qa", "admin", "scrutineer", "no_roles")
INFRASTRUCTURE = {"/static"}  # mounted files, no permission of their own


@dataclass(frozen=True)
class Access:
    allowed: frozenset[str] = frozenset()  # personas allowed partnership-wide
    members: frozenset[str] = frozenset()  # roles allowed at the resource's own organisation
    anonymous: bool = False


def access(*names: str, members: tuple[str, ...] = (), anonymous: bool = False) -> Access:
    return Access(frozenset(names), frozenset(members), anonymous)


PUBLIC = access(*PERSONAS, anonymous=True)
SIGNED_IN = access(*PERSONAS)
ADMIN = access("admin")
ADMIN_QA = access("admin", "qa")
MEMBERS = ("respondent", "signatory")
ORGANISATION = access("admin", "qa", members=MEMBERS)
RETURN_EDIT = access(members=MEMBERS)
RETURN_SUBMIT = access(members=("signatory",))

EXPECTED: dict[tuple[str, str], Access] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/accessibility"): PUBLIC,
    ("GET", "/cookies"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/sign-in"): PUBLIC,
    ("POST", "/sign-in"): PUBLIC,
    ("GET", "/sign-in/code"): PUBLIC,
    ("POST", "/sign-in/code"): PUBLIC,
    ("POST", "/sign-out"): SIGNED_IN,
    ("GET", "/signed-out"): PUBLIC,
    ("GET", "/invitation/{token}"): PUBLIC,
    ("POST", "/invitation/{token}"): PUBLIC,
    ("GET", "/reset-password/{token}"): PUBLIC,
    ("POST", "/reset-password/{token}"): PUBLIC,
    ("GET", "/forgotten-password"): PUBLIC,
    ("POST", "/forgotten-password"): PUBLIC,
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/account/two-factor"): SIGNED_IN,
    ("POST", "/account/two-factor"): SIGNED_IN,
    ("POST", "/account/two-factor/off"): SIGNED_IN,
    ("GET", "/dashboard"): SIGNED_IN,
    ("GET", "/organisations"): ADMIN_QA,
    ("GET", "/organisations/new"): ADMIN,
    ("POST", "/organisations/new"): ADMIN,
    ("GET", "/organisations/import"): ADMIN,
    ("POST", "/organisations/import"): ADMIN,
    ("GET", "/organisations/{organisation_id:int}"): ORGANISATION,
    ("GET", "/organisations/{organisation_id:int}/edit"): ADMIN,
    ("POST", "/organisations/{organisation_id:int}/edit"): ADMIN,
    ("POST", "/organisations/{organisation_id:int}/intelligence"): ADMIN,
    ("GET", "/users"): ADMIN,
    ("GET", "/users/invite"): ADMIN,
    ("POST", "/users/invite"): ADMIN,
    ("GET", "/users/{user_id:int}"): ADMIN,
    ("POST", "/users/{user_id:int}/roles"): ADMIN,
    ("POST", "/users/{user_id:int}/roles/remove"): ADMIN,
    ("POST", "/users/{user_id:int}/active"): ADMIN,
    ("POST", "/users/{user_id:int}/invitation"): ADMIN,
    ("GET", "/audit"): ADMIN,
    ("GET", "/outbox"): ADMIN,
    ("GET", "/questionnaires"): ADMIN_QA,
    ("GET", "/questionnaires/{key}/{version}"): ADMIN_QA,
    ("GET", "/questionnaires/{key}/{version}/sections/{section_id}"): ADMIN_QA,
    ("GET", "/questionnaires/{key}/{version}/blank.pdf"): ADMIN_QA,
    ("GET", "/questionnaires/{key}/diff"): ADMIN_QA,
    ("GET", "/campaigns"): ADMIN_QA,
    ("GET", "/campaigns/new"): ADMIN,
    ("POST", "/campaigns/new"): ADMIN,
    ("GET", "/campaigns/{campaign_id:int}"): ADMIN_QA,
    ("POST", "/campaigns/{campaign_id:int}/open"): ADMIN,
    ("POST", "/campaigns/{campaign_id:int}/close"): ADMIN,
    ("POST", "/campaigns/{campaign_id:int}/reminders"): ADMIN,
    ("GET", "/returns/{return_id:int}"): ORGANISATION,
    ("GET", "/returns/{return_id:int}/sections/{section_id}"): RETURN_EDIT,
    ("POST", "/returns/{return_id:int}/sections/{section_id}"): RETURN_EDIT,
    ("POST", "/returns/{return_id:int}/items/{item_id}"): RETURN_EDIT,
    ("POST", "/returns/{return_id:int}/items/{item_id}/actions"): RETURN_EDIT,
    ("POST", "/returns/{return_id:int}/actions/{action_id:int}/delete"): RETURN_EDIT,
    ("POST", "/returns/{return_id:int}/carry-forward"): RETURN_EDIT,
    ("GET", "/returns/{return_id:int}/check"): ORGANISATION,
    ("GET", "/returns/{return_id:int}/summary"): ORGANISATION,
    ("GET", "/returns/{return_id:int}/summary.pdf"): ORGANISATION,
    ("GET", "/returns/{return_id:int}/submit"): RETURN_SUBMIT,
    ("POST", "/returns/{return_id:int}/submit"): RETURN_SUBMIT,
    ("GET", "/returns/{return_id:int}/submissions/{revision:int}"): ORGANISATION,
    ("GET", "/returns/{return_id:int}/submissions/{revision:int}.json"): ORGANISATION,
    ("POST", "/returns/{return_id:int}/amend"): ADMIN_QA,
    ("POST", "/returns/{return_id:int}/accept"): ADMIN_QA,
}


def declared_routes(app: Starlette) -> list[tuple[str, str, GuardedRoute]]:
    found = []
    for route in app.routes:
        if isinstance(route, Mount) and route.path in INFRASTRUCTURE:
            continue
        assert isinstance(route, GuardedRoute), f"{route.path} was not built with page()"
        assert route.permission is not None, f"{route.path} declares no permission"
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path, route))
    return found


def test_every_route_declares_a_permission_and_has_an_expectation(app: Starlette) -> None:
    declared = {(m, p) for m, p, _ in declared_routes(app)}
    assert declared - EXPECTED.keys() == set(), "routes with no expectation in this test"
    assert EXPECTED.keys() - declared == set(), "expectations for routes that do not exist"


def fill(
    path: str,
    organisation_id: int,
    user_id: int,
    world: World | None = None,
    actions: dict[int, int] | None = None,
) -> str:
    if world is not None:
        path = (
            path.replace("{campaign_id:int}", str(world.campaign_id))
            .replace("{return_id:int}", str(world.returns[organisation_id]))
            .replace("{action_id:int}", str((actions or {}).get(organisation_id, 0)))
            .replace("{revision:int}", "1")
            .replace("{item_id}", "s175.1.1")
        )
    return (
        path.replace("{organisation_id:int}", str(organisation_id))
        .replace("{user_id:int}", str(user_id))
        .replace("{token}", "not-a-real-token")
        .replace("{key}", "section-175-schools")
        .replace("{version}", "2025.1")
        .replace("{section_id}", "s175.1")
    )


def is_sign_in_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 303 and response.headers["location"].startswith("/sign-in?")


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_route_access(
    method: str, path: str, app: Starlette, world: World, clean_db: Engine
) -> None:
    expected = EXPECTED[(method, path)]
    actions = add_action_and_submission(clean_db, world)
    scoped = ("{organisation_id" in path or "{return_id" in path) and expected.members
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
            url = fill(path, org, target, world, actions)
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
