"""Dip samples and evidence challenges in Chromium, with the portal's clock on 1 April 2026:
the QA sub-group selects a sample (preview, confirm, repeat from the seed) and issues a
challenge; the organisation uploads a file, explains, submits, and its evidence is frozen; QA
reviews each item (an outcome, a moderated rating, a comment, a required action) and the
organisation reads the outcomes beside its return and finds the action in its follow-up. With
JavaScript and without it, the review form by keyboard alone; axe under the real CSP, reflow
at 320 px.

Each step is a function of its own, as a person does it, so the whole journey reads in order;
the challenge's steps live in challenge_steps.py, shared with the QA journey."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from starlette.applications import Starlette

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import DipSample
from tests.browser.challenge_steps import (
    ACTION,
    ALPHA,
    DUE,
    POLICY_PDF,
    SUBMITTED_EXPLANATION,
    confirm_sample,
    issue_challenge,
    names_in,
    names_in_row,
    read_outcomes,
    respond_and_submit,
    review,
    stored_challenge,
)
from tests.browser.helpers import (
    as_persona,
    assert_accessible,
    assert_no_markup,
    shoot,
    visible_text,
)
from tests.personas import World
from tests.sample_builders import PEOPLE, build_population

TODAY = date(2026, 4, 1)
SEED = "482913"
POPULATION = {ALPHA} | {name for _, name, *_ in PEOPLE}


@pytest.fixture(autouse=True)
def on_the_first_of_april() -> Iterator[None]:
    with clock.travel(TODAY):
        yield


@pytest.fixture
def submitted(app: Starlette, clean_db: Engine, world: World) -> int:
    """Alpha Primary School's return, signed on 1 March, among twelve other submitted returns."""
    from tests.builders import submit_with_two_ambers

    return_id = submit_with_two_ambers(app, clean_db, world, date(2026, 3, 1))
    build_population(clean_db, world)
    return return_id


# ---------------------------------------------------------------------------------------------
# Steps, each as a person does it (the challenge's own steps are in challenge_steps.py)


def preview_sample(page: Page, world: World, seed: str, size: str = "3") -> list[str]:
    """From the campaign's dip samples, a simple random sample of ``size`` always including
    Alpha Primary School, previewed; the organisations it chose, as the preview lists them."""
    page.goto(f"/campaigns/{world.campaign_id}/dip-samples")
    page.get_by_role("link", name="Select a dip sample").first.click()
    expect(page.locator("h1")).to_have_text("Select a dip sample")
    page.get_by_label("Simple random").check()
    page.get_by_label("Number of returns").fill(size)
    page.get_by_text("Always include (0 chosen)").click()
    page.get_by_role("group", name="Always include").get_by_label(re.compile(f"^{ALPHA}")).check()
    page.get_by_label("Seed", exact=True).fill(seed)
    page.get_by_role("button", name="Preview the sample").click()
    expect(page.locator("#preview")).to_have_text("Preview")
    return names_in(page.locator("table", has=page.locator("caption", has_text="chosen")))


def test_qa_selects_a_dip_sample_and_repeats_it_from_its_seed(
    page: Page, live_server: str, clean_db: Engine, world: World, submitted: int
) -> None:
    as_persona(page, clean_db, world.people["qa"], live_server)
    page.goto(f"/campaigns/{world.campaign_id}/dip-samples/new")
    text = visible_text(page)
    assert "13 submitted or accepted returns" in text
    assert re.fullmatch(r"\d{6,9}", page.get_by_label("Seed", exact=True).input_value())
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, "dip-sample-form")

    chosen = preview_sample(page, world, SEED)
    text = visible_text(page)
    assert len(chosen) == 3 and ALPHA in chosen and set(chosen) <= POPULATION
    assert "Submitted returns 13" in text and "Organisations chosen: 3" in text
    assert "Seed 482913" in text
    rows = page.locator("table", has=page.locator("caption", has_text="chosen")).locator("tbody tr")
    reasons = {names_in_row(r): r.locator("td").nth(2).inner_text() for r in rows.all()}
    assert reasons[ALPHA] == "always included"
    assert sorted(reasons.values()).count("random selection") == 2
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, "dip-sample-preview")

    sample_id = confirm_sample(page)
    text = visible_text(page)
    assert "Method Simple random" in text and "Seed 482913" in text
    assert "Repeat this selection" in text and "type the seed 482913" in text
    in_sample = names_in(page.get_by_role("region", name="Organisations in the sample"))
    assert sorted(in_sample) == sorted(chosen)
    assert text.count("Not yet issued") == 3
    assert_no_markup(page)
    assert_accessible(page)
    shoot(page, "dip-sample")

    # Anyone can repeat it: the same choices and the same seed choose the same organisations.
    assert sorted(preview_sample(page, world, SEED)) == sorted(chosen)
    with session_scope(clean_db, write=False) as db:
        sample = db.get(DipSample, sample_id)
        assert sample is not None and sample.seed == int(SEED) and sample.population_size == 13


# ---------------------------------------------------------------------------------------------
# The whole challenge: issue, respond, submit, review, read the outcomes


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_whole_evidence_challenge_from_sample_to_moderated_rating_and_follow_up(
    new_page: Callable[..., Page],
    live_server: str,
    clean_db: Engine,
    world: World,
    submitted: int,
    javascript: bool,
) -> None:
    tag = "js" if javascript else "no-js"
    qa = new_page(javascript=javascript)
    as_persona(qa, clean_db, world.people["qa"], live_server)
    qa.goto(f"/campaigns/{world.campaign_id}/dip-samples")
    candidates = qa.get_by_role("region", name="Candidates for challenge")
    expect(candidates).to_contain_text("Cedar Infant School")
    # Alpha answered every question without describing evidence; three of the others did too.
    assert "no evidence described: 4." in visible_text(qa)
    expect(candidates).to_contain_text(f"{ALPHA} North 65: s175.1.5, s175.1.6")
    assert_no_markup(qa)
    assert_accessible(qa)
    shoot(qa, f"dip-samples-with-candidates-{tag}")
    assert ALPHA in preview_sample(qa, world, SEED)
    confirm_sample(qa)
    challenge_id = issue_challenge(qa, tag)
    assert stored_challenge(clean_db, challenge_id)["asked"] == sorted(
        [world.people["respondent_a"].email, world.people["signatory_a"].email]
    ), "the organisation's people are emailed through the outbox"

    school = new_page(javascript=javascript)
    as_persona(school, clean_db, world.people["respondent_a"], live_server)
    respond_and_submit(school, tag)
    frozen = stored_challenge(clean_db, challenge_id)
    assert frozen["stage"] == "submitted" and frozen["due_on"] == DUE
    assert frozen["items"] == [
        ("s175.1.1", "amber", ""),
        ("s175.1.2", "amber", SUBMITTED_EXPLANATION),
    ]
    assert frozen["files"] == [
        ("s175.1.1", "governors-minutes.pdf", "pdf", hashlib.sha256(POLICY_PDF).hexdigest())
    ]

    review(qa, challenge_id, tag)
    done = stored_challenge(clean_db, challenge_id)
    assert done["stage"] == "reviewed"
    assert done["outcomes"] == [
        ("s175.1.1", "substantiated", "3", "green", "The minutes show it."),
        ("s175.1.2", "not_substantiated", "1", "red", "No training records were given."),
    ]
    assert done["outcome_action"] == [False, True]
    assert done["actions"] == [("s175.1.2", ACTION, "Clerk to the governors", date(2026, 7, 31))]
    assert done["files"] == frozen["files"] and done["items"] == frozen["items"]

    read_outcomes(school, submitted, tag)
