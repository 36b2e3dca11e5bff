"""Every response carries the security headers, and nothing signed-in can be cached.

The first test goes through every route in ``tests/routes.py`` as someone allowed to use it,
so a route added there is checked here too; the others cover the error responses (404, 405,
403 for a missing CSRF token, 413, 500, 503) and HSTS over https.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import Settings
from audit_portal.policy import Permission
from audit_portal.web.app import MAX_BODY_BYTES, create_app
from audit_portal.web.guard import page
from tests.conftest import make_settings
from tests.personas import World, add_action_and_submission, csrf_from, signed_in
from tests.routes import EXPECTED, Access, add_challenges, fill

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    for name in SECURITY_HEADERS:
        assert name in response.headers, f"{name} missing on a {response.status_code}"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d for d in policy.split(";") if d.strip()}
    scripts = directives.get("script-src") or directives["default-src"]  # the fallback
    assert "'self'" in scripts or "'none'" in scripts, policy
    assert "unsafe-eval" not in policy and "unsafe-inline" not in policy, policy
    assert response.headers["x-content-type-options"] == "nosniff"


def someone_allowed(expected: Access) -> str | None:
    """A persona who may use a route (None: nobody signed in), preferring an organisation's own."""
    if expected.anonymous:
        return None
    if "signatory" in expected.members:
        return "signatory_a"
    if "respondent" in expected.members:
        return "respondent_a"
    return sorted(expected.allowed)[0]


# Downloads: each must be a real file (200), never cached, and offered as an attachment or data.
DOWNLOADS = {
    "/returns/{return_id:id}/summary.pdf",
    "/returns/{return_id:id}/questionnaire.pdf",
    "/returns/{return_id:id}/submissions/{revision:id}.json",
    "/questionnaires/{key}/{version}/blank.pdf",
    "/campaigns/{campaign_id:id}/report.csv",
    "/campaigns/{campaign_id:id}/report.xlsx",
    "/campaigns/{campaign_id:id}/report.pdf",
    "/campaigns/{campaign_id:id}/answers.csv",
    "/evidence/{piece_id:id}",
}


def test_every_route_carries_the_headers_and_nothing_signed_in_is_cached(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    actions = add_action_and_submission(clean_db, world)
    challenges = add_challenges(clean_db, world, app.state.settings)
    missing: list[str] = []
    for method, path in sorted(EXPECTED):
        persona = someone_allowed(EXPECTED[(method, path)])
        url = fill(path, world.org_a, world.people["no_roles"].user_id, world, actions, challenges)
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
            if persona is None:
                token = csrf_from(client.get("/sign-in").text)
            else:
                token = signed_in(client, clean_db, world.people[persona])
            if method == "GET":
                response = client.get(url)
            else:
                response = client.request(method, url, data={"csrf_token": token})
        seen = f"{method} {path} as {persona}: {response.status_code}"
        assert response.status_code < 500, seen
        assert_security_headers(response)
        if persona is not None and "no-store" not in response.headers.get("cache-control", ""):
            missing.append(seen)
        if path in DOWNLOADS:
            assert response.status_code == 200, seen
            assert response.headers["cache-control"] == "no-store", seen
    assert missing == [], "signed-in responses a browser could keep"
    assert DOWNLOADS.issubset(path for _, path in EXPECTED), "a download route was renamed"


def test_signed_in_pages_and_downloads_are_never_cached(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    add_action_and_submission(clean_db, world)
    return_id = world.returns[world.org_a]
    signed_in(client, clean_db, world.people["signatory_a"])
    for path in (
        "/dashboard",
        f"/returns/{return_id}",
        f"/returns/{return_id}/check",
        f"/returns/{return_id}/summary",
        f"/returns/{return_id}/summary.pdf",
        f"/returns/{return_id}/submissions/1",
        f"/returns/{return_id}/submissions/1.json",
        "/account",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("cache-control", ""), path
    signed_in(client, clean_db, world.people["admin"])
    for path in ("/users", "/outbox", "/audit", "/organisations", "/campaigns"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("cache-control", ""), path


def test_htmx_keeps_no_history_snapshots(client: TestClient, clean_db: Engine) -> None:
    html = client.get("/").text
    assert '"historyCacheSize": 0' in html
    assert '"refreshOnHistoryMiss": true' in html


def test_static_assets_may_still_be_cached(client: TestClient) -> None:
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")


def test_error_responses_carry_the_security_headers(
    settings: Settings, engine: Engine, clean_db: Engine
) -> None:
    async def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    app: Starlette = create_app(settings, engine=engine)
    app.router.routes.append(page("/broken", broken, permission=Permission.PUBLIC))
    with TestClient(app, raise_server_exceptions=False) as client:
        crashed = client.get("/broken")
        assert crashed.status_code == 500
        assert "Sorry, there is a problem with the service" in crashed.text
        assert_security_headers(crashed)
        assert "no-store" in crashed.headers["cache-control"]
        too_big = client.post(
            "/sign-in",
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert too_big.status_code == 413
        assert "too large" in too_big.text
        assert_security_headers(too_big)
        for response in (client.get("/no-such-page"), client.delete("/sign-in")):
            assert response.status_code in {404, 405}
            assert_security_headers(response)
            assert "no-store" in response.headers["cache-control"]


def test_a_refused_csrf_token_gets_the_headers(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    signed_in(client, clean_db, world.people["admin"])
    response = client.post("/users/invite", data={"full_name": "No Token"})
    assert response.status_code == 403
    assert_security_headers(response)
    assert "no-store" in response.headers["cache-control"]


def test_an_unavailable_database_answers_503_with_the_headers(
    settings: Settings, tmp_path: Path
) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path}/missing-dir/nothing.sqlite3")
    client = TestClient(create_app(settings, engine=unreachable), raise_server_exceptions=False)
    for path in ("/healthz", "/", "/dashboard"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert_security_headers(response)
        assert response.headers["cache-control"] == "no-store"


def test_hsts_only_when_served_over_https(
    database_url: str, engine: Engine, clean_db: Engine, tmp_path: Path, client: TestClient
) -> None:
    secure = make_settings(database_url, tmp_path, BASE_URL="https://audit.example.org")
    with TestClient(create_app(secure, engine=engine), base_url="https://audit.example.org") as c:
        for response in (c.get("/"), c.get("/no-such-page"), c.get("/static/app.css")):
            assert "max-age=31536000" in response.headers["strict-transport-security"]
    assert "strict-transport-security" not in client.get("/").headers


def test_a_streamed_body_over_the_limit_is_refused_with_a_page(
    client: TestClient, clean_db: Engine
) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_BODY_BYTES // (1024 * 1024) + 2):
            yield b"a" * (1024 * 1024)

    response = client.post(
        "/sign-in", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert "too large" in response.text
    assert_security_headers(response)
