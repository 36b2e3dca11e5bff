"""Steps of completing a return in the browser, shared by the return and journey tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def answer_section_by_mouse(page: Page) -> None:
    """Answer every question on the current section page as fully in place (or a plain value)."""
    for item in page.locator(".app-item__answer").all():
        best = item.locator("input[type=radio][value='3']")
        if best.count():
            best.check()
            continue
        day = item.locator("input[name$='-value-day']")
        if day.count():
            day.fill("1")
            item.locator("input[name$='-value-month']").fill("9")
            item.locator("input[name$='-value-year']").fill("2025")
            continue
        number = item.locator("input[inputmode=numeric]")
        if number.count():
            number.fill("2")


def finish_by_mouse(page: Page) -> None:
    """From a section page, answer every remaining standard and arrive at check answers."""
    while "/sections/" in page.url:
        answer_section_by_mouse(page)
        # Wait for the next page: otherwise the old page's button can be clicked again
        # while the browser is still leaving it, skipping a section unanswered.
        with page.expect_navigation():
            page.get_by_role("button", name="Save and continue").click()
        summary = page.locator(".govuk-error-summary")
        try:
            expect(summary).to_have_count(0)
        except AssertionError as problem:  # say what the page objected to
            raise AssertionError(f"{page.url}: {summary.first.inner_text()[:800]}") from problem
    expect(page.locator("h1")).to_have_text("Check your answers")
