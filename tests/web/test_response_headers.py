"""Every response carries the security headers, and nothing signed-in can be cached."""

from __future__ import annotations

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import Settings
from audit_portal.policy import Permission
from audit_portal.web.app import MAX_BODY_BYTES, create_app
from audit_portal.web.guard import page
from tests.personas import World, add_action_and_submission, signed_in

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
    assert "unsafe-inline" not in response.headers["content-security-policy"]


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
