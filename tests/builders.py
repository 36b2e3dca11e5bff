"""Builders for return tests over HTTP and in the browser: forms that answer a section, last
year's submission, and what a person reads in a page of HTML."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.config import PROJECT_ROOT
from audit_portal.db import session_scope
from audit_portal.models import Campaign, Organisation, Return, Submission
from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.model import Item
from audit_portal.returns.answers import field_prefix
from audit_portal.returns.editing import profile_of
from audit_portal.scoring import applies
from tests.personas import World, signed_in

CATALOGUE = load_catalogue(PROJECT_ROOT / "questionnaires")
SCHOOLS = CATALOGUE.get("section-175-schools", "2025.1")
SCHOOLS_2022 = CATALOGUE.get("section-175-schools", "2022.1")


def visible_text(html: str) -> str:
    """The text a person reads: tags gone, entities decoded, spaces collapsed."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())


def section_items(engine: Engine, world: World, section_id: str) -> list[Item]:
    """The items of a school standard that apply to organisation A (a primary school)."""
    assert SCHOOLS is not None
    with session_scope(engine, write=False) as db:
        org = db.get(Organisation, world.org_a)
        assert org is not None
        profile = profile_of(org)
    section = next(s for s in SCHOOLS.sections if s.id == section_id)
    return [i for i in section.items if applies(i, profile)]


def all_green(items: list[Item], token: str, **overrides: str) -> dict[str, str]:
    """A section form answering every item at its best (or a plain value)."""
    data = {"csrf_token": token}
    for item in items:
        prefix = field_prefix(item.id)
        if item.kind == "rating":
            data[f"{prefix}-value"] = "3"
        elif item.kind == "number":
            data[f"{prefix}-value"] = "2"
        elif item.kind == "date":
            data.update(
                {
                    f"{prefix}-value-day": "1",
                    f"{prefix}-value-month": "9",
                    f"{prefix}-value-year": "2025",
                }
            )
        elif item.kind == "yes_no":
            data[f"{prefix}-value"] = "yes"
        elif item.kind in {"single_choice", "multiple_choice"}:
            data[f"{prefix}-value"] = (item.options or [])[0].value
        else:
            data[f"{prefix}-value"] = "Written answer"
    data.update(overrides)
    return data


def answer_everything(
    client: TestClient,
    token: str,
    return_id: int,
    engine: Engine,
    world: World,
    skip: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Answer every standard of organisation A's return (but those in ``skip``) as fully in
    place."""
    assert SCHOOLS is not None
    for section in SCHOOLS.sections:
        items = section_items(engine, world, section.id)
        if not items or section.id in skip:
            continue
        response = client.post(
            f"/returns/{return_id}/sections/{section.id}", data=all_green(items, token)
        )
        assert response.status_code == 303, (section.id, response.text[:3000])


def last_years_submission(engine: Engine, world: World) -> None:
    """Organisation A's accepted 2023 return, on the 2022.1 school questionnaire."""
    assert SCHOOLS_2022 is not None
    with session_scope(engine, write=True) as db:
        campaign = Campaign(
            title="Schools audit 2023",
            questionnaire_key="section-175-schools",
            questionnaire_version="2022.1",
            opens_on=date(2023, 1, 9),
            closes_on=date(2023, 3, 31),
            status="closed",
        )
        db.add(campaign)
        db.flush()
        assert campaign.id is not None
        ret = Return(campaign_id=campaign.id, organisation_id=world.org_a, status="accepted")
        db.add(ret)
        db.flush()
        assert ret.id is not None
        answers = {
            i.id: {
                "value": 3 if i.kind == "rating" else 2,
                "not_applicable": False,
                "na_reason": "",
                "narrative": f"Last year about {i.id}",
                "evidence": "",
            }
            for i in SCHOOLS_2022.items()
        }
        db.add(
            Submission(
                return_id=ret.id,
                revision=1,
                declaration_name="Hal",
                declaration_role="Head",
                declaration_date=date(2023, 3, 20),
                questionnaire_key="section-175-schools",
                questionnaire_version="2022.1",
                questionnaire_hash="a" * 64,
                content={"answers": answers, "actions": [], "score": {}},
            )
        )


AMBER_ITEMS = ("s175.1.1", "s175.1.2")


def submit_with_two_ambers(app: Starlette, engine: Engine, world: World, on: date) -> int:
    """Organisation A's return, every standard in place except two rated 'Partly in place',
    each with a narrative and an action, signed by its signatory on ``on``."""
    return_id = world.returns[world.org_a]
    with clock.travel(on):
        with TestClient(app, follow_redirects=False) as client:
            token = signed_in(client, engine, world.people["respondent_a"])
            answer_everything(client, token, return_id, engine, world, skip={"s175.1"})
            for number, item_id in enumerate(AMBER_ITEMS, start=1):
                prefix = f"{field_prefix(item_id)}-action"
                data = two_ambers_form(client, engine, world, token) | {
                    "add_action": item_id,
                    f"{prefix}-what": f"Action {number} for {item_id}",
                    f"{prefix}-owner": "Deputy head",
                    f"{prefix}-target-day": "31",
                    f"{prefix}-target-month": "7",
                    f"{prefix}-target-year": str(on.year),
                }
                saved = client.post(f"/returns/{return_id}/sections/s175.1", data=data)
                assert saved.status_code == 303, visible_text(saved.text)[:2000]
        with TestClient(app, follow_redirects=False) as head:
            token = signed_in(head, engine, world.people["signatory_a"])
            declaration = {"name": "Hal Head", "role": "Headteacher", "confirm": "yes"}
            done = head.post(
                f"/returns/{return_id}/submit", data={"csrf_token": token, **declaration}
            )
            assert done.status_code == 200, visible_text(done.text)[:2000]
    return return_id


def two_ambers_form(
    client: TestClient, engine: Engine, world: World, token: str, **extra: str
) -> dict[str, str]:
    """Standard 1 of organisation A's return as a browser sends it: every item in place but
    the two amber ones, with the versions the page holds (so no conflict)."""
    return_id = world.returns[world.org_a]
    overrides = {}
    for item_id in AMBER_ITEMS:
        prefix = field_prefix(item_id)
        overrides |= {f"{prefix}-value": "2", f"{prefix}-narrative": "Half done"}
    page = client.get(f"/returns/{return_id}/sections/s175.1").text
    versions = dict(re.findall(r'name="(item-[a-z0-9-]+-version)" value="(\d+)"', page))
    items = section_items(engine, world, "s175.1")
    return all_green(items, token, **overrides) | versions | extra


def invite(client: TestClient, token: str, **fields: str):  # type: ignore[no-untyped-def]
    """Invite Nia Newcomer through the People page (fields override the defaults)."""
    data = {
        "csrf_token": token,
        "full_name": "Nia Newcomer",
        "email": "Nia@School.example",
        "role": "respondent",
        **fields,
    }
    return client.post("/users/invite", data=data)
