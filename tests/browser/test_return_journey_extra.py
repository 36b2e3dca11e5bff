"""The return journey's remaining checks in Chromium: autosave's "Still needed" hints appear and
go without a reload, a revised return says what changed, check answers' Change links go to the
question and come back (with JavaScript and without), the list filters are plain query
parameters, and one whole journey with the keyboard alone and JavaScript off, from the
dashboard to a signed and submitted return."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import Action, Answer, Organisation, OutboxEmail, Return, saved_id
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    focused,
    shoot,
    tab_to,
    visible_text,
)
from tests.builders import SCHOOLS, answer_everything, section_items
from tests.personas import World, signed_in

NEXT_YEAR = str(clock.today().year + 1)


def completed_and_signed(app: Starlette, engine: Engine, world: World) -> int:
    """Organisation A's return, every answer fully in place, signed by its signatory."""
    return_id = world.returns[world.org_a]
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, engine, world.people["respondent_a"])
        answer_everything(client, token, return_id, engine, world)
    with TestClient(app, follow_redirects=False) as head:
        token = signed_in(head, engine, world.people["signatory_a"])
        declaration = {"csrf_token": token, "name": "Hal Head", "role": "Head", "confirm": "yes"}
        assert head.post(f"/returns/{return_id}/submit", data=declaration).status_code == 200
    return return_id


def sign_in_browser(page: Page, return_id: int) -> None:
    page.goto(f"/returns/{return_id}/submit")
    page.get_by_label("Your role").fill("Headteacher")
    page.get_by_label(re.compile("I confirm that this self-assessment")).check()
    page.get_by_role("button", name="Sign and submit the return").click()
    expect(page.locator("h1")).to_have_text("Return submitted")


# --- autosave hints --------------------------------------------------------------------------------


def test_autosave_hints_appear_by_each_field_and_go_once_met_without_a_reload(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}/sections/s175.1")
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    narrative_hint = page.locator("#item-s175-1-1-narrative-needed")
    actions_hint = page.locator("#item-s175-1-1-actions-needed")
    expect(narrative_hint).to_have_text("")
    page.locator("#item-s175-1-1-value-2").check()  # Partly in place
    expect(narrative_hint).to_have_text(
        "Still needed: Explain the rating ‘Partly in place’ in the narrative"
    )
    expect(actions_hint).to_have_text("Still needed: Add at least one action for this rating")
    expect(actions_hint).to_be_visible()
    expect(page.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, "autosave-still-needed")

    with page.expect_response(lambda r: r.url.endswith("/items/s175.1.1") and r.ok):
        page.locator("#item-s175-1-1-narrative").fill("Visits are not yet minuted.")
        page.locator("#item-s175-1-1-narrative").blur()
    expect(narrative_hint).to_have_text("")
    expect(actions_hint).to_contain_text("Add at least one action")
    expect(page.locator("#item-s175-1-1-status")).not_to_contain_text("Explain the rating")

    # Not applicable needs a reason: asked for by the field, and cleared once given.
    page.locator("#item-s175-1-2-value-na").check()
    reason_hint = page.locator("#item-s175-1-2-na-reason-needed")
    expect(reason_hint).to_have_text("Still needed: Say why this does not apply")
    with page.expect_response(lambda r: r.url.endswith("/items/s175.1.2") and r.ok):
        page.locator("#item-s175-1-2-na-reason").fill("The trust board holds this duty.")
        page.locator("#item-s175-1-2-na-reason").blur()
    expect(reason_hint).to_have_text("")
    expect(page.locator("#item-s175-1-2-status")).not_to_contain_text("Still needed")
    assert page.evaluate("window.sameDocument === true"), "no reload was needed"

    page.reload()
    expect(page.locator("#item-s175-1-1-narrative-needed")).to_have_text("")
    expect(page.locator("#item-s175-1-1-actions-needed")).to_contain_text("Add at least one action")
    expect(page.locator("#item-s175-1-2-na-reason-needed")).to_have_text("")


def test_a_hint_shown_after_a_plain_save_goes_once_autosave_meets_it(
    new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    """Saved once without JavaScript (the page then says by the field what is needed), then
    finished with JavaScript on: the hint must not wait for a reload."""
    return_id = world.returns[world.org_a]
    plain = new_page(javascript=False)
    as_persona(plain, clean_db, world.people["respondent_a"], live_server)
    plain.goto(f"/returns/{return_id}/sections/s175.1")
    plain.locator("#item-s175-1-5-value-3").check()  # Not in place
    plain.get_by_role("button", name="Save and continue").click()
    expect(plain.locator("#item-s175-1-5-narrative-needed")).to_contain_text("Explain the rating")

    page = new_page()
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}/sections/s175.1")
    hint = page.locator("#item-s175-1-5-narrative-needed")
    expect(hint).to_have_text("Still needed: Explain the rating ‘Not in place’ in the narrative")
    with page.expect_response(lambda r: r.url.endswith("/items/s175.1.5") and r.ok):
        page.locator("#item-s175-1-5-narrative").fill("No review against the standards yet.")
        page.locator("#item-s175-1-5-narrative").blur()
    expect(hint).to_have_text("")
    with session_scope(clean_db, write=False) as db:
        answer = db.exec(select(Answer).where(Answer.item_id == "s175.1.5")).one()
        assert answer.narrative == "No review against the standards yet."


# --- revisions and check answers' Change links -----------------------------------------------------


def test_a_revision_changed_through_check_answers_shows_what_changed(
    new_page: Callable[..., Page],
    live_server: str,
    app: Starlette,
    clean_db: Engine,
    world: World,
) -> None:
    return_id = completed_and_signed(app, clean_db, world)
    qa = new_page()
    as_persona(qa, clean_db, world.people["qa"], live_server)
    qa.goto(f"/returns/{return_id}")
    qa.get_by_label("What needs to be amended").fill("Say how the equality duty is reviewed.")
    qa.get_by_role("button", name="Return for amendment").click()
    expect(qa.locator(".govuk-notification-banner")).to_contain_text("returned for amendment")

    respondent = new_page()
    as_persona(respondent, clean_db, world.people["respondent_a"], live_server)
    respondent.goto(f"/returns/{return_id}/check")
    respondent.get_by_role("link", name="Change the answer to question 1.3").click()
    expect(respondent).to_have_url(
        re.compile(r"/sections/s175\.1\?return_to=check#item-s175-1-5-item$")
    )
    expect(respondent.locator("#item-s175-1-5-item")).to_be_in_viewport()
    with respondent.expect_response(lambda r: r.url.endswith("/items/s175.1.5") and r.ok):
        respondent.locator("#item-s175-1-5-narrative").fill("The board reviews it every May.")
        respondent.locator("#item-s175-1-5-narrative").blur()
    respondent.get_by_role("button", name="Save and continue").click()
    expect(respondent).to_have_url(re.compile(rf"/returns/{return_id}/check$"))
    expect(respondent.locator("#standard-s175-1")).to_contain_text(
        "The board reviews it every May."
    )

    head = new_page()
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    sign_in_browser(head, return_id)

    qa.goto(f"/returns/{return_id}")
    qa.get_by_role("link", name=re.compile("Revision 2, signed by")).click()
    standard = qa.locator("#standard-s175-1")
    expect(standard).to_contain_text("1 answer changed since the previous revision")
    changed = qa.locator(".app-changed")
    expect(changed).to_have_count(1)
    expect(changed).to_have_text("Changed since revision 1: the explanation")
    row = qa.locator(".govuk-summary-list__row", has=changed)
    expect(row).to_contain_text("1.3 Safeguarding arrangements take account")
    expect(row).to_contain_text("The board reviews it every May.")
    text = visible_text(qa)
    assert "Say how the equality duty is reviewed." in text, "the reason it came back"
    assert_no_markup(qa)
    assert_accessible(qa)
    shoot(qa, "revision-2-what-changed")
    qa.get_by_role("link", name="revision 1").click()
    expect(qa.locator(".app-changed")).to_have_count(0)


def test_change_goes_to_the_question_and_back_to_check_answers_without_javascript(
    page_without_js: Page, live_server: str, app: Starlette, clean_db: Engine, world: World
) -> None:
    page = page_without_js
    return_id = world.returns[world.org_a]
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        answer_everything(client, token, return_id, clean_db, world)
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto(f"/returns/{return_id}/check")
    page.get_by_role("link", name="Change the answer to question 1.2").click()
    expect(page).to_have_url(re.compile(r"\?return_to=check#item-s175-1-2-item$"))
    page.locator("#item-s175-1-2-value-2").check()
    page.locator("#item-s175-1-2-narrative").fill("Two governors are overdue.")
    page.get_by_role("button", name="Save and continue").click()
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("Question 1.2: Add at least one action for this rating")
    expect(banner.get_by_role("link", name="go on to checking your answers")).to_have_attribute(
        "href", f"/returns/{return_id}/check"
    )
    page.locator("#item-s175-1-2-action-what").fill("Train the two governors")
    page.locator("#item-s175-1-2-action-owner").fill("Clerk")
    page.locator("#item-s175-1-2-action-target").fill("1")
    page.locator("#item-s175-1-2-action-target-month").fill("6")
    page.locator("#item-s175-1-2-action-target-year").fill(NEXT_YEAR)
    page.get_by_role("button", name="Save and add this action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added.")
    expect(page).to_have_url(re.compile(r"\?return_to=check#item-s175-1-2-actions$"))
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(rf"/returns/{return_id}/check$"))
    card = page.locator("#standard-s175-1")
    expect(card).to_contain_text("Partly in place")
    expect(card).to_contain_text("Action: Train the two governors (owner: Clerk; by 1 June")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert_accessible(page)


# --- list filters --------------------------------------------------------------------------------


def test_campaign_returns_are_filtered_and_sorted_by_query_parameters_without_javascript(
    page_without_js: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    page = page_without_js
    with session_scope(clean_db, write=True) as db:
        nursery = Organisation(
            name="Gamma Day Nursery",
            duty_type="section-175-early-years",
            kind="early-years",
            district="South",
        )
        db.add(nursery)
        db.flush()
        db.add(Return(campaign_id=world.campaign_id, organisation_id=saved_id(nursery)))
    as_persona(page, clean_db, world.people["qa"], live_server)
    page.goto(f"/campaigns/{world.campaign_id}")
    table = page.locator("table", has=page.locator(".app-sort"))
    expect(table.locator("tbody tr")).to_have_count(3)
    page.get_by_label("Kind").select_option("school")
    page.get_by_label("District").select_option("South")
    page.get_by_role("button", name="Show returns").click()
    expect(page).to_have_url(re.compile(r"kind=school&district=South"))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody")).to_contain_text("Beta Academy")
    expect(page.get_by_label("Kind")).to_have_value("school")
    page.goto(f"/campaigns/{world.campaign_id}?kind=&district=South&status=not_started")
    expect(table.locator("tbody tr")).to_have_count(2)
    table.get_by_role("link", name=re.compile("^Organisation")).click()
    expect(page).to_have_url(re.compile(r"district=South.*sort=organisation&order=desc"))
    rows = table.locator("tbody tr")
    expect(rows.first).to_contain_text("Gamma Day Nursery")
    expect(rows.last).to_contain_text("Beta Academy")
    assert_accessible(page)


# --- the whole journey, keyboard alone, JavaScript off -------------------------------------------


def answer_with_keys(page: Page, item_id: str, kind: str) -> None:
    """Answer one question with keys only: its best rating, or a plain value typed."""
    fid = "item-" + item_id.replace(".", "-")
    tab_to(page, f"#{fid}-value")
    if kind == "rating":
        page.keyboard.press("Space")  # the first rating: Fully in place
    elif kind == "date":
        for value in ("1", "9", "2025"):
            page.keyboard.type(value)
            page.keyboard.press("Tab")
    else:
        page.keyboard.type("2")


def test_a_whole_return_with_the_keyboard_alone_and_javascript_off(
    new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    """Dashboard, task list, every standard (one 'Partly in place' with an action, and a date
    typed wrongly first), check answers, telling the signatory; then the signatory signs and
    submits. No clicks: Tab, Shift+Tab, Space, arrows, Enter and typing."""
    assert SCHOOLS is not None
    return_id = world.returns[world.org_a]
    page = new_page(javascript=False)
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto("/dashboard")
    tab_to(page, f'a[href="/returns/{return_id}"]')
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Alpha Primary School")
    expect(page.locator("main")).to_contain_text("How to complete this self-assessment")
    tab_to(page, "a.govuk-task-list__link")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Governance and strategic leadership")

    # Standard 1: question 1.1 is only partly in place.
    tab_to(page, "#item-s175-1-1-value")
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # Partly in place
    expect(page.locator("#item-s175-1-1-value-2")).to_be_checked()
    tab_to(page, "#item-s175-1-1-narrative")
    page.keyboard.type("Link governor visits are not yet minuted.")
    for item in section_items(clean_db, world, "s175.1")[1:]:
        answer_with_keys(page, item.id, item.kind)
    tab_to(page, "button:not([name])")  # Save and continue
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Question 1.1: Add at least one action for this rating"
    )
    assert focused(page) == "item-s175-1-1-action-what", "the page puts me where the action goes"
    page.keyboard.type("Minute every link governor visit")
    page.keyboard.press("Tab")
    page.keyboard.type("Chair of governors")
    for value in ("31", "2", NEXT_YEAR):  # 31 February: no such day
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    tab_to(page, "button[name=add_action]")
    page.keyboard.press("Enter")
    expect(page).to_have_title(re.compile("^Error: "))
    summary_link = ".govuk-error-summary a"
    expect(page.locator(summary_link)).to_have_text(
        "Question 1.1: The target date must be a real date"
    )
    expect(page.locator("#item-s175-1-1-action-what")).to_have_value(
        "Minute every link governor visit"
    )
    shoot(page, "keyboard-journey-date-error")
    tab_to(page, summary_link)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#item-s175-1-1-action-target$"))
    assert focused(page) == "item-s175-1-1-action-target", "the link takes me to the day field"
    page.keyboard.press("Control+a")
    page.keyboard.type("28")
    tab_to(page, "button[name=add_action]")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added.")
    tab_to(page, "button:not([name])")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("The designated safeguarding lead")

    # The task list has moved on: back to it, and on to the next standard from there.
    tab_to(page, f'main a[href="/returns/{return_id}"]')  # Back to the list of standards
    page.keyboard.press("Enter")
    statuses = page.locator(".govuk-task-list__status")
    expect(statuses.nth(0)).to_have_text("Completed")
    expect(statuses.nth(1)).to_have_text("Not started")
    tab_to(page, ".govuk-task-list__item:nth-child(2) a.govuk-task-list__link")
    page.keyboard.press("Enter")

    for section in SCHOOLS.sections[1:]:
        expect(page.locator("h1")).to_have_text(section.title)
        for item in section_items(clean_db, world, section.id):
            answer_with_keys(page, item.id, item.kind)
        tab_to(page, "button:not([name])")
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Check your answers")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert_no_markup(page)
    # Past a Change link for every answer: the way back is at the end of a long page.
    tab_to(page, f'main a[href="/returns/{return_id}"]', limit=200)
    page.keyboard.press("Enter")
    expect(statuses).to_have_count(14)
    expect(page.locator(".govuk-task-list__status", has_text="Completed")).to_have_count(14)
    shoot(page, "keyboard-journey-task-list-completed")
    tab_to(page, f'main a[href="/returns/{return_id}/check"]')
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Check your answers")
    tab_to(page, 'form[action$="/ready"] button', limit=200)
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your signatory has been told"
    )

    head = new_page(javascript=False)
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    head.goto("/dashboard")
    tab_to(head, f'.govuk-notification-banner a[href="/returns/{return_id}/check"]')
    head.keyboard.press("Enter")
    expect(head.locator("h1")).to_have_text("Check your answers")
    tab_to(head, f'a[href="/returns/{return_id}/submit"]', limit=200)
    head.keyboard.press("Enter")
    expect(head.locator("h1")).to_have_text("Sign and submit")
    tab_to(head, "#role")
    head.keyboard.type("Headteacher")
    tab_to(head, "#confirm")
    head.keyboard.press("Space")
    tab_to(head, "main button.govuk-button")
    head.keyboard.press("Enter")
    expect(head.locator("h1")).to_have_text("Return submitted")
    expect(head.locator("main")).to_contain_text("What happens next")
    assert_no_markup(head)
    assert_accessible(head)
    shoot(head, "keyboard-journey-submitted")

    with session_scope(clean_db, write=False) as db:
        ret = db.get(Return, return_id)
        assert ret is not None and ret.status == "submitted"
        action = db.exec(select(Action)).one()
        assert (action.what, action.target_date.day, action.target_date.month) == (
            "Minute every link governor visit",
            28,
            2,
        )
        subjects = [e.subject for e in db.exec(select(OutboxEmail)).all()]
    assert any(s.startswith("Ready to sign:") for s in subjects)
    assert any(s.startswith("Submitted:") for s in subjects)
