"""The shared layout in a real browser: accessible, keyboard-first, works without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import axe_violations, describe


@pytest.mark.parametrize("path", ["/", "/accessibility", "/cookies", "/no-such-page"])
def test_pages_have_no_axe_violations(page: Page, path: str) -> None:
    page.goto(path)
    assert "Safeguarding Audit Portal" in page.title()
    violations = axe_violations(page)
    assert violations == [], describe(violations)


def test_first_tab_reaches_the_skip_link_and_it_moves_focus_to_main(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_govuk_frontend_javascript_runs(page: Page) -> None:
    page.goto("/")
    classes = page.evaluate("document.body.className")
    assert "govuk-frontend-supported" in classes and "js-enabled" in classes


def test_layout_works_without_javascript(page_without_js: Page) -> None:
    page_without_js.goto("/")
    assert page_without_js.locator("h1").inner_text() == "Safeguarding self-assessment audits"
    page_without_js.get_by_role("link", name="Accessibility statement").click()
    assert page_without_js.locator("h1").inner_text() == "Accessibility statement"
