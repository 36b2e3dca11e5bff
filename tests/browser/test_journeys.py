"""Three people's journeys end to end in Chromium, across pages, asserting what each person reads,
what is stored and what is emailed; axe under the real CSP on every page reached (error states
included); each saves screenshots of its key pages (the run names the folder at the end).

1. An administrator imports schools from Get Information about Schools, records a concern about
   one, invites its safeguarding lead, sets up a campaign targeted by duty and intelligence,
   opens it, watches its progress, sends a reminder and finds it in the outbox.
2. A respondent accepts an invitation, completes a return over two sittings (signing out
   between them), adds an action with a typed date and checks the answers; with JavaScript
   (autosave) and without (plain forms).
3. A signatory reviews the complete return and submits it with the declaration; the return is
   then frozen: no edit controls, and a save posted anyway is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    Answer,
    AuditEvent,
    Campaign,
    Organisation,
    OutboxEmail,
    Return,
    User,
    saved_id,
)
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    assert_reflows,
    shoot,
    visible_text,
)
from tests.browser.return_steps import finish_by_mouse
from tests.builders import SCHOOLS, answer_everything, invite, section_items
from tests.personas import PASSWORD, Persona, World, signed_in

CAMPAIGN = "Schools with concerns 2027"
LEAD = "dsl@stmarys.example"
GIAS_FILE = Path(__file__).parent.parent / "fixtures" / "imports" / "gias_devon.csv"


def check_page(page: Page, screenshot: str | None = None) -> None:
    """Every page a journey reaches: no markup shown as text, axe clean; a key page is kept."""
    assert_no_markup(page)
    assert_accessible(page)
    if screenshot:
        shoot(page, screenshot)


def go_to(page: Page, area: str) -> None:
    """Follow a link in the service navigation at the top of every page."""
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=area, exact=True).click()


def fill_date(page: Page, field_id: str, day: int, month: int, year: int) -> None:
    """A GOV.UK date input: the day box carries the field's id, the others -month and -year."""
    page.locator(f"#{field_id}").fill(str(day))
    page.locator(f"#{field_id}-month").fill(str(month))
    page.locator(f"#{field_id}-year").fill(str(year))


def returns_by_status(page: Page) -> dict[str, str]:
    """The campaign page's "All" row of returns by status, as the person reads it."""
    table = page.locator("table", has_text="Returns by status")
    headers = table.locator("thead th").all_inner_texts()[1:]
    cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
    return dict(zip(headers, (c.strip() for c in cells), strict=True))


# --- 1. the administrator ------------------------------------------------------------------------


def test_an_administrator_imports_schools_targets_a_campaign_reminds_and_reads_the_outbox(
    page: Page, new_page: Callable[..., Page], live_server: str, clean_db: Engine, world: World
) -> None:
    today = clock.today()
    as_persona(page, clean_db, world.people["admin"], live_server)
    page.goto("/dashboard")
    check_page(page)
    go_to(page, "Organisations")
    expect(page.locator("h1")).to_have_text("Organisations")
    check_page(page)
    page.get_by_role("link", name="Import from a file").click()
    check_page(page)

    # Import pressed with nothing chosen: told what is missing, nothing imported.
    page.get_by_role("button", name="Import").click()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose what the file contains Choose a CSV file to import"
    )
    check_page(page, "journey-1-import-errors")

    page.get_by_label("Schools and colleges from Get Information about Schools").check()
    page.get_by_label("Local authorities (schools only)").fill("Devon")
    page.get_by_label("CSV file").set_input_files(str(GIAS_FILE))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("h1")).to_have_text("Import finished")
    report = visible_text(page)
    assert "6 created" in report
    assert "Rows that were skipped" in report
    check_page(page, "journey-1-import-finished")
    with session_scope(clean_db, write=False) as db:
        st_marys = db.exec(select(Organisation).where(Organisation.identifier == "110001")).one()
        assert st_marys.name == "St Mary's C of E Primary School"
        assert st_marys.duty_type == "section-175-school"
        assert (
            db.exec(select(Organisation).where(Organisation.identifier == "110003")).first() is None
        )

    # A concern about St Mary's, recorded on its page (the date forgotten the first time).
    page.get_by_role("link", name="Go to organisations").click()
    expect(page.locator("main")).to_contain_text("Exeter College")
    page.get_by_role("link", name="St Mary's C of E Primary School").click()
    expect(page.locator("h1")).to_have_text("St Mary's C of E Primary School")
    check_page(page)
    page.get_by_label("Type of intelligence").select_option("safeguarding-concern")
    page.get_by_label("Source").fill("Partnership QA sub-group")
    page.get_by_role("button", name="Record intelligence").click()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the date of this intelligence"
    )
    check_page(page)
    fill_date(page, "noted_on", today.day, today.month, today.year)
    page.get_by_role("button", name="Record intelligence").click()
    expect(page.locator("main")).to_contain_text("Safeguarding concern noted by the partnership")

    # Its safeguarding lead is invited, so the campaign has someone to email.
    page.get_by_role("link", name="Invite someone from St Mary's C of E Primary School").click()
    check_page(page)
    page.get_by_label("Full name").fill("Dana Lead")
    page.get_by_label("Email address").fill(LEAD)
    page.get_by_label("Role").select_option("respondent")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Invitation sent")
    check_page(page)

    # Campaigns > Set up a campaign: errors first, then schools with a concern only.
    go_to(page, "Campaigns")
    check_page(page)
    page.get_by_role("link", name="Set up a campaign").click()
    expect(page.locator("h1")).to_have_text("Set up a campaign")
    check_page(page)
    page.get_by_role("button", name="Save and check the invitation list").click()
    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a title")
    expect(summary).to_contain_text("Enter the date the campaign opens")
    check_page(page, "journey-1-campaign-errors")
    closes = date(today.year + 1, 3, 5)
    page.get_by_label("Title").fill(CAMPAIGN)
    page.get_by_label("Questionnaire").select_option("section-175-schools/2025.1")
    fill_date(page, "opens_on", today.day, today.month, today.year)
    fill_date(page, "closes_on", closes.day, closes.month, closes.year)
    page.get_by_label("Section 175 maintained school or further education college").check()
    page.get_by_label("Safeguarding concern noted by the partnership").check()
    page.get_by_role("button", name="Save and check the invitation list").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Campaign set up")
    invited = page.locator("main ul.govuk-list--bullet li")
    expect(invited).to_have_text(["St Mary's C of E Primary School (Exeter)"])
    expect(page.locator("main")).to_contain_text("Invitation list (1)")
    check_page(page, "journey-1-invitation-list")

    page.get_by_role("button", name="Open the campaign and email respondents").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The campaign is open: 1 return created and 1 respondent emailed."
    )
    expect(page.locator("main")).to_contain_text("0% of 1 organisation has submitted.")
    assert returns_by_status(page)["Not started"] == "1"
    check_page(page, "journey-1-campaign-open")
    with session_scope(clean_db, write=False) as db:
        campaign = db.exec(select(Campaign).where(Campaign.title == CAMPAIGN)).one()
        assert campaign.status == "open"
        assert campaign.selection == {
            "duty_types": ["section-175-school"],
            "flags": ["safeguarding-concern"],
        }
        returns = db.exec(select(Return).where(Return.campaign_id == campaign.id)).all()
        assert [r.organisation_id for r in returns] == [st_marys.id]
        lead = db.exec(select(User).where(User.email == LEAD)).one()
        return_id = saved_id(returns[0])

    # The school makes a start (autosave); the campaign page shows it on the next look.
    school = new_page()
    as_persona(
        school, clean_db, Persona("lead", saved_id(lead), LEAD, None, st_marys.id), live_server
    )
    school.goto(f"/returns/{return_id}/sections/s175.1")
    school.locator("#item-s175-1-1-value").check()
    expect(school.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    page.reload()
    counts = returns_by_status(page)
    assert (counts["Not started"], counts["In progress"], counts["Submitted"]) == ("0", "1", "0")

    # A started return has still not been submitted: the reminder goes to it.
    page.get_by_role("button", name="Remind every organisation that has not submitted").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Reminder sent to 1 respondent."
    )
    go_to(page, "Outbox")
    expect(page.locator("h1")).to_have_text("Outbox")
    reminder = page.locator(".govuk-summary-card", has_text=f"Reminder: {CAMPAIGN}")
    expect(reminder).to_have_count(1)
    expect(reminder).to_contain_text(LEAD)
    expect(reminder).to_contain_text(
        "This is a reminder that St Mary's C of E Primary School's safeguarding "
        f"self-assessment for {CAMPAIGN} is due. Please complete and submit it by "
        f"5 March {today.year + 1}."
    )
    check_page(page, "journey-1-outbox")
    assert_reflows(page, 320)
    with session_scope(clean_db, write=False) as db:
        to_lead = db.exec(select(OutboxEmail).where(OutboxEmail.to_address == LEAD)).all()
        events = {e.action for e in db.exec(select(AuditEvent)).all()}
    assert sorted(e.subject for e in to_lead) == [
        f"Reminder: {CAMPAIGN}: your safeguarding self-assessment",
        f"{CAMPAIGN}: your safeguarding self-assessment",
        "Your invitation to the Safeguarding Audit Portal",
    ]
    assert {"campaign.create", "campaign.open", "campaign.reminder"} <= events


# --- 2. the respondent ---------------------------------------------------------------------------

NEWCOMER, NEW_PASSWORD = "nia@school.example", "purple elephant marmalade"
NARRATIVE = "Link governor visits happen termly but are not yet minuted."
NEXT_YEAR = clock.today().year + 1


def invitation_link(app: Starlette, engine: Engine, world: World) -> str:
    """The administrator invites Nia to organisation A as its respondent; the link she gets."""
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, engine, world.people["admin"])
        sent = invite(client, token, email=NEWCOMER, organisation_id=str(world.org_a))
        assert sent.status_code == 303, sent.text[:2000]
    with session_scope(engine, write=False) as db:
        email = db.exec(select(OutboxEmail).where(OutboxEmail.to_address == NEWCOMER)).one()
    found = re.search(r"https?://\S+(/invitation/\S+)", email.body)
    assert found, email.body
    return found.group(1)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("You have signed out")


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Sign in").click()
    check_page(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Dashboard")


def first_sitting(page: Page, javascript: bool) -> None:
    """Standard 1 answered, question 1.1 only partly in place and explained; with JavaScript
    each answer saves itself as it changes, without it the person presses Save and continue."""
    assert page.locator(".app-item__answer").count() == 5, "1.3 and 1.4 were retired"
    for n in (2, 5, 6, 7):
        page.locator(f"#item-s175-1-{n}-value").check()  # Fully in place
        if javascript:
            expect(page.locator(f"#item-s175-1-{n}-status")).to_contain_text("Saved at")
    page.locator("#item-s175-1-1-value-2").check()  # Partly in place
    if javascript:
        expect(page.locator("#item-s175-1-1-actions-needed")).to_contain_text(
            "Add at least one action"
        )
        with page.expect_response(lambda r: r.url.endswith("/items/s175.1.1") and r.ok):
            page.locator("#item-s175-1-1-narrative").fill(NARRATIVE)
            page.locator("#item-s175-1-1-narrative").blur()
        expect(page.locator("#item-s175-1-1-status")).to_contain_text("Saved at")
    else:
        page.locator("#item-s175-1-1-narrative").fill(NARRATIVE)
        page.get_by_role("button", name="Save and continue").click()
        # Saved, and kept on the page: the rating needs an action before the standard is done.
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Question 1.1: Add at least one action for this rating"
        )


@pytest.mark.parametrize("javascript", [True, False], ids=["autosave", "javascript-off"])
def test_a_respondent_accepts_an_invitation_and_completes_a_return_over_two_sittings(
    new_page: Callable[..., Page],
    live_server: str,
    app: Starlette,
    clean_db: Engine,
    world: World,
    javascript: bool,
) -> None:
    assert SCHOOLS is not None
    shot = f"journey-2-{'autosave' if javascript else 'no-javascript'}"
    return_id = world.returns[world.org_a]
    link = invitation_link(app, clean_db, world)
    page = new_page(javascript=javascript)

    # The invitation: choose a password (mistyped the first time), then straight in.
    page.goto(link)
    check_page(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill("purple elephant marmalad")
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text("The passwords do not match")
    check_page(page)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page.locator("h1")).to_have_text("Dashboard")
    check_page(page, f"{shot}-dashboard")

    # First sitting: standard 1, then away.
    page.get_by_role("link", name="Alpha Primary School: Schools audit 2026").click()
    expect(page.locator("main")).to_contain_text("How to complete this self-assessment")
    check_page(page)
    page.get_by_role("link", name=re.compile("Governance and strategic leadership")).click()
    expect(page.locator("h1")).to_have_text("Governance and strategic leadership")
    check_page(page)
    first_sitting(page, javascript)
    check_page(page, f"{shot}-first-sitting")
    sign_out(page)
    check_page(page)

    # Second sitting: signed in with the new password, everything is where it was left.
    sign_in(page, NEWCOMER, NEW_PASSWORD)
    page.get_by_role("link", name="Alpha Primary School: Schools audit 2026").click()
    first_task = page.locator(".govuk-task-list__item").first
    expect(first_task).to_contain_text("5 of 5 questions answered")
    expect(first_task.locator(".govuk-task-list__status")).to_have_text("In progress")
    check_page(page, f"{shot}-task-list-second-sitting")
    page.get_by_role("link", name=re.compile("Governance and strategic leadership")).click()
    expect(page.locator("#item-s175-1-1-value-2")).to_be_checked()
    expect(page.locator("#item-s175-1-1-narrative")).to_have_value(NARRATIVE)
    for n in (2, 5, 6, 7):
        expect(page.locator(f"#item-s175-1-{n}-value")).to_be_checked()

    # The action, with its date typed as a GOV.UK date: 31 February first, which is refused.
    page.locator("#item-s175-1-1-action-what").fill("Minute every link governor visit")
    page.locator("#item-s175-1-1-action-owner").fill("Chair of governors")
    fill_date(page, "item-s175-1-1-action-target", 31, 2, NEXT_YEAR)
    page.get_by_role("button", name="Save and add this action").click()
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Question 1.1: The target date must be a real date"
    )
    expect(page.locator("#item-s175-1-1-action-what")).to_have_value(
        "Minute every link governor visit"
    )
    check_page(page, f"{shot}-action-date-error")
    page.locator("#item-s175-1-1-action-target").fill("28")
    page.get_by_role("button", name="Save and add this action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action added.")
    expect(page.locator("#item-s175-1-1-actions")).to_contain_text(
        f"Minute every link governor visit Owner: Chair of governors. By 28 February {NEXT_YEAR}."
    )
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("h1")).to_have_text("The designated safeguarding lead")
    check_page(page)
    finish_by_mouse(page)

    # Check answers: the rating, its explanation and the action, in the person's words.
    card = page.locator("#standard-s175-1")
    expect(card).to_contain_text("Partly in place")
    expect(card).to_contain_text(NARRATIVE)
    expect(card).to_contain_text(
        f"Action: Minute every link governor visit (owner: Chair of governors; "
        f"by 28 February {NEXT_YEAR})"
    )
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    check_page(page, f"{shot}-check-your-answers")
    assert_reflows(page, 320)
    page.get_by_role("button", name="Tell your signatory it is ready to sign").click()
    expect(page.locator("main")).to_contain_text("Your signatory has been told")

    with session_scope(clean_db, write=False) as db:
        nia = db.exec(select(User).where(User.email == NEWCOMER)).one()
        first = db.exec(select(Answer).where(Answer.item_id == "s175.1.1")).one()
        action = db.exec(select(Action).where(Action.return_id == return_id)).one()
        answered = len(db.exec(select(Answer).where(Answer.return_id == return_id)).all())
        ready = db.exec(
            select(OutboxEmail).where(col(OutboxEmail.subject).startswith("Ready to sign"))
        ).all()
    assert first.value == {"v": 2} and first.narrative == NARRATIVE
    assert first.updated_by == nia.id
    assert (action.what, action.owner, action.target_date.isoformat()) == (
        "Minute every link governor visit",
        "Chair of governors",
        f"{NEXT_YEAR}-02-28",
    )
    applicable = sum(len(section_items(clean_db, world, s.id)) for s in SCHOOLS.sections)
    assert answered == applicable
    assert [e.to_address for e in ready] == [world.people["signatory_a"].email]


# --- 3. the signatory ----------------------------------------------------------------------------


def complete_and_ready(app: Starlette, engine: Engine, world: World) -> int:
    """Organisation A's return answered in full by its respondent, who tells the signatory."""
    return_id = world.returns[world.org_a]
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, engine, world.people["respondent_a"])
        answer_everything(client, token, return_id, engine, world)
        told = client.post(f"/returns/{return_id}/ready", data={"csrf_token": token})
        assert told.status_code == 303
    return return_id


def test_a_signatory_reviews_and_submits_and_the_return_is_then_frozen(
    new_page: Callable[..., Page], live_server: str, app: Starlette, clean_db: Engine, world: World
) -> None:
    assert SCHOOLS is not None
    return_id = complete_and_ready(app, clean_db, world)
    # The respondent still has standard 1 open in a tab of their own.
    stale = new_page()
    as_persona(stale, clean_db, world.people["respondent_a"], live_server)
    stale.goto(f"/returns/{return_id}/sections/s175.1")
    expect(stale.locator("#item-s175-1-1-value")).to_be_checked()

    head = new_page()
    head.goto("/")
    sign_in(head, world.people["signatory_a"].email, PASSWORD)
    banner = head.locator(".govuk-notification-banner")
    expect(banner).to_contain_text(
        "Alpha Primary School's Schools audit 2026 is complete. Check it and sign the declaration"
    )
    check_page(head)
    banner.get_by_role("link", name="Check it and sign the declaration").click()

    # The review: every standard with its answers, nothing left to finish.
    expect(head.locator("h1")).to_have_text("Check your answers")
    expect(head.locator(".govuk-error-summary")).to_have_count(0)
    for number, section in enumerate(SCHOOLS.sections, start=1):
        expect(head.locator("main")).to_contain_text(f"{number}. {section.title}")
    expect(head.locator("#standard-s175-1")).to_contain_text("Fully in place")
    check_page(head, "journey-3-review")
    head.get_by_role("link", name="Continue to sign and submit").click()
    expect(head.locator("h1")).to_have_text("Sign and submit")
    check_page(head)

    # The declaration unticked: refused, and said so.
    head.get_by_label("Your full name").fill("Hal Head")
    head.get_by_label("Your role").fill("Headteacher")
    head.get_by_role("button", name="Sign and submit the return").click()
    expect(head).to_have_title(re.compile("^Error: "))
    expect(head.locator(".govuk-error-summary")).to_contain_text(
        "Confirm the declaration to submit the return"
    )
    expect(head.get_by_label("Your role")).to_have_value("Headteacher")
    check_page(head, "journey-3-declaration-error")
    head.get_by_label(re.compile("I confirm that this self-assessment")).check()
    head.get_by_role("button", name="Sign and submit the return").click()
    expect(head.locator("h1")).to_have_text("Return submitted")
    expect(head.locator("main")).to_contain_text("What happens next")
    check_page(head, "journey-3-submitted")

    # Frozen: the task list has no links into the standards, check answers no Change links.
    head.goto(f"/returns/{return_id}")
    expect(head.locator("main")).to_contain_text("Submitted")
    expect(head.locator("a.govuk-task-list__link")).to_have_count(0)
    expect(
        head.get_by_role("link", name=re.compile("Revision 1, signed by Hal Head"))
    ).to_be_visible()
    check_page(head, "journey-3-frozen-return")
    head.goto(f"/returns/{return_id}/check")
    expect(head.get_by_role("link", name=re.compile("^Change"))).to_have_count(0)
    expect(head.get_by_role("link", name="Continue to sign and submit")).to_have_count(0)
    check_page(head)
    head.goto(f"/returns/{return_id}/sections/s175.1")
    expect(head).to_have_url(re.compile(rf"/returns/{return_id}$"))

    # The respondent's open tab: a change is refused by autosave, and the form's own save too.
    stale.locator("#item-s175-1-1-value-3").check()  # Not in place
    expect(stale.locator("#item-s175-1-1-status")).to_contain_text(
        "Not saved: this return can no longer be changed"
    )
    stale.get_by_role("button", name="Save and continue").click()
    expect(stale).to_have_url(re.compile(rf"/returns/{return_id}$"))
    expect(stale.locator(".govuk-notification-banner")).to_contain_text(
        "Your changes were not saved: this return has been submitted or its campaign has closed"
    )
    check_page(stale, "journey-3-change-refused")

    with session_scope(clean_db, write=False) as db:
        ret = db.get(Return, return_id)
        assert ret is not None and ret.status == "submitted"
        first = db.exec(
            select(Answer).where(Answer.return_id == return_id, Answer.item_id == "s175.1.1")
        ).one()
        subjects = [e.subject for e in db.exec(select(OutboxEmail)).all()]
    assert first.value == {"v": 3}, "the submitted answer (Fully in place) is unchanged"
    assert any(s.startswith("Submitted:") for s in subjects)
