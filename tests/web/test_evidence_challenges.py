"""Evidence challenges over HTTP: QA chooses items and a due date and issues the challenge (the
organisation is emailed with a link); the organisation explains and submits; QA extends a due
date; another organisation sees nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, ChallengedItem, EvidenceChallenge, OutboxEmail
from tests.builders import visible_text
from tests.challenge_builders import Challenge, issue_over_http, submitted_and_sampled
from tests.personas import World, signed_in

TODAY = date(2026, 4, 1)
DUE = date(2026, 5, 15)


@pytest.fixture
def sampled(app: Starlette, clean_db: Engine, world: World) -> Challenge:
    return submitted_and_sampled(app, clean_db, world)


@pytest.fixture(autouse=True)
def on_the_first_of_april():  # type: ignore[no-untyped-def]
    with clock.travel(TODAY):
        yield


def offered(html: str) -> list[str]:
    """The item checkboxes ticked on the set-up page."""
    return re.findall(r'name="items" type="checkbox" value="([^"]+)" checked', html)


def test_qa_issues_a_challenge_and_the_organisation_is_emailed_a_link(
    app: Starlette, clean_db: Engine, world: World, sampled: Challenge
) -> None:
    cid = sampled.challenge_id
    with TestClient(app, follow_redirects=False) as qa:
        token = signed_in(qa, clean_db, world.people["qa"])
        setup = qa.get(f"/challenges/{cid}/setup")
        assert setup.status_code == 200
        text = visible_text(setup.text)
        assert "Choose the evidence to ask Alpha Primary School for" in text
        assert f"Sample seed {424242}" in text
        greens = offered(setup.text)
        assert greens and "s175.1.1" not in greens, "amber items are not offered as green"
        random_pick = offered(qa.get(f"/challenges/{cid}/setup?mode=random&count=3").text)
        assert len(random_pick) == 3
        assert offered(qa.get(f"/challenges/{cid}/setup?mode=random&count=3").text) == (
            random_pick
        ), "the same seed offers the same items"
        chosen = ["s175.1.1", greens[0]]
        issued = qa.post(
            f"/challenges/{cid}/setup",
            data={
                "csrf_token": token,
                "items": chosen,
                "due-day": "15",
                "due-month": "5",
                "due-year": "2026",
            },
        )
        assert issued.status_code == 303
        page = visible_text(qa.get(f"/challenges/{cid}").text)
        assert "The challenge has been issued." in page
        assert "Waiting for evidence" in page and "15 May 2026" in page
    with session_scope(clean_db, write=False) as db:
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None
        assert challenge.stage == "issued" and challenge.due_on == DUE
        items = db.exec(select(ChallengedItem).order_by(col(ChallengedItem.id))).all()
        assert [(i.item_id, i.self_rating, i.self_rag) for i in items] == [
            ("s175.1.1", "2", "amber"),
            (greens[0], "3", "green"),
        ]
        emails = db.exec(
            select(OutboxEmail).where(col(OutboxEmail.subject).startswith("Evidence requested"))
        ).all()
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "challenge.issued")).all()
    assert {e.to_address for e in emails} == {
        world.people["respondent_a"].email,
        world.people["signatory_a"].email,
    }
    email = emails[0]
    assert email.subject == "Evidence requested: Alpha Primary School, 2 items by 15 May 2026"
    assert "Alpha Primary School" in email.body and "2 items" in email.body
    assert f"http://127.0.0.1:8000/challenges/{cid}\n" in email.body
    assert len(events) == 1


def test_issuing_needs_items_and_a_due_date_in_the_future(
    app: Starlette, clean_db: Engine, world: World, sampled: Challenge
) -> None:
    cid = sampled.challenge_id
    with TestClient(app, follow_redirects=False) as qa:
        token = signed_in(qa, clean_db, world.people["qa"])
        past = qa.post(
            f"/challenges/{cid}/setup",
            data={
                "csrf_token": token,
                "items": ["s175.1.1"],
                "due-day": "1",
                "due-month": "3",
                "due-year": "2026",
            },
        )
        assert past.status_code == 400
        assert "The date the evidence is due must be in the future" in visible_text(past.text)
        assert 'value="s175.1.1" checked' in past.text, "the choice is kept"
        nothing = qa.post(
            f"/challenges/{cid}/setup",
            data={"csrf_token": token, "due-day": "1", "due-month": "5", "due-year": "2026"},
        )
        assert nothing.status_code == 400
        assert "Choose at least one item to challenge" in visible_text(nothing.text)
    with session_scope(clean_db, write=False) as db:
        assert db.get(EvidenceChallenge, cid).stage == "draft"  # type: ignore[union-attr]
        assert db.exec(select(ChallengedItem)).all() == []


def test_a_draft_is_not_shown_to_the_organisation(
    app: Starlette, clean_db: Engine, world: World, sampled: Challenge
) -> None:
    with TestClient(app, follow_redirects=False) as respondent:
        signed_in(respondent, clean_db, world.people["respondent_a"])
        assert respondent.get(f"/challenges/{sampled.challenge_id}").status_code == 404
        assert "Evidence requested" not in respondent.get("/dashboard").text


def test_the_organisation_explains_and_submits_and_the_evidence_is_frozen(
    app: Starlette, clean_db: Engine, world: World, sampled: Challenge
) -> None:
    cid = sampled.challenge_id
    issue_over_http(app, clean_db, world, cid, ["s175.1.1", "s175.1.2"], DUE)
    with TestClient(app, follow_redirects=False) as respondent:
        token = signed_in(respondent, clean_db, world.people["respondent_a"])
        home = visible_text(respondent.get("/dashboard").text)
        assert "Evidence requested" in home
        assert "Alpha Primary School: evidence for Schools audit 2026 , due 15 May 2026" in home
        overview = visible_text(respondent.get(f"/returns/{sampled.return_id}").text)
        assert "Evidence challenge" in overview and "Waiting for evidence" in overview
        page = respondent.get(f"/challenges/{cid}")
        text = visible_text(page.text)
        assert "You rated it Partly in place" in text or "You rated it" in text
        saved = respondent.post(
            f"/challenges/{cid}",
            data={
                "csrf_token": token,
                "item-s175-1-1-explanation": "Our governors' minutes of 3 March record it.",
                "item-s175-1-1-version": "0",
                "item-s175-1-2-version": "0",
            },
        )
        assert saved.status_code == 303
        early = respondent.post(f"/challenges/{cid}/submit", data={"csrf_token": token})
        assert early.status_code == 400
        assert "Item s175.1.2: upload a file or write an explanation" in visible_text(early.text)
        respondent.post(
            f"/challenges/{cid}",
            data={
                "csrf_token": token,
                "item-s175-1-2-explanation": "Visits are minuted; see the log.",
                "item-s175-1-2-version": "0",
            },
        )
        done = respondent.post(f"/challenges/{cid}/submit", data={"csrf_token": token})
        assert done.status_code == 303
        after = visible_text(respondent.get(f"/challenges/{cid}").text)
        assert "Your evidence has been submitted." in after and "Evidence submitted" in after
        assert "Save explanations" not in after
        late = respondent.post(
            f"/challenges/{cid}",
            data={
                "csrf_token": token,
                "item-s175-1-2-explanation": "Changed my mind",
                "item-s175-1-2-version": "1",
            },
        )
        assert late.status_code == 409
        assert "can no longer be changed" in visible_text(late.text)
    with session_scope(clean_db, write=False) as db:
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None and challenge.stage == "submitted"
        assert challenge.submitted_by == world.people["respondent_a"].user_id
        items = {i.item_id: i for i in db.exec(select(ChallengedItem))}
    assert items["s175.1.2"].explanation == "Visits are minuted; see the log."
    assert items["s175.1.1"].version == 1


def test_a_colleagues_save_is_a_conflict_and_nothing_typed_is_lost(
    app: Starlette, clean_db: Engine, world: World, sampled: Challenge
) -> None:
    cid = sampled.challenge_id
    issue_over_http(app, clean_db, world, cid, ["s175.1.1"], DUE)
    with (
        TestClient(app, follow_redirects=False) as first,
        TestClient(app, follow_redirects=False) as second,
    ):
        one = signed_in(first, clean_db, world.people["respondent_a"])
        two = signed_in(second, clean_db, world.people["signatory_a"])
        base = {"item-s175-1-1-version": "0"}
        assert (
            first.post(
                f"/challenges/{cid}",
                data={**base, "csrf_token": one, "item-s175-1-1-explanation": "First words"},
            ).status_code
            == 303
        )
        clash = second.post(
            f"/challenges/{cid}",
            data={**base, "csrf_token": two, "item-s175-1-1-explanation": "Second <words>"},
        )
        assert clash.status_code == 400
        assert "A colleague saved a different explanation" in visible_text(clash.text)
        assert "Second &lt;words&gt;</textarea>" in clash.text
        again = second.post(
            f"/challenges/{cid}",
            data={
                "item-s175-1-1-version": "1",
                "csrf_token": two,
                "item-s175-1-1-explanation": "Second <words>",
            },
        )
        assert again.status_code == 303
        too_long = second.post(
            f"/challenges/{cid}",
            data={
                "item-s175-1-1-version": "2",
                "csrf_token": two,
                "item-s175-1-1-explanation": "x" * 5001,
            },
        )
        assert too_long.status_code == 400
        assert "5,000 characters or fewer" in visible_text(too_long.text)
    with session_scope(clean_db, write=False) as db:
        item = db.exec(select(ChallengedItem)).one()
    assert (item.explanation, item.version) == ("Second <words>", 2)


def test_qa_extends_the_due_date_and_another_organisation_sees_nothing(
    app: Starlette, clean_db: Engine, world: World, sampled: Challenge
) -> None:
    cid = sampled.challenge_id
    issue_over_http(app, clean_db, world, cid, ["s175.1.1"], DUE)
    with TestClient(app, follow_redirects=False) as qa:
        token = signed_in(qa, clean_db, world.people["qa"])
        earlier = qa.post(
            f"/challenges/{cid}/due-date",
            data={"csrf_token": token, "due-day": "1", "due-month": "5", "due-year": "2026"},
        )
        assert earlier.status_code == 400
        assert "must be later than the current one, 15 May 2026" in visible_text(earlier.text)
        later = qa.post(
            f"/challenges/{cid}/due-date",
            data={"csrf_token": token, "due-day": "12", "due-month": "6", "due-year": "2026"},
        )
        assert later.status_code == 303
    with TestClient(app, follow_redirects=False) as other:
        signed_in(other, clean_db, world.people["respondent_b"])
        assert other.get(f"/challenges/{cid}").status_code == 404
        assert "Evidence requested" not in other.get("/dashboard").text
    with session_scope(clean_db, write=False) as db:
        assert db.get(EvidenceChallenge, cid).due_on == date(2026, 6, 12)  # type: ignore[union-attr]
        told = db.exec(
            select(OutboxEmail).where(col(OutboxEmail.subject).startswith("More time"))
        ).all()
        assert len(told) == 2 and "12 June 2026" in told[0].subject
