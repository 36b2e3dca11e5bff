"""Candidates for challenge in the QA sub-group's views: questions self-rated green with no
evidence described, listed per return on the campaign's dip samples page and per sampled
organisation on the dip sample page; only the latest submission counts; names escaped.
Run on both databases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import Organisation
from tests.builders import visible_text
from tests.personas import World, signed_in
from tests.sample_builders import PEOPLE, Population, build_population

NAMES = {identifier: name for identifier, name, *_ in PEOPLE}
UNEVIDENCED = {i for i, *_, without_evidence in PEOPLE if without_evidence}
SEED = "482913"
# What the seed chooses for a simple random sample of four (as in test_dip_samples.py).
SIMPLE_FOUR = {"300003", "300006", "300009", "300010"}


@pytest.fixture
def population(clean_db: Engine, world: World) -> Population:
    return build_population(clean_db, world)


def client_for(
    app: Starlette, engine: Engine, world: World, persona: str
) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
    return client, signed_in(client, engine, world.people[persona])


def candidates_table(html: str) -> list[str]:
    """The rows of the candidates table, as a person reads each."""
    table = html.split('aria-label="Candidates for challenge"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table, flags=re.S)
    return [visible_text(row) for row in rows[1:]]


def sample_rows(html: str) -> dict[str, str]:
    """The dip sample's organisations table: organisation name -> its row's text."""
    table = html.split('aria-label="Organisations in the sample"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table, flags=re.S)
    found = {}
    for row in rows[1:]:
        text = visible_text(row)
        found[next(n for n in NAMES.values() if text.startswith(n))] = text
    return found


def test_the_campaigns_dip_samples_page_lists_green_questions_without_evidence(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    qa, _ = client_for(app, clean_db, world, "qa")
    with qa:
        page = qa.get(f"/campaigns/{world.campaign_id}/dip-samples")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Candidates for challenge" in text
    assert "Submitted returns with a question rated green and no evidence described: 3." in text
    assert candidates_table(page.text) == [
        "Cedar Infant School South 1: s175.1.1",
        "Fir Tree Pre-school East 1: s175.1.1",
        "Kestrel Youth Service South 1: s175.1.1",
    ]
    # Ash Primary School's first, red revision had one; its latest submission counts.
    assert "Ash Primary School" not in " ".join(candidates_table(page.text))
    assert {i for i in NAMES if NAMES[i] in text} >= UNEVIDENCED


def test_the_dip_sample_page_shows_each_organisations_candidates(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    qa, token = client_for(app, clean_db, world, "qa")
    with qa:
        data = {"csrf_token": token, "method": "simple", "size": "4", "seed": SEED}
        preview = qa.post(
            f"/campaigns/{world.campaign_id}/dip-samples/new", data={**data, "button": "preview"}
        )
        digest = re.search(r'name="previewed" value="([0-9a-f]+)"', preview.text)
        assert digest, visible_text(preview.text)[:2000]
        confirmed = qa.post(
            f"/campaigns/{world.campaign_id}/dip-samples/new",
            data={**data, "button": "confirm", "previewed": digest.group(1)},
        )
        assert confirmed.status_code == 303
        page = qa.get(confirmed.headers["location"])
    assert page.status_code == 200
    rows = sample_rows(page.text)
    assert set(rows) == {NAMES[i] for i in SIMPLE_FOUR}
    for identifier in SIMPLE_FOUR:
        row = rows[NAMES[identifier]]
        if identifier in UNEVIDENCED:
            assert "1 question: s175.1.1" in row, row
        else:
            assert re.search(r"random selection None (Not yet issued|None)", row), row
    assert 'href="/challenges/' in page.text, "each draft challenge is linked for QA"


def test_names_are_escaped_and_the_scrutineer_reads_the_list_too(
    app: Starlette, clean_db: Engine, world: World, population: Population
) -> None:
    with session_scope(clean_db, write=True) as db:
        org = db.get(Organisation, population.organisations["300011"])
        assert org is not None
        org.name = "Kestrel <b>Youth</b> Service"
        db.add(org)
    scrutineer, _ = client_for(app, clean_db, world, "scrutineer")
    with scrutineer:
        page = scrutineer.get(f"/campaigns/{world.campaign_id}/dip-samples")
    assert page.status_code == 200
    assert "Kestrel &lt;b&gt;Youth&lt;/b&gt; Service" in page.text
    assert "<b>Youth</b>" not in page.text
    assert "Kestrel <b>Youth</b> Service South 1: s175.1.1" in candidates_table(page.text)


def test_a_campaign_without_submitted_returns_has_no_candidates(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    qa, _ = client_for(app, clean_db, world, "qa")
    with qa:
        page = qa.get(f"/campaigns/{world.campaign_id}/dip-samples")
    text = visible_text(page.text)
    assert "no evidence described: 0." in text
    assert "None: every question rated green in a submitted return has evidence described." in text
