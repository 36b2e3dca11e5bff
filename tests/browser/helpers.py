"""What every browser test needs: a signed-in persona, axe under the real CSP, what a person
reads, reflow at 320 px, keyboard moves, and screenshots of key pages to look at."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from playwright.sync_api import Page
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
    not govern; nothing is injected into the page's own markup, so the CSP is tested as people
    get it. In a tab with JavaScript off the page's scripts never ran, so axe reads exactly what
    people without JavaScript get; such a tab runs no timers, though, and axe waits on them, so
    there its timers are replaced by promise callbacks, which the developer protocol still runs.
    """
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    if _scripts_off(page):
        return page.evaluate(_AXE_WITHOUT_TIMERS)  # type: ignore[no-any-return]
    return page.evaluate(
        "async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
    )  # type: ignore[no-any-return]


_AXE_WITHOUT_TIMERS = """async () => {
  const soon = (callback, ...args) => { Promise.resolve().then(() => callback(...args)); return 0; };
  window.setTimeout = soon;
  window.clearTimeout = () => {};
  window.requestAnimationFrame = (callback) => soon(callback, performance.now());
  window.requestIdleCallback = (callback) =>
    soon(callback, { didTimeout: false, timeRemaining: () => 50 });
  return (await axe.run(document, { resultTypes: ['violations'] })).violations;
}"""


def _scripts_off(page: Page) -> bool:
    """GOV.UK's template marks the body js-enabled from a script of its own as the page loads."""
    return not page.evaluate("document.body.classList.contains('js-enabled')")


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
