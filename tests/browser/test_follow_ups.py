"""The six-month follow-up in Chromium, with the portal's clock standing on 2 August 2026: a
school completes it with JavaScript (autosave) and without (plain forms), its signatory signs,
and the partnership reviews it; what people read, axe under the real CSP, reflow at 320 px."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import Action, FollowUp, FollowUpUpdate
from tests.browser.follow_up_steps import (
    fill_first_as_complete,
    fill_second_in_progress,
    sign_follow_up,
)
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    assert_reflows,
    shoot,
    visible_text,
)
from tests.builders import submit_with_two_ambers
from tests.personas import World


@pytest.fixture
def follow_up(app: Starlette, clean_db: Engine, world: World) -> Iterator[tuple[int, list[int]]]:
    """Organisation A's return signed on 1 March with two amber items, seen on 2 August."""
    return_id = submit_with_two_ambers(app, clean_db, world, date(2026, 3, 1))
    with session_scope(clean_db, write=False) as db:
        ids = list(
            db.exec(select(Action.id).where(Action.return_id == return_id).order_by(col(Action.id)))
        )
    with clock.travel(date(2026, 8, 2)):
        yield return_id, [i for i in ids if i is not None]


def test_a_school_completes_its_follow_up_with_autosave_and_the_partnership_accepts_it(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    follow_up: tuple[int, list[int]],
) -> None:
    return_id, (first, second) = follow_up
    page = new_page()
    as_persona(page, clean_db, world.people["respondent_a"], live_server)
    page.goto("/dashboard")
    page.get_by_role("link", name=re.compile("Due soon")).click()
    expect(page.locator("h1")).to_have_text("Six-month follow-up")
    expect(page.locator("main")).to_contain_text("Status Due soon", use_inner_text=True)
    fill_first_as_complete(page, first)
    # Complete: the new target date is not asked for.
    expect(page.locator(f"#action-{first}-target")).to_be_hidden()
    expect(page.locator(f"#action-{first}-status")).to_contain_text("Saved at", timeout=8000)
    fill_second_in_progress(page, second)
    page.locator(f"#action-{second}-target-year").press("Tab")
    expect(page.locator(f"#action-{second}-status")).to_contain_text("Saved at", timeout=8000)
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, "follow-up-form-autosaved")
    page.reload()  # nothing typed is lost: every field came back from the store
    expect(page.locator(f"#action-{first}-narrative")).to_have_value(
        "Every governor trained in May"
    )
    expect(page.locator(f"#action-{second}-target-month")).to_have_value("12")
    expect(page.locator("main")).not_to_contain_text("still need")

    head = new_page()
    as_persona(head, clean_db, world.people["signatory_a"], live_server)
    sign_follow_up(head, return_id)
    expect(head.locator("main")).to_contain_text("Status Submitted", use_inner_text=True)
    shoot(head, "follow-up-submitted")

    qa = new_page()
    as_persona(qa, clean_db, world.people["qa"], live_server)
    qa.goto("/dashboard")
    qa.get_by_role("link", name="Alpha Primary School: Schools audit 2026").click()
    expect(qa.locator("main")).to_contain_text("Every governor trained in May")
    qa.get_by_role("button", name="Record the decision").click()
    expect(qa).to_have_title(re.compile("^Error: "))
    expect(qa.locator(".govuk-error-summary")).to_contain_text(
        "Choose whether to accept the follow-up"
    )
    assert_accessible(qa)
    qa.get_by_label("Accept the follow-up").check()
    qa.get_by_role("button", name="Record the decision").click()
    expect(qa.locator(".govuk-notification-banner")).to_contain_text("has been accepted")
    qa.goto(f"/campaigns/{world.campaign_id}/follow-ups")
    board = visible_text(qa)
    assert "Completed (accepted) 100% (1 of 1)" in board
    assert "1 improved, 1 stayed the same, 0 got worse" in board
    # A table for each question with an action, not one for every question of the questionnaire.
    assert "Question s175.1.1: 1 action" in board and "Question s175.1.2: 1 action" in board
    assert "0 actions" not in board
    assert_no_markup(qa)
    assert_accessible(qa)
    assert_reflows(qa, 320)
    shoot(qa, "campaign-follow-ups-board")
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FollowUp)).one().stage == "accepted"


def test_a_school_completes_its_follow_up_without_javascript(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    follow_up: tuple[int, list[int]],
) -> None:
    return_id, (first, second) = follow_up
    page = new_page(javascript=False)
    as_persona(page, clean_db, world.people["signatory_a"], live_server)
    page.goto(f"/returns/{return_id}")
    page.get_by_role("link", name="Open the six-month follow-up").click()
    fill_first_as_complete(page, first)
    fill_second_in_progress(page, second, month="13")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("must be a real date")
    assert summary.get_by_role("link").first.get_attribute("href") == f"#action-{second}-target"
    expect(page.locator(f"#action-{second}-narrative")).to_have_value("Half the staff trained")
    assert_accessible(page)
    shoot(page, "follow-up-error-summary")
    page.locator(f"#action-{second}-target-month").fill("12")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your updates are saved")
    page.get_by_role("link", name="Sign and submit the follow-up").click()
    assert_accessible(page)
    assert_reflows(page, 320)
    sign_follow_up(page, return_id)
    page.get_by_role("link", name=re.compile("Round 1, signed by")).click()
    expect(page.locator("main")).to_contain_text("Half the staff trained")
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, "follow-up-round")
    with session_scope(clean_db, write=False) as db:
        updates = {u.action_id: u for u in db.exec(select(FollowUpUpdate)).all()}
    assert updates[first].progress == "complete" and updates[first].new_target_date is None
    assert updates[second].new_target_date == date(2026, 12, 31)


def test_the_partnership_adds_an_action_from_the_return(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    follow_up: tuple[int, list[int]],
) -> None:
    return_id, _ = follow_up
    qa = new_page()
    as_persona(qa, clean_db, world.people["qa"], live_server)
    qa.goto(f"/returns/{return_id}")
    qa.get_by_role("link", name="Add an action to this return").click()
    qa.get_by_role("button", name="Add the action").click()
    expect(qa.locator(".govuk-error-summary")).to_contain_text(
        "Choose the question the action is about"
    )
    assert_accessible(qa)
    assert_reflows(qa, 320)
    shoot(qa, "add-action-error")
    qa.locator("#item").select_option("s175.1.5")
    qa.locator("#action-what").fill("Show the audit of staff training")
    qa.locator("#action-owner").fill("Designated safeguarding lead")
    qa.locator("#action-target").fill("30")
    qa.locator("#action-target-month").fill("6")
    qa.locator("#action-target-year").fill("2027")
    qa.get_by_role("button", name="Add the action").click()
    expect(qa.locator(".govuk-notification-banner")).to_contain_text(
        "the organisation has been told"
    )
    expect(qa.locator("main")).to_contain_text("Action 3: Show the audit of staff training")
    assert_no_markup(qa)
