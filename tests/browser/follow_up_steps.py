"""The steps of a six-month follow-up as people take them in Chromium, shared by the follow-up
tests and the QA journey: the respondent's updates on Alpha Primary School's two actions and the
signatory's declaration."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def fill_first_as_complete(page: Page, first: int) -> None:
    page.locator(f"#action-{first}-progress-3").check()  # Complete
    page.locator(f"#action-{first}-narrative").fill("Every governor trained in May")
    page.locator(f"#action-{first}-revised-rating").select_option("3")


def fill_second_in_progress(page: Page, second: int, month: str = "12") -> None:
    page.locator(f"#action-{second}-progress-2").check()  # In progress
    page.locator(f"#action-{second}-narrative").fill("Half the staff trained")
    page.locator(f"#action-{second}-revised-rating").select_option("2")
    page.locator(f"#action-{second}-target").fill("31")
    page.locator(f"#action-{second}-target-month").fill(month)
    page.locator(f"#action-{second}-target-year").fill("2026")


def sign_follow_up(page: Page, return_id: int) -> None:
    page.goto(f"/returns/{return_id}/follow-up/submit")
    page.locator("#role").fill("Headteacher")
    page.locator("#confirm").check()
    page.get_by_role("button", name="Sign and submit the follow-up").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The follow-up has been submitted"
    )
