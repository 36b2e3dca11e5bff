"""Feedback letters in Chromium: QA writes, edits and sends one with the keyboard and without
JavaScript; the school's signatory reads it on its return; axe under the real CSP, reflow at
320 px, and screenshots to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import OutboxEmail
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    assert_reflows,
    shoot,
    tab_to,
    visible_text,
)
from tests.builders import submit_with_two_ambers
from tests.personas import World

ADDED = "We look forward to working with you & your governors."


@pytest.fixture
def submitted(app: Starlette, clean_db: Engine, world: World) -> Iterator[int]:
    return_id = submit_with_two_ambers(app, clean_db, world, date(2026, 3, 1))
    with clock.travel(date(2026, 4, 1)):
        yield return_id


def test_qa_writes_and_sends_a_letter_without_javascript_and_the_school_reads_it(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    submitted: int,
) -> None:
    qa = new_page(javascript=False)
    as_persona(qa, clean_db, world.people["qa"], live_server)
    qa.goto(f"/returns/{submitted}")
    tab_to(qa, f"a[href$='/feedback-letters/{submitted}']")
    qa.keyboard.press("Enter")
    expect(qa.get_by_role("heading", level=1)).to_have_text(
        "Feedback letter to Alpha Primary School"
    )
    box = qa.get_by_label("Text of the letter")
    first_draft = box.input_value()
    assert first_draft.startswith("Dear colleagues at Alpha Primary School,")
    assert "Governance and strategic leadership: rated Amber" in first_draft
    assert_accessible(qa)
    shoot(qa, "feedback-letter-first-draft")

    box.fill("   ")
    qa.get_by_role("button", name="Save the draft").click()
    summary = qa.get_by_role("link", name="Enter the text of the letter")
    expect(summary).to_be_visible()
    assert qa.title().startswith("Error:")
    assert_accessible(qa)

    box = qa.get_by_label("Text of the letter")
    box.fill(first_draft.replace("Yours sincerely,", f"{ADDED}\n\nYours sincerely,"))
    tab_to(qa, "button.govuk-button[type=submit]")
    qa.keyboard.press("Enter")
    expect(qa.get_by_text("The draft letter has been saved")).to_be_visible()
    expect(qa.get_by_text("respondent_a@test.example")).to_be_visible()
    shoot(qa, "feedback-letter-saved-draft")
    assert_accessible(qa)
    qa.get_by_role("button", name="Send the letter").click()
    expect(qa.get_by_text("The letter has been emailed to 2 people")).to_be_visible()
    assert ADDED in visible_text(qa)
    assert_accessible(qa)
    shoot(qa, "feedback-letter-sent")

    with session_scope(clean_db, write=False) as db:
        bodies = db.exec(
            select(OutboxEmail.body).where(col(OutboxEmail.subject).startswith("Feedback on"))
        ).all()
    assert len(bodies) == 2 and all(ADDED in b for b in bodies)

    school = new_page()
    as_persona(school, clean_db, world.people["signatory_a"], live_server)
    school.goto(f"/returns/{submitted}")
    school.get_by_role("link", name="Read the partnership's feedback letter").click()
    expect(school.get_by_role("heading", level=1)).to_have_text("Feedback from the partnership")
    read = visible_text(school)
    assert ADDED in read
    assert "Dear colleagues at Alpha Primary School," in read
    assert "Sent on 1 April 2026" in read and "respondent_a@test.example" not in read
    assert_no_markup(school)
    assert_accessible(school)
    shoot(school, "feedback-letter-read-by-the-school")
    assert_reflows(school)
