"""Every route the portal serves and who may use it, written out by hand.

Shared by the route x role matrix, the CSRF enumeration and the hostile-input fuzzing, so a new
route is added in one place. The expectations are not read from ``policy.py``: the matrix fails
when a route's permission changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from audit_portal.web.guard import GuardedRoute
from tests.challenge_builders import add_challenges  # noqa: F401  (the tests' builder)
from tests.personas import MATRIX_EVENT_ID, MATRIX_SAMPLE_ID, World

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
OVERSIGHT = access("admin", "qa", "scrutineer")
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
    ("GET", "/campaigns/import"): ADMIN,
    ("POST", "/campaigns/import"): ADMIN,
    ("GET", "/organisations/{organisation_id:id}"): ORGANISATION,
    ("GET", "/organisations/{organisation_id:id}/edit"): ADMIN,
    ("POST", "/organisations/{organisation_id:id}/edit"): ADMIN,
    ("POST", "/organisations/{organisation_id:id}/intelligence"): ADMIN,
    ("GET", "/users"): ADMIN,
    ("GET", "/users/invite"): ADMIN,
    ("POST", "/users/invite"): ADMIN,
    ("GET", "/users/{user_id:id}"): ADMIN,
    ("POST", "/users/{user_id:id}/roles"): ADMIN,
    ("POST", "/users/{user_id:id}/roles/remove"): ADMIN,
    ("POST", "/users/{user_id:id}/active"): ADMIN,
    ("POST", "/users/{user_id:id}/invitation"): ADMIN,
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
    ("GET", "/campaigns/{campaign_id:id}"): ADMIN_QA,
    ("POST", "/campaigns/{campaign_id:id}/open"): ADMIN,
    ("POST", "/campaigns/{campaign_id:id}/close"): ADMIN,
    ("POST", "/campaigns/{campaign_id:id}/reminders"): ADMIN,
    ("GET", "/returns/{return_id:id}"): ORGANISATION,
    ("GET", "/returns/{return_id:id}/sections/{section_id}"): RETURN_EDIT,
    ("POST", "/returns/{return_id:id}/sections/{section_id}"): RETURN_EDIT,
    ("POST", "/returns/{return_id:id}/items/{item_id}"): RETURN_EDIT,
    ("POST", "/returns/{return_id:id}/carry-forward"): RETURN_EDIT,
    ("GET", "/returns/{return_id:id}/check"): ORGANISATION,
    ("GET", "/returns/{return_id:id}/questionnaire.pdf"): ORGANISATION,
    ("POST", "/returns/{return_id:id}/ready"): RETURN_EDIT,
    ("GET", "/returns/{return_id:id}/summary"): ORGANISATION,
    ("GET", "/returns/{return_id:id}/summary.pdf"): ORGANISATION,
    ("GET", "/returns/{return_id:id}/submit"): RETURN_SUBMIT,
    ("POST", "/returns/{return_id:id}/submit"): RETURN_SUBMIT,
    ("GET", "/returns/{return_id:id}/submissions/{revision:id}"): ORGANISATION,
    ("GET", "/returns/{return_id:id}/submissions/{revision:id}.json"): ORGANISATION,
    ("POST", "/returns/{return_id:id}/amend"): ADMIN_QA,
    ("POST", "/returns/{return_id:id}/accept"): ADMIN_QA,
    ("GET", "/returns/{return_id:id}/follow-up"): ORGANISATION,
    ("POST", "/returns/{return_id:id}/follow-up"): RETURN_EDIT,
    ("POST", "/returns/{return_id:id}/follow-up/actions/{action_id:id}"): RETURN_EDIT,
    ("GET", "/returns/{return_id:id}/follow-up/submit"): RETURN_SUBMIT,
    ("POST", "/returns/{return_id:id}/follow-up/submit"): RETURN_SUBMIT,
    ("GET", "/returns/{return_id:id}/follow-up/rounds/{round:id}"): ORGANISATION,
    ("POST", "/returns/{return_id:id}/follow-up/review"): ADMIN_QA,
    ("GET", "/returns/{return_id:id}/actions"): ADMIN_QA,
    ("POST", "/returns/{return_id:id}/actions"): ADMIN_QA,
    ("GET", "/campaigns/{campaign_id:id}/follow-ups"): OVERSIGHT,
    ("GET", "/challenges/{challenge_id:id}/setup"): ADMIN_QA,
    ("POST", "/challenges/{challenge_id:id}/setup"): ADMIN_QA,
    ("POST", "/challenges/{challenge_id:id}/due-date"): ADMIN_QA,
    ("GET", "/challenges/{challenge_id:id}"): ORGANISATION,
    ("POST", "/challenges/{challenge_id:id}"): RETURN_EDIT,
    ("POST", "/challenges/{challenge_id:id}/items/{item_id}/files"): RETURN_EDIT,
    ("POST", "/challenges/{challenge_id:id}/pieces/{piece_id:id}/remove"): RETURN_EDIT,
    ("POST", "/challenges/{challenge_id:id}/submit"): RETURN_EDIT,
    ("GET", "/challenges/{challenge_id:id}/review"): ADMIN_QA,
    ("POST", "/challenges/{challenge_id:id}/items/{item_id}/outcome"): ADMIN_QA,
    ("GET", "/evidence/{piece_id:id}"): ORGANISATION,  # the scrutineer only by setting (off)
    ("GET", "/campaigns/{campaign_id:id}/dip-samples"): OVERSIGHT,
    ("GET", "/campaigns/{campaign_id:id}/dip-samples/new"): ADMIN_QA,
    ("POST", "/campaigns/{campaign_id:id}/dip-samples/new"): ADMIN_QA,
    ("GET", "/dip-samples/{sample_id:id}"): OVERSIGHT,
    ("POST", "/dip-samples/{sample_id:id}/changes"): ADMIN_QA,
    ("GET", "/campaigns/{campaign_id:id}/challenge-events"): OVERSIGHT,
    ("GET", "/campaigns/{campaign_id:id}/challenge-events/new"): ADMIN_QA,
    ("POST", "/campaigns/{campaign_id:id}/challenge-events/new"): ADMIN_QA,
    ("GET", "/challenge-events/{event_id:id}"): OVERSIGHT,
    ("GET", "/challenge-events/{event_id:id}/edit"): ADMIN_QA,
    ("POST", "/challenge-events/{event_id:id}/edit"): ADMIN_QA,
    ("GET", "/campaigns/{campaign_id:id}/report"): OVERSIGHT,
    ("GET", "/campaigns/{campaign_id:id}/report.csv"): OVERSIGHT,
    ("GET", "/campaigns/{campaign_id:id}/report.xlsx"): OVERSIGHT,
    ("GET", "/campaigns/{campaign_id:id}/answers.csv"): ADMIN_QA,  # never the scrutineer
    ("GET", "/campaigns/{campaign_id:id}/report.pdf"): OVERSIGHT,
    ("GET", "/feedback-letters/{return_id:id}"): ADMIN_QA,
    ("POST", "/feedback-letters/{return_id:id}"): ADMIN_QA,
    ("POST", "/feedback-letters/{return_id:id}/send"): ADMIN_QA,
    ("GET", "/returns/{return_id:id}/feedback"): ORGANISATION,  # only ever the letter as sent
    ("GET", "/campaigns/{campaign_id:id}/feedback-letters"): ADMIN_QA,
}


def fill(
    path: str,
    organisation_id: int,
    user_id: int,
    world: World | None = None,
    actions: dict[int, int] | None = None,
    challenges: dict[int, dict[str, int]] | None = None,
) -> str:
    ids = (challenges or {}).get(organisation_id, {})
    path = path.replace("{challenge_id:id}", str(ids.get("challenge_id", 0))).replace(
        "{piece_id:id}", str(ids.get("piece_id", 0))
    )
    if world is not None:
        path = (
            path.replace("{campaign_id:id}", str(world.campaign_id))
            .replace("{return_id:id}", str(world.returns[organisation_id]))
            .replace("{action_id:id}", str((actions or {}).get(organisation_id, 0)))
            .replace("{revision:id}", "1")
            .replace("{round:id}", "1")
            .replace("{item_id}", "s175.1.1")
            .replace("{sample_id:id}", str(MATRIX_SAMPLE_ID))
            .replace("{event_id:id}", str(MATRIX_EVENT_ID))
        )
    return (
        path.replace("{organisation_id:id}", str(organisation_id))
        .replace("{user_id:id}", str(user_id))
        .replace("{token}", "not-a-real-token")
        .replace("{key}", "section-175-schools")
        .replace("{version}", "2025.1")
        .replace("{section_id}", "s175.1")
    )


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


# Scoped paths: a resource that belongs to one organisation (another's answers 404).
SCOPED_PARAMETERS = ("{organisation_id", "{return_id", "{challenge_id", "{piece_id")


def is_scoped_path(path: str) -> bool:
    return any(p in path for p in SCOPED_PARAMETERS)
