"""The oversight journeys end to end in Chromium, asserting what each person reads, what is
stored and what is emailed; axe under the real CSP on the pages reached; each saves screenshots
of its key pages (the run names the folder at the end).

4. A QA member draws a risk-weighted dip sample (weights on intelligence flags) from a
   campaign's submitted returns and issues a challenge; the school (another browser) uploads
   evidence and submits it; QA records outcomes and a moderated rating; the school's six-month
   follow-up is then submitted and QA accepts it.
5. The independent scrutineer opens a campaign report from the dashboard, filters it, downloads
   the PDF pack and the XLSX tables, and the files carry the figure the page shows.
6. A new user, tried as a new user would: the signed-out home page says what the service is and
   who it is for; for each role, every page reachable from the dashboard (two links deep) has a
   way back, a heading and a next step, shows no markup, passes axe and reflows at 320 px.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import openpyxl
import pypdf
from playwright.sync_api import Page, Response, expect
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    DipSample,
    FollowUp,
    IntelligenceFlag,
    OutboxEmail,
    Submission,
    saved_id,
)
from tests.browser.challenge_steps import (
    ALPHA,
    confirm_sample,
    issue_challenge,
    names_in_row,
    read_outcomes,
    respond_and_submit,
    review,
    stored_challenge,
)
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
from tests.challenge_builders import draft_challenge, issue_over_http
from tests.personas import World
from tests.sample_builders import FLAGGED, PEOPLE, build_population

SIGNED = date(2026, 3, 1)
CHALLENGED = date(2026, 4, 1)
FOLLOWED_UP = date(2026, 8, 2)
RISK_SEED = "604023"
NAMES = {identifier: name for identifier, name, *_ in PEOPLE}
FLAGGED_NAMES = {ALPHA} | {NAMES[i] for i in FLAGGED}


def check_page(page: Page, screenshot: str | None = None) -> None:
    """Every page a journey reaches: no markup shown as text, axe clean; a key page is kept."""
    assert_no_markup(page)
    assert_accessible(page)
    if screenshot:
        shoot(page, screenshot)


def a_county_campaign(app: Starlette, engine: Engine, world: World) -> int:
    """Alpha Primary School's return signed on 1 March with two ambers (so two actions) among
    twelve other submitted returns, three of them with current intelligence; a safeguarding
    concern is noted about Alpha too. Alpha's return id."""
    return_id = submit_with_two_ambers(app, engine, world, SIGNED)
    build_population(engine, world)
    with session_scope(engine, write=True) as db:
        db.add(
            IntelligenceFlag(
                organisation_id=world.org_a,
                flag="safeguarding-concern",
                value="",
                source="Children's social care",
                noted_on=date(2026, 2, 10),
            )
        )
    return return_id


# --- 4. the quality assurance member ------------------------------------------------------------


def preview_risk_weighted_sample(page: Page, world: World) -> dict[str, str]:
    """From the dashboard to the campaign's dip samples, a risk-weighted sample of four with
    every kind of intelligence weighted 50, previewed; each chosen organisation's reason."""
    page.goto("/dashboard")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Schools audit 2026").click()
    page.get_by_role("link", name="Dip samples for this campaign").click()
    expect(page.locator("h1")).to_contain_text("Dip samples")
    check_page(page)
    page.get_by_role("link", name="Select a dip sample").first.click()
    expect(page.locator("h1")).to_have_text("Select a dip sample")
    page.get_by_label("Risk-weighted").check()
    page.get_by_label("Number of returns").fill("4")
    for label in ("Ofsted judgement", "Safeguarding concern", "LADO referral"):
        page.get_by_label(f"Weight for {label}", exact=True).fill("50")
    page.get_by_label("Seed", exact=True).fill(RISK_SEED)
    page.get_by_role("button", name="Preview the sample").click()
    expect(page.locator("#preview")).to_have_text("Preview")
    table = page.locator("table", has=page.locator("caption", has_text="chosen"))
    rows = table.locator("tbody tr").all()
    return {names_in_row(r): r.locator("td").nth(2).inner_text().strip() for r in rows}


def accept_follow_up(page: Page) -> None:
    page.goto("/dashboard")
    page.get_by_role("link", name=f"{ALPHA}: Schools audit 2026").click()
    expect(page.locator("main")).to_contain_text("Training log kept by the clerk since June")
    page.get_by_label("Accept the follow-up").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been accepted")


def test_journey_4_qa_samples_by_risk_challenges_moderates_and_accepts_the_follow_up(
    new_page: Callable[..., Page],
    app: Starlette,
    live_server: str,
    clean_db: Engine,
    world: World,
) -> None:
    return_id = a_county_campaign(app, clean_db, world)
    qa = new_page()
    as_persona(qa, clean_db, world.people["qa"], live_server)
    school = new_page()
    as_persona(school, clean_db, world.people["respondent_a"], live_server)
    with clock.travel(CHALLENGED):
        reasons = preview_risk_weighted_sample(qa, world)
        text = visible_text(qa)
        assert "Submitted returns 13" in text and "Organisations chosen: 4" in text
        # The weights did their work: every organisation with current intelligence was chosen.
        assert set(reasons) == FLAGGED_NAMES, reasons
        assert reasons[ALPHA].startswith("weight 50: Safeguarding concern"), reasons[ALPHA]
        assert reasons["Elm High School"].startswith("weight 50: Ofsted judgement"), reasons
        assert_reflows(qa, 320)
        check_page(qa, "journey-4-risk-weighted-preview")
        sample_id = confirm_sample(qa)
        assert "Method Risk-weighted" in visible_text(qa)
        check_page(qa, "journey-4-sample-confirmed")
        with session_scope(clean_db, write=False) as db:
            sample = db.get(DipSample, sample_id)
            assert sample is not None and sample.method == "risk"
            assert sample.seed == int(RISK_SEED) and sample.population_size == 13
            assert set(sample.spec["weights"]) == {
                "ofsted-judgement",
                "safeguarding-concern",
                "lado-referral",
            }

        challenge_id = issue_challenge(qa, "journey-4")
        respond_and_submit(school, "journey-4")
        review(qa, challenge_id, "journey-4")
        done = stored_challenge(clean_db, challenge_id)
        assert done["stage"] == "reviewed"
        assert [o[:3] for o in done["outcomes"]] == [  # type: ignore[attr-defined]
            ("s175.1.1", "substantiated", "3"),
            ("s175.1.2", "not_substantiated", "1"),
        ]
        read_outcomes(school, return_id, "journey-4")

    with clock.travel(FOLLOWED_UP):
        first, second, third = action_ids(clean_db, return_id)
        school.goto("/dashboard")
        school.get_by_role("link", name=re.compile("Due soon")).click()
        expect(school.locator("h1")).to_have_text("Six-month follow-up")
        fill_first_as_complete(school, first)
        fill_second_in_progress(school, second)
        school.locator(f"#action-{third}-progress-3").check()  # the required action: complete
        school.locator(f"#action-{third}-narrative").fill(
            "Training log kept by the clerk since June"
        )
        school.locator(f"#action-{third}-revised-rating").select_option("3")
        school.locator(f"#action-{third}-revised-rating").press("Tab")
        expect(school.locator(f"#action-{third}-status")).to_contain_text("Saved at", timeout=8000)
        check_page(school, "journey-4-follow-up-form")

        head = new_page()
        as_persona(head, clean_db, world.people["signatory_a"], live_server)
        sign_follow_up(head, return_id)
        expect(head.locator("main")).to_contain_text("Status Submitted", use_inner_text=True)
        check_page(head, "journey-4-follow-up-submitted")

        accept_follow_up(qa)
        check_page(qa, "journey-4-follow-up-accepted")
        qa.goto(f"/campaigns/{world.campaign_id}/follow-ups")
        assert "Completed (accepted) 100% (1 of 1)" in visible_text(qa)
        check_page(qa)

    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FollowUp.stage)).one() == "accepted"
        subjects = set(db.exec(select(OutboxEmail.subject)).all())
    assert f"Follow-up accepted: {ALPHA}'s Schools audit 2026" in subjects
    assert any(s.startswith(f"Evidence requested: {ALPHA}") for s in subjects), subjects


def action_ids(engine: Engine, return_id: int) -> list[int]:
    """The return's actions in the order they were added: its two, then the required one."""
    with session_scope(engine, write=False) as db:
        ids = db.exec(
            select(Action.id).where(Action.return_id == return_id).order_by(col(Action.id))
        ).all()
    return [i for i in ids if i is not None]


# --- 5. the independent scrutineer --------------------------------------------------------------


def summary_value(page: Page, key: str) -> str:
    """A figure of the report's Response list, as the page shows it."""
    response = page.locator("#response + dl")
    row = response.locator(".govuk-summary-list__row", has=page.get_by_text(key, exact=True))
    return row.locator("dd").inner_text().strip()


def save_download(page: Page, link: str, tmp_path: Path) -> bytes:
    with page.expect_download() as caught:
        page.locator(link).click()
    saved = tmp_path / caught.value.suggested_filename
    caught.value.save_as(saved)
    return saved.read_bytes()


def test_journey_5_the_scrutineer_filters_the_report_and_the_downloads_carry_its_figures(
    page: Page,
    app: Starlette,
    live_server: str,
    clean_db: Engine,
    world: World,
    tmp_path: Path,
) -> None:
    a_county_campaign(app, clean_db, world)
    with clock.travel(CHALLENGED):
        as_persona(page, clean_db, world.people["scrutineer"], live_server)
        page.goto("/dashboard")
        reports = page.locator("#campaign-reports + ul")
        expect(reports).to_contain_text("Report: Schools audit 2026")
        check_page(page, "journey-5-scrutineer-dashboard")
        reports.get_by_role("link", name="Report: Schools audit 2026").click()
        expect(page.locator("h1")).to_have_text("Campaign report")
        assert summary_value(page, "Invited") == "14"
        assert summary_value(page, "Submitted (returned)") == "93% (13 of 14)"
        check_page(page, "journey-5-report")

        # Filtered with htmx: the results are swapped in place and the address follows.
        page.locator("#filter-district").select_option("North")
        page.get_by_role("button", name="Show figures").click()
        expect(page.locator("#report-filters")).to_have_text(
            "Showing organisations with district: North."
        )
        assert "district=North" in page.url
        submitted = summary_value(page, "Submitted (returned)")
        assert submitted == "100% (5 of 5)", submitted
        assert_reflows(page, 320)
        check_page(page, "journey-5-report-filtered")

        pdf = save_download(page, "#report-downloads a", tmp_path)
        xlsx = save_download(page, "#report-data-downloads a[href*='report.xlsx']", tmp_path)

    assert pdf.startswith(b"%PDF")
    # The accessibility statement says the pack is not a tagged PDF: change it when it is.
    assert b"/StructTreeRoot" not in pdf
    pack = " ".join(
        " ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages
    )
    assert "district: North" in pack, pack[:600]
    assert f"Submitted (returned) {submitted}" in pack, pack[:1500]

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx))["Response"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]}
    count, of, percent = rows["Submitted (returned)"][1:4]
    assert f"{percent}% ({count} of {of})" == submitted


# --- 6. a new user ------------------------------------------------------------------------------


ROLES = {
    "respondent": "respondent_a",
    "signatory": "signatory_a",
    "quality assurance": "qa",
    "administrator": "admin",
    "scrutineer": "scrutineer",
}
DOWNLOADS = re.compile(r"\.(pdf|xlsx|csv|json)$|^/evidence/")


def page_type(path: str) -> str:
    """A page's kind: its address with every number taken out (one axe run per kind)."""
    return re.sub(r"/\d+", "/{id}", path)


@dataclass
class Crawl:
    """What a role's crawl found: pages visited and every problem, by address."""

    visited: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def links_to_follow(page: Page, origin: str) -> list[str]:
    """Same-origin links of the page, without fragments, downloads or static files."""
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map(a => a.href)"
    )
    found = []
    for href in hrefs:
        address = urldefrag(href).url
        parts = urlsplit(address)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            continue
        if DOWNLOADS.search(parts.path) or parts.path.startswith(("/static", "/assets")):
            continue
        found.append(address)
    return found


def way_back(page: Page) -> str:
    """How a person gets back from here: a back link, breadcrumbs, or the header's links."""
    for selector, how in (
        (".govuk-back-link", "back link"),
        (".govuk-breadcrumbs a", "breadcrumbs"),
        ("header a[href='/dashboard'], .govuk-service-navigation a[href='/dashboard']", "menu"),
        ("header a[href='/']", "home link"),
    ):
        if page.locator(selector).count():
            return how
    return ""


def problems_of(page: Page, response: Response | None, first_of_kind: bool) -> list[str]:
    found = []
    if response is None or response.status >= 400:
        found.append(f"answered {response.status if response else 'nothing'}")
    headings = page.locator("main h1")
    if headings.count() != 1 or not headings.first.inner_text().strip():
        found.append(f"{headings.count()} main headings")
    if not way_back(page):
        found.append("no way back")
    main = page.locator("main")
    if not main.locator("a[href], .govuk-button, button").count():
        found.append("no next step in main")
    try:
        assert_no_markup(page)
        if first_of_kind:
            assert_accessible(page)
            assert_reflows(page, 320)
    except AssertionError as problem:
        found.append(str(problem).splitlines()[0] if str(problem) else "failed")
    return found


def crawl(page: Page, origin: str, checked: set[str], depth: int = 2) -> Crawl:
    """Follow links from the dashboard, breadth first, ``depth`` links deep. Every page is
    checked for a heading, a way back and a next step; axe and reflow run on the first page
    of each kind not already in ``checked`` (shared by the roles: they see the same templates)."""
    seen, result = {f"{origin}/dashboard"}, Crawl(kinds=checked)
    queued: Counter[str] = Counter()
    frontier = [f"{origin}/dashboard"]
    for level in range(depth + 1):
        following = []
        for address in frontier:
            response = page.goto(address)
            path = urlsplit(page.url).path
            kind = page_type(path)
            first = kind not in result.kinds
            result.kinds.add(kind)
            result.visited.append(address)
            for problem in problems_of(page, response, first):
                result.problems.append(f"{address}: {problem}")
            if level < depth:
                for link in links_to_follow(page, origin):
                    path = urlsplit(link).path
                    if link in seen or path == "/sign-out" or queued[page_type(path)] >= 2:
                        continue  # two pages of a kind (two organisations, ...) are enough
                    seen.add(link)
                    queued[page_type(path)] += 1
                    following.append(link)
        frontier = following
    return result


def a_cycle_in_progress(app: Starlette, engine: Engine, world: World) -> None:
    """The county campaign with Alpha's challenge issued, so every role has something to do."""
    return_id = a_county_campaign(app, engine, world)
    with session_scope(engine, write=True) as db:
        submission = db.exec(
            select(Submission)
            .where(Submission.return_id == return_id)
            .order_by(col(Submission.revision).desc())
        ).first()
        assert submission is not None
        made = draft_challenge(db, world, world.org_a, saved_id(submission))
    issue_over_http(app, engine, world, made.challenge_id, ["s175.1.1"], date(2026, 5, 15))


def test_journey_6_a_new_user_finds_what_the_service_is_and_a_way_on_from_every_page(
    page: Page,
    new_page: Callable[..., Page],
    app: Starlette,
    live_server: str,
    clean_db: Engine,
    world: World,
) -> None:
    page.goto("/")
    text = visible_text(page)
    assert "Section 11 and Section 175 safeguarding self-assessments" in text
    for who in (
        "designated safeguarding leads",
        "sign the declaration",
        "quality assurance sub-group",
        "business office runs the audit campaigns",
        "independent scrutineer reads",
    ):
        assert who in text, who
    start = page.locator("main").get_by_role("button", name="Sign in")
    expect(start).to_have_attribute("href", "/sign-in")
    check_page(page, "journey-6-home-signed-out")
    assert_reflows(page, 320)
    start.click()
    expect(page.locator("h1")).to_have_text("Sign in")

    with clock.travel(CHALLENGED):
        a_cycle_in_progress(app, clean_db, world)
        report: list[str] = []
        checked: set[str] = set()
        for role, persona in ROLES.items():
            tab = new_page()
            as_persona(tab, clean_db, world.people[persona], live_server)
            found = crawl(tab, live_server, checked)
            tab.goto("/dashboard")
            shoot(tab, f"journey-6-dashboard-{role.replace(' ', '-')}")
            assert len(found.visited) > 3, (role, found.visited)
            report.extend(f"{role}: {p}" for p in found.problems)
    assert report == [], "\n".join(report)
