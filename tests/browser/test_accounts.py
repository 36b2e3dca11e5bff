"""Sign-in, invitation, reset and throttling in a real browser; axe on every account page."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine
from sqlmodel import select

from audit_portal.db import session_scope
from audit_portal.models import OutboxEmail
from tests.browser.helpers import as_persona, assert_accessible
from tests.personas import PASSWORD, World


def sign_in_with_keyboard(page: Page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def latest_link(engine: Engine, kind: str) -> str:
    with session_scope(engine, write=False) as db:
        email = db.exec(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()  # type: ignore[union-attr]
    return re.search(rf"(/{kind}/\S+)", email.body).group(1)


def test_sign_in_and_out_with_the_keyboard(page: Page, world: World) -> None:
    page.goto("/sign-in")
    assert_accessible(page)
    sign_in_with_keyboard(page, "respondent_a@test.example", PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.locator("h1")).to_have_text("Dashboard")
    assert "Alpha Primary School" in page.content()
    assert_accessible(page)
    page.goto("/account")
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("You have signed out")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/dashboard$"))


def test_errors_and_throttling_in_the_browser(page: Page, world: World) -> None:
    sign_in_with_keyboard(page, "respondent_a@test.example", "wrong password")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a correct email address and password")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    assert_accessible(page)
    for _ in range(4):
        sign_in_with_keyboard(page, "respondent_a@test.example", "wrong password")
    sign_in_with_keyboard(page, "respondent_a@test.example", PASSWORD)
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "You have tried to sign in too many times"
    )


def test_invitation_from_an_administrator_to_a_signed_in_newcomer(
    page: Page, browser: Browser, live_server: str, clean_db: Engine, world: World
) -> None:
    as_persona(page, clean_db, world.people["admin"], live_server)
    page.goto(f"/organisations/{world.org_a}")
    assert_accessible(page)
    page.get_by_role("link", name="Invite someone from Alpha Primary School").click()
    assert_accessible(page)
    page.get_by_label("Full name").fill("Nia Newcomer")
    page.get_by_label("Email address").fill("nia@school.example")
    page.get_by_label("Role").select_option("signatory")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Invitation sent")
    assert_accessible(page)
    page.goto("/outbox")
    assert "Your invitation to the Safeguarding Audit Portal" in page.content()
    assert_accessible(page)

    newcomer = browser.new_context(base_url=live_server).new_page()
    newcomer.goto(latest_link(clean_db, "invitation"))
    assert_accessible(newcomer)
    newcomer.get_by_label("New password", exact=True).fill("purple elephant marmalade")
    newcomer.get_by_label("Confirm new password").fill("purple elephant marmalade")
    newcomer.get_by_role("button", name="Save password and sign in").click()
    expect(newcomer.locator("h1")).to_have_text("Dashboard")
    assert "Signatory" in newcomer.content()
    newcomer.context.close()


def test_password_reset_in_the_browser(page: Page, clean_db: Engine, world: World) -> None:
    page.goto("/sign-in")
    page.get_by_role("link", name="I have forgotten my password").click()
    assert_accessible(page)
    page.get_by_label("Email address").fill("respondent_b@test.example")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    page.goto(latest_link(clean_db, "reset-password"))
    page.get_by_label("New password", exact=True).fill("lantern copper meadow")
    page.get_by_label("Confirm new password").fill("lantern copper meadow")
    page.get_by_role("button", name="Save password and sign in").click()
    expect(page.locator("h1")).to_have_text("Dashboard")


def test_second_factor_set_up_in_the_browser(page: Page, world: World) -> None:
    sign_in_with_keyboard(page, "qa@test.example", PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    assert_accessible(page)
    secret = page.locator("code").inner_text()
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.locator("h1")).to_have_text("Save your recovery codes")
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    [
        "/organisations",
        "/organisations/new",
        "/users",
        "/users/invite",
        "/audit",
        "/questionnaires",
        "/questionnaires/section-175-schools/2025.1",
        "/questionnaires/section-175-schools/2025.1/sections/s175.10",
        "/questionnaires/section-11/2025.1/sections/s11.7",
        "/questionnaires/section-175-early-years/2025.1/sections/ey.2",
        "/questionnaires/section-175-schools/diff",
        "/campaigns",
        "/campaigns/new",
        "/campaigns/{campaign}",
    ],
)
def test_administrator_pages_are_accessible(
    page: Page, live_server: str, clean_db: Engine, world: World, path: str
) -> None:
    as_persona(page, clean_db, world.people["admin"], live_server)
    page.goto(path.replace("{campaign}", str(world.campaign_id)))
    assert page.locator("h1").count() == 1
    assert_accessible(page)


def test_sign_in_works_without_javascript(page_without_js: Page, world: World) -> None:
    sign_in_with_keyboard(page_without_js, "signatory_a@test.example", PASSWORD)
    expect(page_without_js.locator("h1")).to_have_text("Dashboard")


def test_import_in_the_browser(
    page: Page, live_server: str, clean_db: Engine, world: World
) -> None:
    from pathlib import Path

    as_persona(page, clean_db, world.people["admin"], live_server)
    page.goto("/organisations/import")
    assert_accessible(page)
    page.get_by_label("Schools and colleges from Get Information about Schools").check()
    page.get_by_label("Local authorities (schools only)").fill("Devon")
    page.get_by_label("CSV file").set_input_files(
        str(Path(__file__).parent.parent / "fixtures/imports/gias_devon.csv")
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("h1")).to_have_text("Import finished")
    assert "6 created" in page.content()
    assert_accessible(page)
