"""The layout every page shares, the public pages and the error pages."""

from __future__ import annotations

import re

from starlette.testclient import TestClient


def test_home_page_has_the_partnership_layout(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert "Testshire Safeguarding Children Partnership" in html
    assert 'href="#main-content"' in html and "Skip to main content" in html
    assert "govuk-phase-banner" in html and "Beta" in html
    assert 'href="/accessibility"' in html and 'href="/cookies"' in html
    assert '<main class="govuk-main-wrapper" id="main-content"' in html
    assert 'lang="en-GB"' in html


def test_layout_has_no_crown_and_no_gds_font(client: TestClient) -> None:
    html = client.get("/").text
    assert "govuk-header__logotype" not in html
    assert "govuk-footer__crown" not in html
    assert "Crown copyright" not in html
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert "GDS Transport" not in css.text
    assert "arial" in css.text.lower()


def test_inline_script_carries_the_csp_nonce(client: TestClient) -> None:
    response = client.get("/")
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'<script nonce="{nonce}">' in response.text
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    # A fresh nonce per response: a leaked one is useless next time.
    assert client.get("/").headers["content-security-policy"] != policy


def test_accessibility_statement_and_cookies_pages(client: TestClient) -> None:
    statement = client.get("/accessibility")
    assert '<h1 class="govuk-heading-xl">Accessibility statement</h1>' in statement.text
    assert "without JavaScript" in statement.text
    cookies = client.get("/cookies")
    assert "essential cookies only" in cookies.text
    assert "audit_portal_session" in cookies.text


def test_unknown_page_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "Testshire Safeguarding Children Partnership" in response.text  # the full layout
    assert 'href="/"' in response.text


def test_wrong_method_gets_a_405_page(client: TestClient) -> None:
    response = client.post("/cookies")
    assert response.status_code == 405
    assert "This action is not allowed here" in response.text


def test_front_end_assets_are_served(client: TestClient) -> None:
    for path in (
        "/static/govuk/govuk-frontend.min.js",
        "/static/htmx/htmx.min.js",
        "/static/app.js",
        "/static/govuk/assets/images/favicon.svg",
    ):
        assert client.get(path).status_code == 200, path
    assert b"htmx" in client.get("/static/htmx/htmx.min.js").content[:2000]
