"""The steps of an evidence challenge as people take them in Chromium, shared by the dip-sample
tests and the QA journey: Alpha Primary School's two amber items (s175.1.1 and s175.1.2, from
``submit_with_two_ambers``) challenged, answered with a PDF and an explanation, submitted and
reviewed (one by mouse, one by keyboard alone), and the outcomes read by the school."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine
from sqlmodel import col, select

from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    ChallengedItem,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    ItemOutcome,
    OutboxEmail,
)
from tests.browser.helpers import (
    assert_accessible,
    assert_no_markup,
    assert_reflows,
    focused,
    shoot,
    tab_to,
    visible_text,
)
from tests.evidence_samples import pdf_with_text

ALPHA = "Alpha Primary School"
DUE = date(2026, 5, 15)
ITEMS = ("s175.1.1", "s175.1.2")  # both self-rated 'Partly in place' (amber) by Alpha


def names_in(table: Locator) -> list[str]:
    """The organisation in the first cell of each row (the name is its first line)."""
    cells = table.locator("tbody tr td:first-child").all_inner_texts()
    return [cell.splitlines()[0].strip() for cell in cells]


def names_in_row(row: Locator) -> str:
    return row.locator("td").first.inner_text().splitlines()[0].strip()


def confirm_sample(page: Page) -> int:
    page.get_by_role("button", name="Confirm this sample").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The dip sample is confirmed"
    )
    found = re.search(r"/dip-samples/(\d+)$", page.url)
    assert found, page.url
    return int(found.group(1))


POLICY_PDF = pdf_with_text("Governing body safeguarding minutes, March 2025")
EXPLANATION = "Every governor trained on 12 May 2025 & the clerk keeps the certificates."
REVIEWED_EACH_TERM = "The headteacher checks the log each term."
SUBMITTED_EXPLANATION = f"{EXPLANATION} {REVIEWED_EACH_TERM}"  # typed after an upload
ACTION = "Keep a training log for every governor"


def prompt_of(page: Page, item_id: str) -> re.Pattern[str]:
    """A challenge setup checkbox's label names the item's reference in brackets."""
    return re.compile(rf"\({re.escape(item_id)};")


def issue_challenge(page: Page, tag: str) -> int:
    """From the confirmed sample's page, Alpha's draft challenge: untick the offered items,
    tick the two amber ones, set the due date and issue it. The challenge's id."""
    page.get_by_role(
        "link", name=re.compile(rf"^Not yet issued ?: evidence challenge to {ALPHA}$")
    ).click()
    expect(page.locator("h1")).to_have_text(f"Choose the evidence to ask {ALPHA} for")
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"challenge-setup-{tag}")
    offered = page.locator("input[name=items]:checked")
    assert offered.count() > 0, "the items rated green are offered"
    while offered.count():
        offered.first.uncheck()
    for item_id in ITEMS:
        page.get_by_label(prompt_of(page, item_id)).check()
    due = page.get_by_role("group", name="When the evidence is due")
    due.get_by_label("Day").fill(str(DUE.day))
    due.get_by_label("Month").fill(str(DUE.month))
    due.get_by_label("Year").fill(str(DUE.year))
    page.get_by_role("button", name="Issue the challenge").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"The challenge has been issued. {ALPHA} has been emailed"
    )
    found = re.search(r"/challenges/(\d+)$", page.url)
    assert found, page.url
    text = visible_text(page)
    assert "Status Waiting for evidence" in text and "Due 15 May 2026" in text
    assert "Items 2" in text
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"challenge-issued-{tag}")
    return int(found.group(1))


def respond_and_submit(page: Page, tag: str) -> None:
    """The respondent finds the challenge on the dashboard, uploads a PDF for the first item,
    explains the second, saves, and submits."""
    page.goto("/dashboard")
    expect(page.get_by_role("heading", name="Evidence requested")).to_be_visible()
    assert "due 15 May 2026" in visible_text(page)
    page.get_by_role("link", name=f"{ALPHA}: evidence for Schools audit 2026").click()
    expect(page.locator("h1")).to_have_text("Evidence for Schools audit 2026")
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"challenge-to-answer-{tag}")

    # The second item's explanation is typed first and never saved on its own: the upload and
    # the submit carry it (the page is one form), so nothing typed is lost on the way.
    explanation = page.locator("#item-s175-1-2-explanation")
    explanation.fill(EXPLANATION)
    first = page.locator("#item-s175-1-1")
    first.get_by_label("Upload a file for item 1").set_input_files(
        {"name": "governors-minutes.pdf", "mimeType": "application/pdf", "buffer": POLICY_PDF}
    )
    in_force = first.get_by_role("group", name="When the document was in force (optional)")
    in_force.get_by_label("Day").fill("27")
    in_force.get_by_label("Month").fill("3")
    in_force.get_by_label("Year").fill("2025")
    first.get_by_role("button", name="Upload file for item 1").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "‘governors-minutes.pdf’ added as evidence. Your explanations are saved too."
    )
    files = page.get_by_role("region", name="Files for item 1")
    expect(files).to_contain_text("governors-minutes.pdf")
    expect(files).to_contain_text("27 March 2025")
    expect(explanation).to_have_value(EXPLANATION)
    assert_accessible(page)
    shoot(page, f"challenge-answered-{tag}")

    # A file chosen for the second item but not uploaded: the submit says so before going on,
    # keeps the explanation typed, and a second submit leaves the file out.
    explanation.fill(SUBMITTED_EXPLANATION)
    page.locator("#item-s175-1-2").get_by_label("Upload a file for item 2").set_input_files(
        {"name": "register.pdf", "mimeType": "application/pdf", "buffer": POLICY_PDF}
    )
    page.get_by_role("button", name="Submit evidence").click()
    pending = (
        "‘register.pdf’ was chosen but not uploaded. To include it, choose it again and select"
        " Upload file; to leave it out, submit again"
    )
    expect(page.locator(".govuk-error-summary")).to_contain_text(pending)
    expect(page.locator("#item-s175-1-2-file-error")).to_contain_text(pending)
    expect(explanation).to_have_value(SUBMITTED_EXPLANATION)
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"challenge-file-not-uploaded-{tag}")
    page.get_by_role("button", name="Submit evidence").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your evidence has been submitted."
    )
    # Frozen: nothing to upload, remove, save or submit any more; what was given is shown.
    text = visible_text(page)
    assert "Status Evidence submitted" in text and "Submitted 1 April 2026" in text
    assert SUBMITTED_EXPLANATION in text
    assert page.locator("input[type=file]").count() == 0
    assert page.locator("textarea").count() == 0
    for name in ("Upload file", "Remove", "Save explanations", "Submit evidence"):
        assert page.get_by_role("button", name=re.compile(name)).count() == 0, name
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"challenge-submitted-{tag}")


def review_by_mouse(page: Page) -> None:
    """Item 1: substantiated, moderated 'Fully in place', with a comment."""
    item = page.locator("#item-s175-1-1")
    item.get_by_role("group", name="Does the evidence substantiate the rating?").get_by_label(
        "Substantiated", exact=True
    ).check()
    item.get_by_role("group", name="Moderated rating").get_by_label(
        "Fully in place (green)"
    ).check()
    item.get_by_label("Comment for the organisation (optional)").fill("The minutes show it.")
    item.get_by_role("button", name="Save the outcome for item 1").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The outcome for item s175.1.1 has been saved."
    )


def review_by_keyboard(page: Page) -> None:
    """Item 2 by keyboard alone: not substantiated, moderated 'Not in place', a comment and a
    required action with its owner and target date."""
    page.goto(page.url.split("#")[0])
    tab_to(page, "#item-s175-1-2-outcome", limit=120)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the third choice: not substantiated
    assert focused(page) == "item-s175-1-2-outcome-3"
    page.keyboard.press("Tab")
    assert focused(page) == "item-s175-1-2-rating"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the third point: Not in place
    page.keyboard.press("Tab")
    assert focused(page) == "item-s175-1-2-comment"
    page.keyboard.type("No training records were given.")
    page.keyboard.press("Tab")
    assert focused(page) == "item-s175-1-2-add-action"
    page.keyboard.press("Space")
    for expected, typed in (
        ("item-s175-1-2-action-what", ACTION),
        ("item-s175-1-2-action-owner", "Clerk to the governors"),
        ("item-s175-1-2-action-target", "31"),
        ("item-s175-1-2-action-target-month", "7"),
        ("item-s175-1-2-action-target-year", "2026"),
    ):
        page.keyboard.press("Tab")
        assert focused(page) == expected
        page.keyboard.type(typed)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Save the outcome")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Every item now has an outcome, so the review is complete and {ALPHA} has been emailed."
    )
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"The required action has been added to {ALPHA}'s six-month follow-up."
    )


def review(page: Page, challenge_id: int, tag: str) -> None:
    page.goto(f"/challenges/{challenge_id}")
    page.get_by_role("link", name="Review the evidence", exact=True).click()
    expect(page.locator("h1")).to_have_text(f"Review the evidence from {ALPHA}")
    text = visible_text(page)
    assert "Items with an outcome 0 of 2" in text
    assert EXPLANATION in text, "the explanation, escaped, as typed"
    assert "governors-minutes.pdf" in text and "in force 27 March 2025" in text
    assert_no_markup(page)
    assert_accessible(page)
    assert_reflows(page, 320)
    shoot(page, f"challenge-review-{tag}")
    review_by_mouse(page)
    review_by_keyboard(page)
    text = visible_text(page)
    assert "Status Reviewed" in text and "Items with an outcome 2 of 2" in text
    assert "Outcome recorded: Substantiated. Moderated rating: Fully in place" in text
    assert "Outcome recorded: Not substantiated. Moderated rating: Not in place" in text
    assert f"Required action: {ACTION} (owner: Clerk to the governors, by 31 July 2026)" in text
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"challenge-reviewed-{tag}")


def read_outcomes(page: Page, return_id: int, tag: str) -> None:
    """The organisation reads the outcomes beside its return and in its summary, and finds the
    required action in its six-month follow-up."""
    page.goto("/dashboard")
    page.get_by_role("link", name=f"{ALPHA}: Schools audit 2026").click()
    outcomes = page.get_by_role("region", name="Evidence challenge outcomes")
    rows = [" ".join(r.split()) for r in outcomes.locator("tbody tr").all_inner_texts()]
    assert len(rows) == 2, rows
    assert rows[0].startswith("s175.1.1") and "Fully in place" in rows[0]
    assert rows[0].endswith("Substantiated The minutes show it.")
    assert rows[1].startswith("s175.1.2") and "Not in place" in rows[1]
    assert "Not substantiated No training records were given." in rows[1]
    assert f"Required action: {ACTION}" in rows[1]
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"return-with-outcomes-{tag}")

    page.goto(f"/returns/{return_id}/summary")
    summary = page.get_by_role("region", name="Outcomes and moderated ratings")
    expect(summary).to_contain_text("Not substantiated")
    expect(summary).to_contain_text("The minutes show it.")
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"return-summary-with-outcomes-{tag}")

    page.goto(f"/returns/{return_id}")
    page.get_by_role("link", name="Open the six-month follow-up").click()
    text = visible_text(page)
    assert f"Action 3: {ACTION}" in text
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, f"follow-up-with-challenge-action-{tag}")


def stored_challenge(engine: Engine, challenge_id: int) -> dict[str, object]:
    with session_scope(engine, write=False) as db:
        challenge = db.get(EvidenceChallenge, challenge_id)
        assert challenge is not None
        items = db.exec(
            select(ChallengedItem)
            .where(ChallengedItem.challenge_id == challenge_id)
            .order_by(col(ChallengedItem.item_id))
        ).all()
        files = db.exec(
            select(EvidencePiece.challenged_item_id, EvidenceFile)
            .join(EvidenceFile, col(EvidenceFile.id) == EvidencePiece.evidence_file_id)
            .where(col(EvidencePiece.challenged_item_id).in_([i.id for i in items]))
        ).all()
        outcomes = db.exec(
            select(ItemOutcome)
            .where(col(ItemOutcome.challenged_item_id).in_([i.id for i in items]))
            .order_by(col(ItemOutcome.item_id))
        ).all()
        actions = db.exec(select(Action).where(Action.source == "challenge")).all()
        asked = db.exec(
            select(OutboxEmail.to_address).where(
                col(OutboxEmail.subject).startswith(f"Evidence requested: {ALPHA}")
            )
        ).all()
        item_ids = {i.id: i.item_id for i in items}
        return {
            "stage": challenge.stage,
            "due_on": challenge.due_on,
            "items": [(i.item_id, i.self_rag, i.explanation) for i in items],
            "files": [(item_ids[item], f.display_name, f.kind, f.sha256) for item, f in files],
            "outcomes": [
                (o.item_id, o.outcome, o.moderated_rating, o.moderated_rag, o.comment)
                for o in outcomes
            ],
            "actions": [(a.item_id, a.what, a.owner, a.target_date) for a in actions],
            "outcome_action": [o.action_id is not None for o in outcomes],
            "asked": sorted(asked),
        }
