"""What every browser test needs: a signed-in persona, axe under the real CSP, what a person
reads, reflow at 320 px, keyboard moves, and screenshots of key pages to look at."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page, Route
from sqlalchemy import Engine

from audit_portal.accounts.sessions import COOKIE_NAME, hash_token
from audit_portal.config import PROJECT_ROOT
from audit_portal.db import session_scope
from audit_portal.models import WebSession, utcnow
from tests.personas import Persona

AXE_SOURCE = (PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
# one folder per database, so the two runs of the suite side by side keep their own
SCREENSHOTS = (
    PROJECT_ROOT / "test-results" / "screenshots" / os.environ.get("TEST_DATABASE", "sqlite")
)


def as_persona(page: Page, engine: Engine, persona: Persona, live_server: str) -> None:
    """Put a signed-in session (second factor done) into the browser, as after a sign-in."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with session_scope(engine, write=True) as db:
        db.add(
            WebSession(
                id=hash_token(token),
                user_id=persona.user_id,
                csrf_secret=secrets.token_hex(32),
                mfa_verified=True,
                created_at=now,
                authenticated_at=now,
                last_seen_at=now,
            )
        )
    page.context.add_cookies([{"name": COOKIE_NAME, "value": token, "url": live_server}])


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core on the current page with the portal's own Content-Security-Policy in force.

    The script is evaluated through the browser's developer protocol, which the page's CSP does
    not govern; nothing is injected into the page itself, so the CSP is tested as people get it.
    A tab with JavaScript off runs no timers, so axe would never finish there: it runs on a copy.
    """
    if _scripts_off(page):
        return _violations_of_copy(page)
    return _run_axe(page)


def _run_axe(page: Page) -> list[dict]:
    page.evaluate(AXE_SOURCE)
    return page.evaluate("async () => (await axe.run(document)).violations")  # type: ignore[no-any-return]


def _scripts_off(page: Page) -> bool:
    """GOV.UK's template marks the body js-enabled from a script of its own as the page loads."""
    return not page.evaluate("document.body.classList.contains('js-enabled')")


def _violations_of_copy(page: Page) -> list[dict]:
    """axe on the page exactly as a tab without JavaScript has it, in a tab where axe can run.

    The copy has the same address and the portal's own response headers (so the same CSP and
    stylesheets) but the document as the no-JavaScript tab holds it, and the page's scripts are
    refused, so what axe reads is what people without JavaScript get.
    """
    browser = page.context.browser
    assert browser is not None
    address, html = page.url.split("#")[0], page.content()
    viewport = page.viewport_size
    context = browser.new_context(viewport=viewport)
    try:
        context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
        copy = context.new_page()

        def serve(route: Route) -> None:
            request = route.request
            if request.resource_type == "script":
                route.abort()
            elif request.is_navigation_request() and request.url == address:
                served = route.fetch(max_redirects=0)
                dropped = {
                    "location",
                    "content-length",
                    "content-encoding",
                    "content-type",
                    "set-cookie",
                }
                headers = {k: v for k, v in served.headers.items() if k.lower() not in dropped}
                # The body is the page's HTML even when the address now answers otherwise (a
                # page shown after a POST, such as "Return submitted", redirects on a GET).
                headers["content-type"] = "text/html; charset=utf-8"
                route.fulfill(status=200, headers=headers, body=html)
            else:
                route.continue_()

        copy.route("**/*", serve)
        copy.goto(address)
        assert _scripts_off(copy), "the copy ran the page's own scripts"
        return _run_axe(copy)
    finally:
        context.close()


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
    )


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}\n{describe(violations)}"


def visible_text(page: Page) -> str:
    """What a person reads on the page, spaces collapsed."""
    return " ".join(page.locator("body").inner_text().split())


def assert_no_markup(page: Page) -> None:
    """No tag shows up as text (a question once began with a visible <span ...>)."""
    text = page.locator("body").inner_text()
    found = re.findall(r"</?[a-zA-Z][^>\n]{0,40}>", text)
    assert found == [], f"{page.url} shows markup as text: {found[:3]}"


def assert_reflows(page: Page, width: int = 320) -> None:
    """At ``width`` CSS pixels the page never scrolls sideways (WCAG 1.4.10)."""
    page.set_viewport_size({"width": width, "height": 800})
    page.reload()
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot of a key page, kept for people to look at after the run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def focused(page: Page) -> str:
    """Which element has focus, as an id, name or tag (for keyboard-only journeys)."""
    return page.evaluate(  # type: ignore[no-any-return]
        "(() => { const e = document.activeElement;"
        " return e ? (e.id || e.getAttribute('name') || e.tagName) : ''; })()"
    )


def tab_to(page: Page, selector: str, limit: int = 80, key: str = "Tab") -> int:
    """Press Tab until the element matching ``selector`` has focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached with {limit} presses of {key}")
