"""The QA sub-group reviews submitted evidence over HTTP: an outcome, a moderated rating from
the item's scale and a comment per item; a required action that joins the follow-up; the
organisation told and shown the outcomes on its challenge, return, summary and PDF; and the
refusals that store nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.audit import AuditContext
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    AuditEvent,
    EvidenceChallenge,
    ItemOutcome,
    OutboxEmail,
    Submission,
)
from audit_portal.reports.organisation_summary import OutcomeLine, build_summary, summary_pdf
from audit_portal.scoring import Score
from audit_portal.worker import run_reminders
from tests.builders import visible_text
from tests.challenge_builders import Challenge, issue_over_http, submitted_and_sampled
from tests.personas import World, signed_in

TODAY = date(2026, 4, 1)
DUE = date(2026, 5, 15)
ITEMS = ["s175.1.1", "s175.1.2"]  # both self-rated 'Partly in place' (amber)
ROBOT = AuditContext(actor_id=None, actor_label="test")


@pytest.fixture(autouse=True)
def on_the_first_of_april() -> Iterator[None]:
    with clock.travel(TODAY):
        yield


@contextmanager
def as_person(app: Starlette, engine: Engine, person: object) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, engine, person)  # type: ignore[arg-type]


@pytest.fixture
def issued(app: Starlette, clean_db: Engine, world: World) -> Challenge:
    made = submitted_and_sampled(app, clean_db, world)
    issue_over_http(app, clean_db, world, made.challenge_id, ITEMS, DUE)
    return made


@pytest.fixture
def submitted(app: Starlette, clean_db: Engine, world: World, issued: Challenge) -> Challenge:
    """The organisation gives a file for the first item, an explanation for the second, and
    submits."""
    cid = issued.challenge_id
    with as_person(app, clean_db, world.people["respondent_a"]) as (client, token):
        uploaded = client.post(
            f"/challenges/{cid}/items/s175.1.1/files",
            data={"csrf_token": token},
            files={"file": ("training-log.txt", b"Training log 2025\n", "text/plain")},
        )
        assert uploaded.status_code == 303, visible_text(uploaded.text)[:1000]
        saved = client.post(
            f"/challenges/{cid}",
            data={
                "csrf_token": token,
                "item-s175-1-2-explanation": "Visits are minuted <every> term.",
                "item-s175-1-2-version": "0",
            },
        )
        assert saved.status_code == 303
        done = client.post(f"/challenges/{cid}/submit", data={"csrf_token": token})
        assert done.status_code == 303
    return issued


def outcome_form(token: str, item_id: str, outcome: str, rating: str, **extra: str) -> dict:
    prefix = "item-" + item_id.replace(".", "-")
    return {
        "csrf_token": token,
        f"{prefix}-outcome": outcome,
        f"{prefix}-rating": rating,
        **{f"{prefix}-{k.replace('_', '-')}": v for k, v in extra.items()},
    }


def with_action(what: str, owner: str = "Designated safeguarding lead") -> dict[str, str]:
    return {
        "comment": "The log covers half the staff.",
        "add_action": "yes",
        "action_what": what,
        "action_owner": owner,
        "action_target_day": "31",
        "action_target_month": "7",
        "action_target_year": "2026",
    }


def emails(engine: Engine, subject_start: str) -> list[OutboxEmail]:
    with session_scope(engine, write=False) as db:
        return list(
            db.exec(
                select(OutboxEmail)
                .where(col(OutboxEmail.subject).startswith(subject_start))
                .order_by(col(OutboxEmail.id))
            )
        )


def outcomes(engine: Engine) -> list[ItemOutcome]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(ItemOutcome).order_by(col(ItemOutcome.id))))


def challenge_actions(engine: Engine) -> list[Action]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(Action).where(Action.source == "challenge")))


def submission_content(engine: Engine, submission_id: int) -> dict:
    with session_scope(engine, write=False) as db:
        found = db.get(Submission, submission_id)
        assert found is not None
        return dict(found.content)


def test_qa_reviews_every_item_and_the_organisation_sees_the_outcomes(
    app: Starlette, clean_db: Engine, world: World, submitted: Challenge
) -> None:
    cid = submitted.challenge_id
    frozen = submission_content(clean_db, submitted.submission_id)
    told_qa = emails(clean_db, "Evidence submitted: Alpha Primary School")
    assert [e.to_address for e in told_qa] == [world.people["qa"].email]
    assert f"http://127.0.0.1:8000/challenges/{cid}/review\n" in told_qa[0].body
    assert "2 items" in told_qa[0].body

    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        overview = visible_text(qa.get(f"/challenges/{cid}").text)
        assert "Review the evidence" in overview
        page = qa.get(f"/challenges/{cid}/review")
        assert page.status_code == 200
        text = visible_text(page.text)
        assert "Review the evidence from Alpha Primary School" in text
        assert "Self-rating Partly in place" in text
        assert "Visits are minuted <every> term." in text, "the explanation, escaped"
        assert "&lt;every&gt;" in page.text
        assert 'href="/evidence/' in page.text and "training-log.txt" in text
        assert "Substantiated" in text and "Not in place (red)" in text
        assert "Items with an outcome 0 of 2" in text

        first = qa.post(
            f"/challenges/{cid}/items/s175.1.1/outcome",
            data=outcome_form(
                token,
                "s175.1.1",
                "partly_substantiated",
                "1",
                **with_action("Train the remaining staff"),
            ),
        )
        assert first.status_code == 303
        after_first = visible_text(qa.get(f"/challenges/{cid}/review").text)
        assert "The required action has been added to Alpha Primary School's" in after_first
        assert "Items with an outcome 1 of 2" in after_first
        assert "Outcome recorded: Partly substantiated. Moderated rating: Not in place" in (
            after_first
        )

    with as_person(app, clean_db, world.people["respondent_a"]) as (org, _):
        waiting = visible_text(org.get(f"/challenges/{cid}").text)
        assert "Moderated rating" not in waiting, "nothing shown until every item has one"
    assert emails(clean_db, "Evidence reviewed") == []

    with as_person(app, clean_db, world.people["admin"]) as (admin, token):
        second = admin.post(
            f"/challenges/{cid}/items/s175.1.2/outcome",
            data=outcome_form(token, "s175.1.2", "substantiated", "3", comment="Minutes seen."),
        )
        assert second.status_code == 303

    with session_scope(clean_db, write=False) as db:
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None
        assert challenge.stage == "reviewed" and challenge.reviewed_at is not None
    stored = outcomes(clean_db)
    assert [(o.item_id, o.outcome, o.moderated_rating, o.moderated_rag) for o in stored] == [
        ("s175.1.1", "partly_substantiated", "1", "red"),
        ("s175.1.2", "substantiated", "3", "green"),
    ]
    assert {o.submission_id for o in stored} == {submitted.submission_id}
    [action] = challenge_actions(clean_db)
    assert stored[0].action_id == action.id and stored[1].action_id is None
    assert (action.what, action.owner, action.item_id) == (
        "Train the remaining staff",
        "Designated safeguarding lead",
        "s175.1.1",
    )
    assert submission_content(clean_db, submitted.submission_id) == frozen, "never changed"

    reviewed = emails(clean_db, "Evidence reviewed: Alpha Primary School")
    assert {e.to_address for e in reviewed} == {
        world.people["respondent_a"].email,
        world.people["signatory_a"].email,
    }
    body = reviewed[0].body
    assert "The partnership has reviewed your evidence" in body
    assert "1 substantiated, 1 partly substantiated" in body
    assert "1 required action" in body
    assert f"http://127.0.0.1:8000/challenges/{cid}\n" in body

    return_id = submitted.return_id
    with as_person(app, clean_db, world.people["signatory_a"]) as (org, _):
        page_text = visible_text(org.get(f"/challenges/{cid}").text)
        assert "Outcome Partly substantiated" in page_text
        assert "Moderated rating Not in place" in page_text
        assert "The log covers half the staff." in page_text
        assert "Required action Train the remaining staff" in page_text
        overview = visible_text(org.get(f"/returns/{return_id}").text)
        assert "Evidence challenge outcomes" in overview
        assert "s175.1.1" in overview and "Partly substantiated" in overview
        summary = visible_text(org.get(f"/returns/{return_id}/summary").text)
        assert "Outcomes and moderated ratings" in summary
        assert "Not in place" in summary and "Minutes seen." in summary
        pdf = org.get(f"/returns/{return_id}/summary.pdf")
        assert pdf.status_code == 200
        pages = PdfReader(io.BytesIO(pdf.content)).pages
        printed = " ".join(" ".join(p.extract_text() for p in pages).split())
        assert "Evidence challenge" in printed
        assert "Partly substantiated" in printed and "Minutes seen." in printed
        assert "Required action: Train the remaining staff" in printed
        follow_up = visible_text(org.get(f"/returns/{return_id}/follow-up").text)
        assert "Train the remaining staff" in follow_up
        assert org.get(f"/challenges/{cid}/review").status_code == 403


def test_reviewing_again_replaces_the_outcome_and_never_adds_a_second_action(
    app: Starlette, clean_db: Engine, world: World, submitted: Challenge
) -> None:
    cid = submitted.challenge_id
    url = f"/challenges/{cid}/items/s175.1.1/outcome"
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        first = outcome_form(
            token, "s175.1.1", "partly_substantiated", "2", **with_action("Train everyone")
        )
        assert qa.post(url, data=first).status_code == 303
        again = outcome_form(
            token, "s175.1.1", "not_substantiated", "1", **with_action("Another action")
        )
        assert qa.post(url, data=again).status_code == 303
        page = visible_text(qa.get(f"/challenges/{cid}/review").text)
        assert "A required action was added when this item was first reviewed" in page
        same = qa.post(url, data=again)
        assert same.status_code == 303
        assert "Nothing had changed." in visible_text(qa.get(f"/challenges/{cid}/review").text)
    [stored] = outcomes(clean_db)
    assert (stored.outcome, stored.moderated_rating, stored.moderated_rag) == (
        "not_substantiated",
        "1",
        "red",
    )
    [action] = challenge_actions(clean_db)
    assert action.what == "Train everyone" and stored.action_id == action.id
    assert len(emails(clean_db, "Action added: Alpha Primary School")) == 2, "told once (x2)"
    with session_scope(clean_db, write=False) as db:
        events = list(
            db.exec(
                select(AuditEvent)
                .where(col(AuditEvent.action).startswith("challenge.outcome"))
                .order_by(col(AuditEvent.id))
            )
        )
        challenge = db.get(EvidenceChallenge, cid)
        assert challenge is not None and challenge.stage == "submitted", "one item still open"
    assert [e.action for e in events] == [
        "challenge.outcome_recorded",
        "challenge.outcome_changed",
    ]
    changed = events[1]
    assert changed.old is not None and changed.new is not None
    assert changed.old["outcome"] == "partly_substantiated"
    assert changed.new["outcome"] == "not_substantiated"
    assert changed.old["moderated_rating"] == "2"
    assert changed.new["moderated_rating"] == "1"


def test_the_action_joins_the_follow_up_and_its_reminders(
    app: Starlette, settings: Settings, clean_db: Engine, world: World, submitted: Challenge
) -> None:
    cid = submitted.challenge_id
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        form = outcome_form(
            token, "s175.1.1", "not_substantiated", "1", **with_action("Write a new policy")
        )
        assert qa.post(f"/challenges/{cid}/items/s175.1.1/outcome", data=form).status_code == 303
    with as_person(app, clean_db, world.people["respondent_a"]) as (org, _):
        page = visible_text(org.get(f"/returns/{submitted.return_id}/follow-up").text)
        assert "Action 3: Write a new policy" in page
    with clock.travel(date(2026, 8, 2)):  # 30 days before the follow-up is due
        run = run_reminders(clean_db, settings, ROBOT)
    assert len(run.queued) == 1
    reminders = emails(clean_db, "Reminder: the six-month follow-up")
    assert reminders and "Alpha Primary School" in reminders[0].subject
    assert f"/returns/{submitted.return_id}/follow-up" in reminders[0].body


def test_reviewing_before_the_evidence_is_submitted_is_refused(
    app: Starlette, clean_db: Engine, world: World, issued: Challenge
) -> None:
    cid = issued.challenge_id
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        page = qa.get(f"/challenges/{cid}/review")
        assert page.status_code == 409
        assert "has not submitted its evidence yet" in visible_text(page.text)
        refused = qa.post(
            f"/challenges/{cid}/items/s175.1.1/outcome",
            data=outcome_form(token, "s175.1.1", "substantiated", "3"),
        )
        assert refused.status_code == 409
        assert "has not submitted its evidence yet" in visible_text(refused.text)
        assert "Review the evidence" not in visible_text(qa.get(f"/challenges/{cid}").text)
    assert outcomes(clean_db) == []


def test_bad_reviews_and_the_wrong_people_store_nothing(
    app: Starlette, clean_db: Engine, world: World, submitted: Challenge
) -> None:
    cid = submitted.challenge_id
    url = f"/challenges/{cid}/items/s175.1.1/outcome"
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        not_challenged = qa.post(
            f"/challenges/{cid}/items/s175.2.1/outcome",
            data=outcome_form(token, "s175.2.1", "substantiated", "3"),
        )
        assert not_challenged.status_code == 404
        off_scale = qa.post(url, data=outcome_form(token, "s175.1.1", "substantiated", "7"))
        assert off_scale.status_code == 400
        off_text = visible_text(off_scale.text)
        assert "Choose a moderated rating from the questionnaire's scale" in off_text
        assert 'href="#item-s175-1-1-rating"' in off_scale.text, "the error summary links"
        no_outcome = qa.post(url, data=outcome_form(token, "s175.1.1", "maybe", "3"))
        assert no_outcome.status_code == 400
        assert "Choose whether the evidence substantiates the rating" in visible_text(
            no_outcome.text
        )
        too_long = qa.post(
            url, data=outcome_form(token, "s175.1.1", "substantiated", "3", comment="x" * 2001)
        )
        assert too_long.status_code == 400
        assert "The comment must be 2,000 characters or fewer" in visible_text(too_long.text)
        substantiated_action = qa.post(
            url,
            data=outcome_form(token, "s175.1.1", "substantiated", "3", **with_action("Nothing")),
        )
        assert substantiated_action.status_code == 400
        assert "A required action can only be added when the evidence is not" in visible_text(
            substantiated_action.text
        )
        no_owner = qa.post(
            url,
            data=outcome_form(
                token, "s175.1.1", "not_substantiated", "1", **with_action("Kept text", owner="")
            ),
        )
        assert no_owner.status_code == 400
        assert "Enter who owns the action" in visible_text(no_owner.text)
        assert "Kept text</textarea>" in no_owner.text, "what was typed is kept"
        assert 'value="not_substantiated" checked' in no_owner.text
    for persona in ("respondent_a", "signatory_a", "respondent_b", "scrutineer"):
        with as_person(app, clean_db, world.people[persona]) as (client, token):
            attempt = client.post(url, data=outcome_form(token, "s175.1.1", "substantiated", "3"))
            assert attempt.status_code == 403, persona
            assert client.get(f"/challenges/{cid}/review").status_code == 403, persona
    assert outcomes(clean_db) == []
    assert challenge_actions(clean_db) == []
    with session_scope(clean_db, write=False) as db:
        events = db.exec(
            select(AuditEvent).where(col(AuditEvent.action).startswith("challenge.outcome"))
        ).all()
        assert events == []


def long_text(limit: int, spaced: bool) -> str:
    if not spaced:
        return ("W" * (limit - 3)) + "END"
    return ("WMWMWMWMW " * (limit // 10 + 1))[: limit - 4] + " END"


@pytest.mark.parametrize("spaced", [True, False])
def test_long_outcomes_split_across_pages_of_the_summary_pdf(spaced: bool) -> None:
    from audit_portal.questionnaires.model import Definition
    from tests.factories import definition, item

    d = Definition.model_validate(
        definition(
            sections=[{"id": "s175.1", "title": "One", "items": [item("s175.1.1", prompt="Q")]}]
        )
    )
    lines = [
        OutcomeLine(
            item_id="s175.1.1",
            prompt=long_text(3000, spaced),
            self_rating="Fully in place",
            self_rag="green",
            moderated_rating="Not in place",
            moderated_rag="red",
            outcome="Not substantiated",
            comment=long_text(2000, spaced),
            action=long_text(2000, spaced),
        )
        for _ in range(3)
    ]
    summary = build_summary(
        definition=d,
        score=Score({"s175.1.1": "green"}, {"s175.1": "green"}, "green", ()),
        answers={},
        actions=[],
        organisation="Alpha",
        partnership="Partnership",
        campaign="Schools audit",
        status="Submitted",
        follow_up_due=None,
        signed="Signed",
        outcomes=lines,
    )
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(summary_pdf(summary))).pages]
    assert " ".join(pages).count("END") >= 9, "every long prompt, comment and action ends"
    assert len(pages) >= 3
