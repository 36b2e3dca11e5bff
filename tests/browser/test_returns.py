"""Completing and reviewing a return in Chromium, as its users do: keyboard alone, without
JavaScript, and as the quality assurance sub-group; asserting what people read."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from playwright.sync_api import Page, Route, expect
from sqlalchemy import Engine
from sqlmodel import select

from audit_portal.db import session_scope
from audit_portal.models import Action, Answer, OutboxEmail, Return
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    assert_reflows,
    shoot,
    tab_to,
    visible_text,
)
from tests.browser.return_steps import answer_section_by_mouse, finish_by_mouse
from tests.builders import last_years_submission
from tests.personas import World

NARRATIVE = "Link governor appointed in May; visits not yet minuted."


def sign(page: Page, return_id: int) -> None:
    page.goto(f"/returns/{return_id}/check")
    page.get_by_role("link", name="Continue to sign and submit").click()
    page.get_by_label("Your role").fill("Headteacher")
    page.get_by_label(re.compile("I confirm that this self-assessment")).check()
    page.get_by_role("button", name="Sign and submit the return").click()
    expect(page.locator("h1")).to_have_text("Return submitted")


def test_a_respondent_completes_a_standard_with_the_keyboard_alone(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    """No mouse, no element.click(): Tab, arrows, Space, Enter and typing only."""
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}")
    tab_to(page, "a.govuk-task-list__link")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Governance and strategic leadership")
    assert_no_markup(page)
    presses = 0
    for n in (1, 2, 5, 6, 7):  # the standard's questions (3 and 4 were retired)
        presses += tab_to(page, f"#item-s175-1-{n}-value")  # the rating group: one Tab stop
        page.keyboard.press("Space")  # "Fully in place"
        if n == 1:
            page.keyboard.press("ArrowDown")  # "Partly in place": less effective
            expect(page.locator("#item-s175-1-1-actions")).to_be_visible()
            presses += tab_to(page, "#item-s175-1-1-narrative")
            page.keyboard.type(NARRATIVE)
            presses += tab_to(page, "#item-s175-1-1-action-what")
            page.keyboard.type("Minute every link governor visit")
            page.keyboard.press("Tab")
            page.keyboard.type("Chair of governors")
            page.keyboard.press("Tab")
            page.keyboard.type("1")
            page.keyboard.press("Tab")
            page.keyboard.type("9")
            page.keyboard.press("Tab")
            page.keyboard.type("2027")
            presses += 4
            presses += tab_to(page, "button[name=add_action]")
            page.keyboard.press("Enter")
            expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added.")
            expect(page.locator("#item-s175-1-1-actions")).to_contain_text(
                "Minute every link governor visit Owner: Chair of governors. By 1 September 2027."
            )
    # Five questions, one with an action: a handful of stops per question, not dozens.
    assert presses <= 40, f"{presses} Tab presses for one standard"
    status = page.locator("#item-s175-1-7-status")
    expect(status).to_contain_text("Saved at")
    focus_ring = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' '"
        " + getComputedStyle(document.activeElement).boxShadow"
    )
    assert focus_ring != "none none", "focus is always visible"
    tab_to(page, "button:not([name])")  # Save and continue
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sections/s175\.2$"))
    with session_scope(clean_db, write=False) as db:
        action = db.exec(select(Action)).one()
        assert action.target_date == date(2027, 9, 1), "typed 1 9 2027: 1 September"
        first = db.exec(select(Answer).where(Answer.item_id == "s175.1.1")).one()
        assert first.value == {"v": 2} and first.narrative == NARRATIVE


def test_a_return_is_completed_and_signed_without_javascript(
    new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    page = new_page(javascript=False)
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}")
    expect(page.locator("main")).to_contain_text("Before you start")
    shoot(page, "return-overview-task-list")
    page.get_by_role("link", name=re.compile("Governance and strategic leadership")).click()
    answer_section_by_mouse(page)
    page.locator("#item-s175-1-2-value-2").check()  # Partly in place, with no explanation
    page.get_by_role("button", name="Save and continue").click()
    # Saved at once, and told at once, by the field, what is still needed.
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Question 1.2: Explain the rating ‘Partly in place’ in the narrative"
    )
    expect(page.locator("#item-s175-1-2-actions")).to_be_visible()
    # Focus moves to where the action goes (scripts are off: the page asks with autofocus).
    expect(page.locator("#item-s175-1-2-action-what")).to_have_attribute("autofocus", "")
    shoot(page, "section-saved-still-needed")
    page.locator("#item-s175-1-2-narrative").fill(NARRATIVE)
    page.locator("#item-s175-1-2-action-what").fill("Minute visits")
    page.locator("#item-s175-1-2-action-owner").fill("Chair")
    page.locator("#item-s175-1-2-action-target").fill("31")
    page.locator("#item-s175-1-2-action-target-month").fill("2")
    page.locator("#item-s175-1-2-action-target-year").fill("2027")
    page.get_by_role("button", name="Save and add this action").click()
    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Question 1.2: The target date must be a real date")
    assert summary.get_by_role("link").first.get_attribute("href") == "#item-s175-1-2-action-target"
    expect(page.locator("#item-s175-1-2-action-what")).to_have_value("Minute visits")
    shoot(page, "section-error-summary")
    page.locator("#item-s175-1-2-action-target").fill("28")
    page.get_by_role("button", name="Save and add this action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added.")
    page.get_by_role("button", name="Save and continue").click()
    finish_by_mouse(page)
    assert_no_markup(page)
    shoot(page, "check-your-answers")
    page.get_by_role("button", name="Tell your signatory it is ready to sign").click()
    expect(page.locator("main")).to_contain_text("Your signatory has been told")
    head = new_page(javascript=False)
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    head.goto("/dashboard")
    expect(head.locator("main")).to_contain_text("is complete. Check it and sign the declaration")
    sign(head, return_id)
    expect(head.locator("main")).to_contain_text("What happens next")
    expect(head.locator("main")).to_contain_text("you need to send an update on your actions by")
    shoot(head, "return-submitted")
    with session_scope(clean_db, write=False) as db:
        assert db.get(Return, return_id).status == "submitted"  # type: ignore[union-attr]
    page.goto(f"/returns/{return_id}/sections/s175.1")
    expect(page).to_have_url(re.compile(rf"/returns/{return_id}$"), timeout=5000)


def test_qa_finds_reads_returns_and_accepts_a_return(
    new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    respondent = new_page()
    as_persona(respondent, clean_db, world.people["respondent_a"], live_server)
    respondent.goto(f"/returns/{return_id}/sections/s175.1")
    finish_by_mouse(respondent)
    head = new_page()
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    sign(head, return_id)

    qa = new_page()
    as_persona(qa, clean_db, world.people["qa"], live_server)
    qa.goto("/campaigns")
    qa.get_by_role("link", name="Schools audit 2026").click()
    qa.get_by_label("Status", exact=True).select_option("submitted")
    qa.get_by_role("button", name="Show returns").click()
    expect(qa).to_have_url(re.compile(r"status=submitted"))
    qa.get_by_role("link", name="Alpha Primary School").click()
    expect(qa.locator("h1")).to_have_text("Alpha Primary School")
    qa.get_by_role("link", name=re.compile("Revision 1, signed by")).click()
    text = visible_text(qa)
    assert "1.1 The governing body or proprietor takes strategic responsibility" in text
    assert "Fully in place" in text, "ratings by their labels, never raw values"
    first, second = text.index("1. Governance"), text.index("2. The designated safeguarding lead")
    assert first < second < text.index("10. "), "standards in questionnaire order"
    assert_no_markup(qa)
    assert_accessible(qa)
    shoot(qa, "submission-for-qa")

    qa.get_by_role("link", name="Back to the return").click()
    qa.get_by_role("button", name="Return for amendment").click()
    expect(qa).to_have_title(re.compile("^Error: "))
    expect(qa.locator(".govuk-error-summary")).to_contain_text("Say what needs to be amended")
    assert_accessible(qa)
    qa.get_by_label("What needs to be amended").fill("Say how the link governor reports back.")
    qa.get_by_role("button", name="Return for amendment").click()
    expect(qa.locator(".govuk-notification-banner")).to_contain_text("returned for amendment")

    respondent.goto(f"/returns/{return_id}")
    expect(respondent.locator("main")).to_contain_text(
        "Returned for amendment: Say how the link governor reports back."
    )
    sign(head, return_id)
    qa.reload()
    qa.get_by_role("button", name="Accept this return").click()
    expect(qa.locator(".govuk-notification-banner")).to_contain_text("has been accepted")
    with session_scope(clean_db, write=False) as db:
        subjects = {e.subject.split(":")[0] for e in db.exec(select(OutboxEmail)).all()}
    assert {"Submitted", "Changes needed", "Accepted"} <= subjects


def test_every_return_page_reads_cleanly_reflows_and_passes_axe(
    new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    respondent = new_page()
    as_persona(respondent, clean_db, world.people["respondent_a"], live_server)
    admin = new_page()
    as_persona(admin, clean_db, world.people["admin"], live_server)
    pages = [
        (respondent, "/dashboard"),
        (respondent, f"/returns/{return_id}"),
        (respondent, f"/returns/{return_id}/sections/s175.2"),
        (respondent, f"/returns/{return_id}/check"),
        (respondent, f"/returns/{return_id}/summary"),
        (admin, "/organisations"),
        (admin, "/users"),
        (admin, f"/campaigns/{world.campaign_id}"),
        (admin, "/audit"),
        (admin, f"/organisations/{world.org_a}"),
        (admin, "/questionnaires/section-175-schools/2025.2/sections/s175.1"),
    ]
    for page, path in pages:
        page.goto(path)
        assert_no_markup(page)
        assert_accessible(page)
        assert_reflows(page, 320)
    # The error states too: an action that cannot be added, and a refused declaration.
    respondent.goto(f"/returns/{return_id}/sections/s175.1")
    respondent.locator("#item-s175-1-2-value-2").check()
    respondent.locator("button[name=add_action][value='s175.1.2']").click()
    expect(respondent.locator(".govuk-error-summary")).to_contain_text("Enter what will be done")
    assert_accessible(respondent)
    assert_no_markup(respondent)
    head = new_page()
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    head.goto(f"/returns/{return_id}/submit")
    head.get_by_role("button", name="Sign and submit the return").click()
    expect(head).to_have_title(re.compile("^Error: "))
    assert_accessible(head)


def test_autosave_retries_when_the_network_fails_then_warns(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    """Playwright's clock runs the retry delays: nothing waits through them in real time."""
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.clock.install()
    page.goto(f"/returns/{return_id}/sections/s175.1")
    page.route("**/items/**", lambda route: route.abort("internetdisconnected"))
    page.locator("#item-s175-1-1-value").check()
    page.clock.run_for(400)  # the autosave's own 300 ms delay
    status = page.locator("#item-s175-1-1-status")
    expect(status).to_contain_text("Not saved yet: trying again")
    page.unroute("**/items/**")
    page.clock.run_for(2500)  # the first retry
    expect(status).to_contain_text("Saved at")
    page.route("**/items/**", lambda route: route.abort("internetdisconnected"))
    page.locator("#item-s175-1-2-value-2").check()
    for wait in (400, 2600, 5600, 10600):  # the save, then each retry after its delay (+ spread)
        page.clock.run_for(wait)
        page.wait_for_timeout(150)  # the refused request comes back in real time
    expect(page.locator("#item-s175-1-2-status")).to_contain_text(
        "Not saved: check your connection"
    )
    expect(page.locator("#item-s175-1-2-value-2")).to_be_checked()  # nothing lost


def refuse_with(refusal: int, tries: list[str]) -> Callable[[Route], None]:
    """A route handler answering as the overloaded portal does, counting the attempts."""

    def busy(route: Route) -> None:
        tries.append(route.request.url)
        route.fulfill(status=refusal, headers={"Retry-After": "15"}, body="Busy")

    return busy


def test_autosave_waits_as_long_as_a_busy_portal_asks_then_saves(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    """A 503 or 429 with Retry-After (the overload limit) is retried no sooner than asked."""
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.clock.install()
    page.goto(f"/returns/{return_id}/sections/s175.1")
    status = page.locator("#item-s175-1-1-status")
    for refusal in (503, 429):
        tries: list[str] = []
        busy = refuse_with(refusal, tries)
        page.route("**/items/**", busy)
        page.locator("#item-s175-1-1-value" if refusal == 503 else "#item-s175-1-1-value-2").check()
        page.clock.run_for(400)
        expect(status).to_contain_text("Not saved yet: trying again")
        page.clock.run_for(6000)  # past the usual first retry (2 s), short of the 15 s asked
        page.wait_for_timeout(150)
        assert len(tries) == 1, (refusal, tries)
        page.unroute("**/items/**")
        page.clock.run_for(10_000)
        expect(status).to_contain_text("Saved at")
    expect(page.locator("#item-s175-1-1-value-2")).to_be_checked()


def test_two_people_editing_the_same_question_get_a_conflict_prompt(
    new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    first, second = new_page(), new_page()
    as_persona(first, clean_db, world.people["respondent_a"], live_server)
    as_persona(second, clean_db, world.people["signatory_a"], live_server)
    for p in (first, second):
        p.goto(f"/returns/{return_id}/sections/s175.1")
    first.locator("#item-s175-1-1-value").check()
    expect(first.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    second.locator("#item-s175-1-1-value-3").check()
    status = second.locator("#item-s175-1-1-status")
    expect(status).to_contain_text("Not saved: a colleague saved a different answer")
    expect(status).to_contain_text("Theirs: Fully in place")
    with second.expect_response(lambda r: r.url.endswith("/items/s175.1.1") and r.ok):
        second.locator("#item-s175-1-1-narrative").fill("We have no link governor yet.")
        second.locator("#item-s175-1-1-narrative").blur()
    expect(status).to_contain_text("Saved at")
    with session_scope(clean_db, write=False) as db:
        answer = db.exec(select(Answer).where(Answer.item_id == "s175.1.1")).one()
        assert answer.value == {"v": 1} and answer.version == 2


def test_carry_forward_between_the_school_versions(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    last_years_submission(clean_db, world)
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}")
    page.get_by_role("button", name="Start from last year's answers").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "answers were copied from your last return"
    )
    page.goto(f"/returns/{return_id}/sections/s175.10")
    reworded = page.locator("#item-s175-10-1-item")
    expect(reworded).to_contain_text("Carried forward from your last return")
    expect(reworded).to_contain_text("The wording of this question has changed")
    expect(page.locator("#item-s175-10-1-value")).to_be_checked()
    assert_accessible(page)
    page.goto(f"/returns/{return_id}/check")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Confirm or change last year's answer"
    )
