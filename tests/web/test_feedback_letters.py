"""Feedback letters over HTTP: the first draft carries the organisation's real figures and its
peers' (or says why not), QA edits, saves and sends it once through the outbox, and the
organisation reads exactly what was sent and never a draft."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from fractions import Fraction
from math import floor

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, FeedbackLetter, OutboxEmail
from tests.builders import AMBER_ITEMS, section_items, submit_with_two_ambers, visible_text
from tests.feedback_builders import SECTION, add_peers
from tests.personas import World, signed_in

TODAY = date(2026, 4, 1)
SUBJECT = "Feedback on your safeguarding self-assessment"
EDITED = "Dear colleagues at Alpha,\n\nWell done on <script>alert('governors')</script> & more.\n"


@pytest.fixture(autouse=True)
def on_the_first_of_april() -> Iterator[None]:
    with clock.travel(TODAY):
        yield


@contextmanager
def as_person(app: Starlette, engine: Engine, person: object) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, engine, person)  # type: ignore[arg-type]


@pytest.fixture
def submitted(app: Starlette, clean_db: Engine, world: World) -> int:
    """Organisation A's return, signed on 1 March with two items of standard 1 amber."""
    return submit_with_two_ambers(app, clean_db, world, date(2026, 3, 1))


def percent(numerator: int, denominator: int) -> int:
    return floor(Fraction(100 * numerator, denominator) + Fraction(1, 2))


def share(numerator: int, denominator: int) -> str:
    return f"{percent(numerator, denominator)}% ({numerator} of {denominator})"


def own_standard_one(engine: Engine, world: World) -> str:
    rated = [i for i in section_items(engine, world, SECTION) if i.kind == "rating"]
    return share(len(rated) - len(AMBER_ITEMS), len(rated))


def draft_text(client: TestClient, return_id: int) -> str:
    page = client.get(f"/feedback-letters/{return_id}")
    assert page.status_code == 200, visible_text(page.text)[:2000]
    found = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found is not None
    return visible_text(found.group(1))


def test_the_first_draft_carries_the_returns_figures_and_its_peers(
    app: Starlette, clean_db: Engine, world: World, submitted: int
) -> None:
    peers = add_peers(clean_db, world, 5, weak=2)
    add_peers(clean_db, world, 5, weak=5, kind="early-years")  # another kind: never counted
    with as_person(app, clean_db, world.people["qa"]) as (client, _):
        letter = draft_text(client, submitted)
    assert letter.startswith("Dear colleagues at Alpha Primary School,")
    assert "signed by Hal Head, Headteacher, on 1 March 2026" in letter
    assert "5 other schools and colleges have submitted a return in this campaign" in letter
    expected = (
        f"Governance and strategic leadership: yours {own_standard_one(clean_db, world)}; "
        f"other schools and colleges {share(peers.effective, peers.rated)}."
    )
    assert expected in letter
    assert "s175.1.1 " in letter and "You rated it Partly in place." in letter
    assert "Please send your six-month update on your actions by 1 September 2026." in letter
    assert "We did not ask you for evidence on any item of this return." in letter
    partnership = app.state.settings.partnership_name
    assert letter.endswith(f"Yours sincerely, The quality assurance group {partnership}")


@pytest.mark.parametrize("count", [1, 4])
def test_the_comparison_is_withheld_when_fewer_peers_than_the_threshold(
    app: Starlette, clean_db: Engine, world: World, submitted: int, count: int
) -> None:
    add_peers(clean_db, world, count, weak=1)
    add_peers(clean_db, world, 6, kind="agency")  # plenty of another kind: no help
    with as_person(app, clean_db, world.people["admin"]) as (client, _):
        letter = draft_text(client, submitted)
    assert (
        "Fewer than 5 other schools and colleges have submitted a return in this campaign, so "
        "we do not compare your ratings with theirs" in letter
    )
    assert "other schools and colleges have submitted a return in this campaign." not in letter
    assert not re.search(r"other schools and colleges \d+%", letter)


def test_qa_edits_and_sends_and_the_organisation_reads_only_what_was_sent(
    app: Starlette, clean_db: Engine, world: World, submitted: int
) -> None:
    url = f"/feedback-letters/{submitted}"
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        saved = qa.post(url, data={"csrf_token": token, "body": EDITED, "version": "0"})
        assert saved.status_code == 303
        assert draft_text(qa, submitted) == visible_text(EDITED.replace("<", "&lt;"))

    with as_person(app, clean_db, world.people["respondent_a"]) as (member, _):
        before = member.get(f"/returns/{submitted}/feedback")
        assert before.status_code == 200
        assert "has not sent a feedback letter about this return yet" in visible_text(before.text)
        assert "Well done" not in before.text
        assert "Well done" not in member.get(f"/returns/{submitted}").text
        assert member.get(url).status_code == 403  # the editor is the partnership's

    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        sent = qa.post(f"{url}/send", data={"csrf_token": token, "version": "1"})
        assert sent.status_code == 303
        again = qa.post(f"{url}/send", data={"csrf_token": token, "version": "1"})
        assert again.status_code == 303
        assert "It has not been changed or sent again" in visible_text(qa.get(url).text)
        late = qa.post(url, data={"csrf_token": token, "body": "Changed", "version": "1"})
        assert late.status_code == 303

    with session_scope(clean_db, write=False) as db:
        emails = db.exec(
            select(OutboxEmail).where(col(OutboxEmail.subject).startswith(SUBJECT))
        ).all()
        letter = db.exec(select(FeedbackLetter)).one()
        events = [e.action for e in db.exec(select(AuditEvent)).all()]
    assert sorted(e.to_address for e in emails) == [
        "respondent_a@test.example",
        "signatory_a@test.example",
    ]
    assert {e.body for e in emails} == {EDITED}
    assert letter.status == "sent" and letter.body == EDITED
    assert sorted(letter.sent_to) == ["respondent_a@test.example", "signatory_a@test.example"]
    assert events.count("feedback_letter.draft_saved") == 1
    assert events.count("feedback_letter.sent") == 1

    with as_person(app, clean_db, world.people["signatory_a"]) as (member, _):
        page = member.get(f"/returns/{submitted}/feedback")
        assert "Well done on <script>alert('governors')</script> & more." in visible_text(page.text)
        assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
        overview = visible_text(member.get(f"/returns/{submitted}").text)
        assert "Read the partnership's feedback letter , sent on 1 April 2026." in overview

    with as_person(app, clean_db, world.people["respondent_b"]) as (other, _):
        assert other.get(f"/returns/{submitted}/feedback").status_code == 404


def test_the_scrutineer_cannot_open_edit_or_send_a_letter(
    app: Starlette, clean_db: Engine, world: World, submitted: int
) -> None:
    url = f"/feedback-letters/{submitted}"
    with as_person(app, clean_db, world.people["scrutineer"]) as (client, token):
        assert client.get(url).status_code == 403
        refused = client.post(url, data={"csrf_token": token, "body": "Mine", "version": "0"})
        assert refused.status_code == 403
        assert (
            client.post(f"{url}/send", data={"csrf_token": token, "version": "1"}).status_code
            == 403
        )
        assert client.get(f"/returns/{submitted}/feedback").status_code == 404  # scoped
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FeedbackLetter)).all() == []


def test_a_save_based_on_an_older_version_is_a_conflict_not_an_overwrite(
    app: Starlette, clean_db: Engine, world: World, submitted: int
) -> None:
    url = f"/feedback-letters/{submitted}"
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        first = qa.post(url, data={"csrf_token": token, "body": "First text", "version": "0"})
        assert first.status_code == 303
        second = qa.post(url, data={"csrf_token": token, "body": "Second text", "version": "0"})
        assert second.status_code == 409
        shown = visible_text(second.text)
        assert "saved this letter after you opened it" in shown
        assert "There is a problem" in shown
        stale = qa.post(f"{url}/send", data={"csrf_token": token, "version": "7"})
        assert stale.status_code == 409
    with session_scope(clean_db, write=False) as db:
        letter = db.exec(select(FeedbackLetter)).one()
        assert (letter.body, letter.version, letter.status) == ("First text\n", 1, "draft")
        assert (
            db.exec(select(OutboxEmail).where(col(OutboxEmail.subject).startswith(SUBJECT))).all()
            == []
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [(" \n ", "Enter the text of the letter"), ("x" * 20_001, "20,000 characters or fewer")],
)
def test_empty_or_over_long_text_is_refused_with_an_error_summary(
    app: Starlette, clean_db: Engine, world: World, submitted: int, body: str, message: str
) -> None:
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        refused = qa.post(
            f"/feedback-letters/{submitted}",
            data={"csrf_token": token, "body": body, "version": "0"},
        )
    assert refused.status_code == 400
    shown = visible_text(refused.text)
    assert "There is a problem" in shown and message in shown
    assert shown.startswith("Error:")
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FeedbackLetter)).all() == []


def test_no_letter_before_the_return_is_submitted(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    not_started = world.returns[world.org_b]
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        page = qa.get(f"/feedback-letters/{not_started}")
        assert page.status_code == 409
        assert "can only be written once the return has been submitted" in visible_text(page.text)
        saved = qa.post(
            f"/feedback-letters/{not_started}",
            data={"csrf_token": token, "body": "Too soon", "version": "0"},
        )
        assert saved.status_code == 409
        assert qa.get("/feedback-letters/999999").status_code == 404
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FeedbackLetter)).all() == []


def test_the_database_keeps_a_sent_letter_as_sent(
    app: Starlette, clean_db: Engine, world: World, submitted: int
) -> None:
    url = f"/feedback-letters/{submitted}"
    with as_person(app, clean_db, world.people["admin"]) as (admin, token):
        assert (
            admin.post(
                url, data={"csrf_token": token, "body": "Sent text", "version": "0"}
            ).status_code
            == 303
        )
        assert (
            admin.post(f"{url}/send", data={"csrf_token": token, "version": "1"}).status_code == 303
        )
    for statement in (
        "UPDATE feedback_letter SET body = 'Rewritten'",
        "DELETE FROM feedback_letter",
    ):
        with (
            pytest.raises(DBAPIError, match="kept as sent"),
            session_scope(clean_db, write=True) as db,
        ):
            db.execute(text(statement))
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FeedbackLetter)).one().body == "Sent text\n"


def test_the_campaign_lists_its_letters(
    app: Starlette, clean_db: Engine, world: World, submitted: int
) -> None:
    with as_person(app, clean_db, world.people["qa"]) as (qa, token):
        listed = visible_text(qa.get(f"/campaigns/{world.campaign_id}/feedback-letters").text)
        assert "Alpha Primary School : feedback letter Submitted Not started" in listed
        assert "Beta Academy" not in listed  # not submitted: nothing to write about
        qa.post(
            f"/feedback-letters/{submitted}",
            data={"csrf_token": token, "body": "Draft", "version": "0"},
        )
        listed = visible_text(qa.get(f"/campaigns/{world.campaign_id}/feedback-letters").text)
        assert "Alpha Primary School : feedback letter Submitted Draft saved 1 April 2026" in listed
        campaign = visible_text(qa.get(f"/campaigns/{world.campaign_id}").text)
        assert "Feedback letters to organisations" in campaign
