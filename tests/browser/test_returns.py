"""A school completes and submits its return in Chromium, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine
from sqlmodel import select

from audit_portal.db import session_scope
from audit_portal.models import Answer, Return
from tests.browser.test_accounts import as_persona, assert_accessible
from tests.personas import World

NARRATIVE = "Link governor appointed in May; visits not yet minuted."


def answer_section(page: Page) -> None:
    """Answer every item on the current section page as 'fully in place' (or a plain value)."""
    for item in page.locator(".app-item").all():
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


def complete_return(page: Page, return_id: int) -> None:
    page.goto(f"/returns/{return_id}")
    page.locator("ol a").first.click()
    while "/sections/" in page.url:
        answer_section(page)
        page.get_by_role("button", name="Save and continue").click()
        expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.locator("h1")).to_have_text("Check your answers")


def sign_and_submit(
    browser: Browser, live_server: str, clean_db: Engine, world: World, return_id: int, js: bool
) -> Page:
    head = browser.new_context(
        base_url=live_server, bypass_csp=True, java_script_enabled=js
    ).new_page()
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    head.goto(f"/returns/{return_id}/check")
    head.get_by_role("link", name="Continue to sign and submit").click()
    head.get_by_label("Your role").fill("Headteacher")
    head.get_by_label(re.compile("I confirm that this self-assessment")).check()
    head.get_by_role("button", name="Sign and submit the return").click()
    expect(head.locator("h1")).to_have_text("Return submitted")
    return head


@pytest.mark.parametrize("js", [True, False], ids=["with-javascript", "without-javascript"])
def test_complete_and_submit_a_section_175_return(
    browser: Browser, live_server: str, clean_db: Engine, world: World, js: bool
) -> None:
    return_id = world.returns[world.org_a]
    page = browser.new_context(
        base_url=live_server, bypass_csp=True, java_script_enabled=js
    ).new_page()
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    complete_return(page, return_id)
    head = sign_and_submit(browser, live_server, clean_db, world, return_id, js)
    with session_scope(clean_db, write=False) as db:
        assert db.get(Return, return_id).status == "submitted"
    # The submitted return is frozen: its sections no longer open for editing.
    page.goto(f"/returns/{return_id}/sections/s175.1")
    expect(page).to_have_url(re.compile(rf"/returns/{return_id}$"))
    expect(page.get_by_role("link", name="Revision 1, signed by")).to_be_visible()
    head.context.close()
    page.context.close()


def test_autosave_shows_saved_and_survives_a_reload(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}/sections/s175.1")
    page.locator("#item-s175-1-1 input[type=radio][value='2']").check()
    expect(page.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    # Wait for the save itself: the status already says "Saved at" from the rating.
    with page.expect_response(lambda r: r.url.endswith("/items/s175.1.1") and r.ok):
        page.locator("#item-s175-1-1-narrative").fill(NARRATIVE)
        page.locator("#item-s175-1-1-narrative").blur()
    expect(page.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    page.reload()
    expect(page.locator("#item-s175-1-1 input[type=radio][value='2']")).to_be_checked()
    expect(page.locator("#item-s175-1-1-narrative")).to_have_value(NARRATIVE)
    with session_scope(clean_db, write=False) as db:
        answer = db.exec(select(Answer).where(Answer.item_id == "s175.1.1")).one()
        assert answer.version == 2 and answer.value == {"v": 2}


def test_two_sessions_editing_the_same_item_get_a_conflict_prompt(
    browser: Browser, live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    first = browser.new_context(base_url=live_server, bypass_csp=True).new_page()
    second = browser.new_context(base_url=live_server, bypass_csp=True).new_page()
    as_persona(first, clean_db, world.people["respondent_a"], live_server)
    as_persona(second, clean_db, world.people["signatory_a"], live_server)
    for p in (first, second):
        p.goto(f"/returns/{return_id}/sections/s175.1")
    first.locator("#item-s175-1-1 input[type=radio][value='3']").check()
    expect(first.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    second.locator("#item-s175-1-1 input[type=radio][value='1']").check()
    status = second.locator("#item-s175-1-1-status")
    expect(status).to_contain_text("Not saved: a colleague saved a different answer")
    # Saving again after seeing the conflict keeps the second person's answer, knowingly.
    with second.expect_response(lambda r: r.url.endswith("/items/s175.1.1") and r.ok):
        second.locator("#item-s175-1-1-narrative").fill("We have no link governor yet.")
        second.locator("#item-s175-1-1-narrative").blur()
    expect(status).to_contain_text("Saved at")
    with session_scope(clean_db, write=False) as db:
        answer = db.exec(select(Answer).where(Answer.item_id == "s175.1.1")).one()
        assert answer.value == {"v": 1} and answer.version == 2
    first.context.close()
    second.context.close()


def test_return_pages_are_accessible(
    browser: Browser, live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    page = browser.new_context(base_url=live_server, bypass_csp=True).new_page()
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    for path in (
        "/dashboard",
        f"/returns/{return_id}",
        f"/returns/{return_id}/sections/s175.10",
        f"/returns/{return_id}/check",
    ):
        page.goto(path)
        assert_accessible(page)
    page.goto(f"/returns/{return_id}/sections/s175.1")
    page.locator("#item-s175-1-1 input[type=radio][value='1']").check()
    expect(page.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    page.reload()
    assert_accessible(page)  # with the actions card shown for a less effective rating
    complete_return(page, return_id)
    page.goto(f"/returns/{return_id}/summary")
    assert_accessible(page)
    signatory = browser.new_context(base_url=live_server, bypass_csp=True).new_page()
    as_persona(signatory, clean_db, world.people["signatory_a"], live_server)
    signatory.goto(f"/returns/{return_id}/submit")
    assert_accessible(signatory)
    signatory.get_by_role("button", name="Sign and submit the return").click()
    assert_accessible(signatory)  # the declaration page with its error summary
    signatory.context.close()
    head = sign_and_submit(browser, live_server, clean_db, world, return_id, js=True)
    assert_accessible(head)
    head.get_by_role("link", name="View the submitted return").click()
    assert_accessible(head)
    head.context.close()
    page.context.close()


def test_carry_forward_between_the_school_versions_in_the_browser(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    from tests.web.test_carry_forward import last_years_submission

    last_years_submission(clean_db, world)
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}")
    assert_accessible(page)
    page.get_by_role("button", name="Start from last year's answers").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "answers were copied from your last return"
    )
    page.goto(f"/returns/{return_id}/sections/s175.10")
    reworded = page.locator("#item-s175-10-1")
    expect(reworded).to_contain_text("Carried forward from your last return")
    expect(reworded).to_contain_text("The wording of this question has changed")
    expect(page.locator("#item-s175-10-4")).to_contain_text(
        "part of a broader question (s175.10.2)"
    )
    expect(page.locator("#item-s175-10-1 input[type=radio][value='3']")).to_be_checked()
    assert_accessible(page)
    page.goto(f"/returns/{return_id}/check")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Confirm or change last year's answer"
    )


def test_autosave_retries_when_the_network_fails_then_warns(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}/sections/s175.1")
    page.route("**/items/**", lambda route: route.abort("internetdisconnected"))
    page.locator("#item-s175-1-1 input[type=radio][value='3']").check()
    status = page.locator("#item-s175-1-1-status")
    expect(status).to_contain_text("Not saved yet: trying again")
    page.unroute("**/items/**")
    expect(status).to_contain_text("Saved at", timeout=8000)  # the retry went through
    page.route("**/items/**", lambda route: route.abort("internetdisconnected"))
    page.locator("#item-s175-1-2 input[type=radio][value='2']").check()
    expect(page.locator("#item-s175-1-2-status")).to_contain_text(
        "Not saved: check your connection", timeout=25000
    )
    expect(
        page.locator("#item-s175-1-2 input[type=radio][value='2']")
    ).to_be_checked()  # nothing lost
