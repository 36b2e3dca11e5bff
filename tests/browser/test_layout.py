"""The shared layout in a real browser: accessible, keyboard-first, works without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import axe_violations, describe


@pytest.mark.parametrize("path", ["/", "/accessibility", "/cookies", "/no-such-page"])
def test_pages_have_no_axe_violations(page: Page, path: str) -> None:
    page.goto(path)
    assert "Safeguarding Audit Portal" in page.title()
    violations = axe_violations(page)
    assert violations == [], describe(violations)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "javascript-off"])
def test_axe_finds_a_planted_fault_with_javascript_on_and_off(
    new_page: Callable[..., Page], javascript: bool
) -> None:
    """axe really runs in both kinds of tab (with JavaScript off it runs without timers)."""
    tab = new_page(javascript=javascript)
    tab.goto("/accessibility")
    assert axe_violations(tab) == []
    tab.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/x.png\">')"
    )
    assert "image-alt" in [v["id"] for v in axe_violations(tab)]


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
