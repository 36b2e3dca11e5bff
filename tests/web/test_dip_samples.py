"""Selecting a dip sample over HTTP: preview, confirm, repeat from the seed, change with a
reason; bad input refused with nothing stored; who may do what. Run on both databases: the
chosen organisations for a fixed seed are written out here, so both must choose them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import (
    AuditEvent,
    DipSample,
    EvidenceChallenge,
    SampleChange,
    SampledReturn,
)
from audit_portal.sampling import spec_from_dict
from tests.builders import visible_text
from tests.personas import World, signed_in
from tests.sample_builders import PEOPLE, Population, build_population

SEED = "482913"
NAMES = {identifier: name for identifier, name, *_ in PEOPLE}
# What the seed above chooses from the built population: the same on SQLite and PostgreSQL.
SIMPLE_FOUR = {"300003", "300006", "300009", "300010"}


@pytest.fixture
def population(clean_db: Engine, world: World) -> Population:
    return build_population(clean_db, world)


def new_url(world: World) -> str:
    return f"/campaigns/{world.campaign_id}/dip-samples/new"


def as_person(app: Starlette, engine: Engine, world: World, persona: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
    token = signed_in(client, engine, world.people[persona])
    return client, token


def form(token: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    return {"csrf_token": token, "method": "simple", "size": "4", "seed": SEED} | fields


def chosen_names(html: str) -> set[str]:
    """The organisations in the preview table (its rows hold the names)."""
    table = html.split('id="preview"', 1)[1]
    return {name for name in NAMES.values() if name in table}


def ids_of(names: set[str]) -> set[str]:
    return {identifier for identifier, name in NAMES.items() if name in names}


def changes_stored(engine: Engine) -> int:
    with session_scope(engine, write=False) as db:
        return db.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(~col(AuditEvent.action).startswith("security."))
        ).one()


def nothing_sampled(engine: Engine) -> bool:
    with session_scope(engine, write=False) as db:
        return (
            db.exec(select(func.count()).select_from(DipSample)).one() == 0
            and db.exec(select(func.count()).select_from(SampledReturn)).one() == 0
            and db.exec(select(func.count()).select_from(EvidenceChallenge)).one() == 0
        )


def preview(client: TestClient, world: World, data: dict) -> str:
    response = client.post(new_url(world), data={**data, "button": "preview"})
    assert response.status_code == 200, visible_text(response.text)[:3000]
    return response.text


def confirm(client: TestClient, world: World, data: dict, html: str) -> int:
    digest = re.search(r'name="previewed" value="([0-9a-f]+)"', html)
    assert digest, "the preview offers a confirmation"
    response = client.post(
        new_url(world), data={**data, "button": "confirm", "previewed": digest.group(1)}
    )
    assert response.status_code == 303, visible_text(response.text)[:3000]
    match = re.fullmatch(r"/dip-samples/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def test_a_seeded_sample_is_previewed_confirmed_and_repeated_from_its_seed(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        page = client.get(new_url(world))
        assert page.status_code == 200
        text = visible_text(page.text)
        assert "Select a dip sample" in text and "12 submitted or accepted returns" in text
        assert re.search(r'name="seed"[^>]*value="\d{6,9}"', page.text), "a seed is made and shown"

        data = form(token)
        html = preview(client, world, data)
        text = visible_text(html)
        assert ids_of(chosen_names(html)) == SIMPLE_FOUR
        assert "Submitted returns 12" in text and "Organisations chosen: 4" in text
        assert text.count("random selection") == 4
        assert "Seed 482913" in text

        sample_id = confirm(client, world, data, html)
        shown = client.get(f"/dip-samples/{sample_id}")
        text = visible_text(shown.text)
        assert "The dip sample is confirmed" in text
        assert "Method Simple random" in text and "Size 4 returns" in text
        assert "Seed 482913" in text and "Repeat this selection" in text
        assert "Chosen by Qa" in text and "Submitted returns 12" in text
        for identifier in SIMPLE_FOUR:
            assert NAMES[identifier] in text
        assert text.count("Not yet issued") == 4

        again = preview(client, world, form(token))  # the seed typed in again
        assert ids_of(chosen_names(again)) == SIMPLE_FOUR
        other = preview(client, world, form(token, seed="482914"))
        assert ids_of(chosen_names(other)) != SIMPLE_FOUR

    with session_scope(clean_db, write=False) as db:
        sample = db.get(DipSample, sample_id)
        assert sample is not None
        assert sample.campaign_id == world.campaign_id
        assert sample.method == "simple" and sample.seed == 482913
        assert spec_from_dict(sample.spec).size == 4
        assert sample.population_size == 12 and sample.filtered_size == 12
        assert sample.population_keys == sorted(f"urn:{i}" for i, *_ in PEOPLE)
        assert sample.chosen_by == world.people["qa"].user_id
        sampled = db.exec(select(SampledReturn).where(SampledReturn.dip_sample_id == sample_id))
        rows = sampled.all()
        assert {r.return_id for r in rows} == {population.returns[i] for i in SIMPLE_FOUR}
        assert all(r.drawn and r.rationale == "random selection" for r in rows)
        challenges = db.exec(select(EvidenceChallenge)).all()
        assert {(c.return_id, c.submission_id, c.stage) for c in challenges} == {
            (population.returns[i], population.submissions[i], "draft") for i in SIMPLE_FOUR
        }
        event = db.exec(select(AuditEvent).where(AuditEvent.action == "dip_sample.confirm")).one()
        assert event.object_id == str(sample_id)


def test_the_latest_submission_counts_and_superseded_intelligence_does_not(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        red_only = preview(client, world, form(token, size="12", rag="red"))
        assert ids_of(chosen_names(red_only)) == {"300005"}  # Ash's red revision 1 is not counted
        unevidenced = preview(client, world, form(token, size="12", green_without_evidence="yes"))
        assert ids_of(chosen_names(unevidenced)) == {"300003", "300006", "300011"}
        risk = form(token, method="risk", size="12", **{"weight-ofsted-judgement": "5"})
        text = visible_text(preview(client, world, risk))
        assert "weight 5: Ofsted judgement Inadequate, 12 June 2025" in text
        assert text.count("weight 5") == 1, "Birch's superseded Ofsted flag carries no weight"


def test_a_risk_weighted_sample_favours_flagged_organisations(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    weights = {
        "weight-ofsted-judgement": "50",
        "weight-safeguarding-concern": "50",
        "weight-lado-referral": "50",
    }
    flagged = {"300005", "300008", "300011"}
    client, token = as_person(app, clean_db, world, "qa")
    picked_flagged = 0
    with client:
        for seed in ("101", "202", "303", "404", "505"):
            html = preview(
                client, world, form(token, method="risk", size="3", seed=seed, **weights)
            )
            chosen = ids_of(chosen_names(html))
            assert len(chosen) == 3
            picked_flagged += len(chosen & flagged)
            text = visible_text(html)
            for identifier in chosen & flagged:
                assert f"{NAMES[identifier]} " in text
            if chosen & flagged:
                assert re.search(r"weight 50: (Ofsted judgement|Safeguarding concern|LADO)", text)
            if chosen - flagged:
                assert "weight 1: no weighted intelligence" in text
        simple = 0
        for seed in ("101", "202", "303", "404", "505"):
            html = preview(client, world, form(token, size="3", seed=seed))
            simple += len(ids_of(chosen_names(html)) & flagged)
    # Three of twelve are flagged: plain random sampling picks about 0.75 of them per sample of
    # three (3 in these five samples); at weight 50 most of the three are picked every time.
    assert picked_flagged >= 10 and picked_flagged >= 2 * simple


def test_stratified_preview_explains_each_stratum(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        data = form(token, method="stratified", size="3", stratify_by="district")
        text = visible_text(preview(client, world, data))
    for district in ("East", "North", "South"):
        assert f"stratum: {district} (1 of 4 chosen)" in text


def test_always_include_and_exclude_are_honoured(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    included, excluded = population.organisations["300009"], population.organisations["300003"]
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        for seed in ("11", "22", "33", "44", SEED):
            data = form(token, size="3", seed=seed, include=str(included), exclude=str(excluded))
            html = preview(client, world, data)
            chosen = ids_of(chosen_names(html))
            assert "300009" in chosen and "300003" not in chosen and len(chosen) == 3
            assert "always included" in visible_text(html)
        sample_id = confirm(client, world, data, html)
        text = visible_text(client.get(f"/dip-samples/{sample_id}").text)
        assert "Always included Ivy Day Nursery" in text
        assert "Always excluded Cedar Infant School" in text
    with session_scope(clean_db, write=False) as db:
        sample = db.get(DipSample, sample_id)
        assert sample is not None
        assert sample.spec["include"] == ["urn:300009"]
        assert sample.spec["exclude"] == ["urn:300003"]


def confirmed_sample(app: Starlette, engine: Engine, world: World) -> int:
    client, token = as_person(app, engine, world, "qa")
    with client:
        data = form(token)
        return confirm(client, world, data, preview(client, world, data))


def test_adding_and_removing_need_a_reason_and_are_listed_with_it(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    sample_id = confirmed_sample(app, clean_db, world)
    outside = population.returns["300001"]  # Ash Primary School: not in SIMPLE_FOUR
    inside = population.returns["300003"]  # Cedar Infant School
    url = f"/dip-samples/{sample_id}/changes"
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        before = changes_stored(clean_db)
        for change, return_id in (("add", outside), ("remove", inside)):
            for reason in ("", "   "):
                refused = client.post(
                    url,
                    data={
                        "csrf_token": token,
                        "change": change,
                        "return_id": str(return_id),
                        "reason": reason,
                    },
                )
                assert refused.status_code == 400
                text = visible_text(refused.text)
                assert "There is a problem" in text
                verb = "adding" if change == "add" else "removing"
                assert f"Enter the reason for {verb} the organisation" in text
        too_long = client.post(
            url,
            data={
                "csrf_token": token,
                "change": "add",
                "return_id": str(outside),
                "reason": "x" * 1001,
            },
        )
        assert too_long.status_code == 400
        assert "1000 characters or fewer" in visible_text(too_long.text)
        assert changes_stored(clean_db) == before

        added = client.post(
            url,
            data={
                "csrf_token": token,
                "change": "add",
                "return_id": str(outside),
                "reason": "Known concern raised at the March meeting",
            },
        )
        assert added.status_code == 303
        again = client.post(
            url,
            data={
                "csrf_token": token,
                "change": "add",
                "return_id": str(outside),
                "reason": "Twice",
            },
        )
        assert again.status_code == 400
        assert "Ash Primary School is already in the sample" in visible_text(again.text)
        removed = client.post(
            url,
            data={
                "csrf_token": token,
                "change": "remove",
                "return_id": str(inside),
                "reason": "Inspected last month: no need to challenge again",
            },
        )
        assert removed.status_code == 303
        text = visible_text(client.get(f"/dip-samples/{sample_id}").text)
        assert "Organisations in the sample (4)" in text
        assert "added by hand Added by hand" in text
        assert "Removed from the sample (1)" in text
        assert (
            "Cedar Infant School was removed on" in text
            and "Reason: Inspected last month: no need to challenge again" in text
        )
        assert "Added Ash Primary School Known concern raised at the March meeting Qa" in text
        assert (
            "Removed Cedar Infant School Inspected last month: no need to challenge again Qa"
            in text
        )

    with session_scope(clean_db, write=False) as db:
        rows = {
            r.return_id: r
            for r in db.exec(
                select(SampledReturn).where(SampledReturn.dip_sample_id == sample_id)
            ).all()
        }
        assert rows[inside].removed_at is not None, "removed, never deleted"
        assert rows[outside].drawn is False and rows[outside].removed_at is None
        challenge = db.exec(
            select(EvidenceChallenge).where(EvidenceChallenge.return_id == outside)
        ).one()
        assert challenge.stage == "draft"
        assert challenge.submission_id == population.submissions["300001"]
        stored = db.exec(select(SampleChange).order_by(col(SampleChange.id))).all()
        assert [(c.change, c.return_id) for c in stored] == [
            ("added", outside),
            ("removed", inside),
        ]
        actions = db.exec(
            select(AuditEvent.action).where(col(AuditEvent.action).startswith("dip_sample."))
        ).all()
        assert sorted(actions) == ["dip_sample.add", "dip_sample.confirm", "dip_sample.remove"]


def test_changes_refuse_returns_that_cannot_be_added_or_removed(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    sample_id = confirmed_sample(app, clean_db, world)
    url = f"/dip-samples/{sample_id}/changes"
    client, token = as_person(app, clean_db, world, "qa")
    cases = [
        ("add", str(population.other_campaign_return), "submitted return in this campaign"),
        ("add", str(world.returns[world.org_a]), "submitted return in this campaign"),
        ("add", "99999999", "submitted return in this campaign"),
        ("add", "abc", "Choose the organisation to add"),
        ("remove", str(population.returns["300001"]), "that is in the sample"),
        ("swap", str(population.returns["300001"]), "Choose whether to add or remove"),
    ]
    with client:
        before = changes_stored(clean_db)
        for change, return_id, message in cases:
            response = client.post(
                url,
                data={
                    "csrf_token": token,
                    "change": change,
                    "return_id": return_id,
                    "reason": "A reason",
                },
            )
            assert response.status_code == 400, (change, return_id)
            assert message in visible_text(response.text), (change, return_id)
        assert (
            client.post(
                "/dip-samples/99999999/changes",
                data={"csrf_token": token, "change": "add", "return_id": "1", "reason": "A reason"},
            ).status_code
            == 404
        )
    assert changes_stored(clean_db) == before
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(func.count()).select_from(SampleChange)).one() == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"percent": "0", "size": ""}, "The percentage must be more than 0 and no more than 100"),
        ({"percent": "500", "size": ""}, "The percentage must be more than 0 and no more than 100"),
        ({"percent": "ten", "size": ""}, "Enter the percentage as a number"),
        ({"size": "", "percent": ""}, "Enter how many returns to sample"),
        ({"size": "4", "percent": "10"}, "either a number of returns or a percentage, not both"),
        ({"size": "-3"}, "Enter the number of returns as a whole number"),
        ({"seed": "abc"}, "Enter the seed as a number, for example 482913"),
        ({"seed": ""}, "Enter the seed"),
        ({"seed": "1000000000"}, "The seed must be a number between 1 and 999999999"),
        ({"method": "lottery"}, "Choose how to select the sample"),
        ({"method": "stratified"}, "Choose what to divide the population by"),
        ({"method": "risk"}, "Set a weight for at least one type of intelligence"),
        (
            {"method": "risk", "weight-ofsted-judgement": "500"},
            "must be a number between 1 and 100",
        ),
        ({"method": "risk", "weight-ofsted-judgement": "lots"}, "must be a number, for example 3"),
        ({"include": "99999999"}, "has no submitted return in this campaign"),
        ({"exclude": "0"}, "Choose organisations to exclude from the list"),
        ({"rag": "purple"}, "Filter the overall rating by green, amber, red or not rated"),
    ],
)
@pytest.mark.parametrize("button", ["preview", "confirm"])
def test_bad_choices_are_refused_by_the_field_and_store_nothing(
    app: Starlette,
    clean_db: Engine,
    world: World,
    population: Population,
    fields: dict[str, str],
    message: str,
    button: str,
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        before = changes_stored(clean_db)
        response = client.post(new_url(world), data={**form(token, **fields), "button": button})
        assert response.status_code == 400, visible_text(response.text)[:2000]
        text = visible_text(response.text)
        assert text.count(message) >= 2 or message in text.split("There is a problem", 1)[1], text
        assert "Error: Select a dip sample" in response.text, "the title says there is an error"
        assert 'class="govuk-error-summary"' in response.text
        for name, value in fields.items():
            if value and name not in {"include", "exclude", "rag", "method"}:
                assert f'value="{value}"' in response.text, "what was typed is kept"
    assert changes_stored(clean_db) == before
    assert nothing_sampled(clean_db)


def test_a_sample_larger_than_the_population_takes_everyone_with_a_note(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        data = form(token, size="50")
        html = preview(client, world, data)
        text = visible_text(html)
        assert "Only 12 returns could be chosen, fewer than the 50 asked for" in text
        assert len(chosen_names(html)) == 12
        sample_id = confirm(client, world, data, html)
    with session_scope(clean_db, write=False) as db:
        sample = db.get(DipSample, sample_id)
        assert sample is not None and sample.requested_size == 50
        assert any("Only 12 returns" in note for note in sample.notes)


def test_a_confirmation_that_differs_from_the_preview_is_not_stored(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        html = preview(client, world, form(token))
        digest = re.search(r'name="previewed" value="([0-9a-f]+)"', html)
        assert digest
        changed = form(token, seed="99", button="confirm", previewed=digest.group(1))
        response = client.post(new_url(world), data=changed)
        assert response.status_code == 409
        assert "not the one you previewed" in visible_text(response.text)
        unpreviewed = client.post(new_url(world), data=form(token, button="confirm"))
        assert unpreviewed.status_code == 409
        empty = client.post(
            new_url(world), data=form(token, kind="agency", rag="red", button="confirm")
        )
        assert empty.status_code == 409
        assert "No organisations were chosen" in visible_text(empty.text)
    assert nothing_sampled(clean_db)


def test_the_campaign_lists_its_samples_and_links_to_selection(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    sample_id = confirmed_sample(app, clean_db, world)
    client, _ = as_person(app, clean_db, world, "qa")
    with client:
        campaign = visible_text(client.get(f"/campaigns/{world.campaign_id}").text)
        assert "Dip samples for this campaign" in campaign and "Select a dip sample" in campaign
        listing = client.get(f"/campaigns/{world.campaign_id}/dip-samples")
        assert listing.status_code == 200
        assert f'href="/dip-samples/{sample_id}"' in listing.text
        text = visible_text(listing.text)
        assert "Dip samples: 1" in text and "Simple random 4 0 482913 Qa" in text


def test_the_scrutineer_reads_samples_but_changes_nothing(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    sample_id = confirmed_sample(app, clean_db, world)
    client, token = as_person(app, clean_db, world, "scrutineer")
    with client:
        page = client.get(f"/dip-samples/{sample_id}")
        assert page.status_code == 200
        assert "Repeat this selection" in visible_text(page.text)
        assert 'name="reason"' not in page.text and "Change the sample" not in page.text
        listing = client.get(f"/campaigns/{world.campaign_id}/dip-samples")
        assert listing.status_code == 200 and "Select a dip sample" not in listing.text
        before = changes_stored(clean_db)
        assert client.get(new_url(world)).status_code == 403
        assert client.post(new_url(world), data=form(token, button="confirm")).status_code == 403
        refused = client.post(
            f"/dip-samples/{sample_id}/changes",
            data={"csrf_token": token, "change": "remove", "return_id": "1", "reason": "No"},
        )
        assert refused.status_code == 403
    assert changes_stored(clean_db) == before


@pytest.mark.parametrize("persona", ["respondent_a", "signatory_a", "respondent_b", "no_roles"])
def test_organisations_people_cannot_see_or_choose_samples(
    app: Starlette, clean_db: Engine, world: World, population: Population, persona: str
) -> None:
    sample_id = confirmed_sample(app, clean_db, world)
    client, token = as_person(app, clean_db, world, persona)
    with client:
        for url in (
            f"/dip-samples/{sample_id}",
            f"/campaigns/{world.campaign_id}/dip-samples",
            new_url(world),
        ):
            assert client.get(url).status_code in {403, 404}, url
        assert client.post(new_url(world), data=form(token, button="confirm")).status_code in {
            403,
            404,
        }
        assert client.post(
            f"/dip-samples/{sample_id}/changes",
            data={"csrf_token": token, "change": "add", "return_id": "1", "reason": "x"},
        ).status_code in {403, 404}
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(func.count()).select_from(DipSample)).one() == 1


def test_unknown_campaigns_and_samples_are_not_found(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        assert client.get("/campaigns/99999999/dip-samples").status_code == 404
        assert client.get("/campaigns/99999999/dip-samples/new").status_code == 404
        assert (
            client.post("/campaigns/99999999/dip-samples/new", data=form(token)).status_code == 404
        )
        assert client.get("/dip-samples/99999999").status_code == 404
