"""Six-month follow-ups over HTTP, with the clock set: due dates and states, the organisation's
updates, signing, the partnership's review, the campaign's board and rating movement, and the
refusals that change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import (
    Action,
    AuditEvent,
    FollowUp,
    FollowUpReview,
    FollowUpSubmission,
    FollowUpUpdate,
    OutboxEmail,
)
from tests.builders import AMBER_ITEMS, submit_with_two_ambers, two_ambers_form, visible_text
from tests.personas import World, signed_in

SUBMITTED_ON = date(2026, 3, 1)


@pytest.fixture
def return_id(app: Starlette, clean_db: Engine, world: World) -> int:
    return submit_with_two_ambers(app, clean_db, world, SUBMITTED_ON)


@contextmanager
def as_person(app: Starlette, engine: Engine, person: object) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, engine, person)  # type: ignore[arg-type]


def actions_of(engine: Engine, return_id: int) -> list[Action]:
    with session_scope(engine, write=False) as db:
        return list(
            db.exec(select(Action).where(Action.return_id == return_id).order_by(col(Action.id)))
        )


def update_form(token: str, actions: list[Action], **extra: str) -> dict[str, str]:
    """First action complete and now green; second in progress with a new target date."""
    first, second = (f"action-{a.id}" for a in actions)
    return {
        "csrf_token": token,
        f"{first}-progress": "complete",
        f"{first}-narrative": "Every governor trained in May",
        f"{first}-revised-rating": "3",
        f"{first}-evidence": "Training log",
        f"{second}-progress": "in_progress",
        f"{second}-narrative": "Half the staff done",
        f"{second}-revised-rating": "2",
        f"{second}-target-day": "31",
        f"{second}-target-month": "12",
        f"{second}-target-year": "2026",
        **extra,
    }


def emails_about(engine: Engine, words: str) -> list[OutboxEmail]:
    with session_scope(engine, write=False) as db:
        return [e for e in db.exec(select(OutboxEmail)).all() if words in e.subject]


def test_due_six_months_after_signing_then_due_soon_then_overdue(
    app: Starlette, clean_db: Engine, world: World, return_id: int
) -> None:
    with session_scope(clean_db, write=False) as db:
        follow_up = db.exec(select(FollowUp).where(FollowUp.return_id == return_id)).one()
        frozen = db.exec(select(Action).where(Action.return_id == return_id)).all()
    assert follow_up.due_on == date(2026, 9, 1)
    assert [a.frozen_revision for a in frozen] == [1, 1], "signed actions are frozen"
    seen = {}
    for day in (date(2026, 7, 1), date(2026, 8, 2), date(2026, 9, 2), date(2026, 9, 11)):
        with clock.travel(day), as_person(app, clean_db, world.people["respondent_a"]) as (c, _):
            seen[day] = visible_text(c.get(f"/returns/{return_id}/follow-up").text)
    assert "Status Not yet due Due 1 September 2026" in seen[date(2026, 7, 1)]
    assert "Status Due soon" in seen[date(2026, 8, 2)]
    assert "Status Overdue 1 day overdue" in seen[date(2026, 9, 2)]
    assert "Status Overdue 10 days overdue" in seen[date(2026, 9, 11)]
    first = seen[date(2026, 7, 1)]
    assert "Action 1: Action 1 for s175.1.1" in first and "Rated Partly in place" in first
    assert "You said Half done" in first


def test_an_all_green_return_needs_no_follow_up(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    from tests.builders import answer_everything

    return_id = world.returns[world.org_a]
    with as_person(app, clean_db, world.people["signatory_a"]) as (client, token):
        answer_everything(client, token, return_id, clean_db, world)
        declaration = {"name": "Hal", "role": "Head", "confirm": "yes", "csrf_token": token}
        assert client.post(f"/returns/{return_id}/submit", data=declaration).status_code == 200
        overview = visible_text(client.get(f"/returns/{return_id}").text)
        assert "No follow-up needed" in overview
        assert client.get(f"/returns/{return_id}/follow-up").status_code == 404
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FollowUp)).all() == []


def test_updates_signed_reviewed_resubmitted_and_accepted(
    app: Starlette, clean_db: Engine, world: World, return_id: int
) -> None:
    actions = actions_of(clean_db, return_id)
    url = f"/returns/{return_id}/follow-up"
    with clock.travel(date(2026, 8, 2)):
        with as_person(app, clean_db, world.people["respondent_a"]) as (client, token):
            overview = visible_text(client.get(f"/returns/{return_id}").text)
            assert "Six-month follow-up Due soon" in overview
            half = client.post(
                url,
                data=update_form(token, actions[:1] + actions[1:2])
                | {f"action-{actions[1].id}-progress": ""},
            )
            assert half.status_code == 303, visible_text(half.text)[:1500]
            page = visible_text(client.get(url).text)
            assert "1 action still needs an update before the follow-up can be submitted" in page
            assert client.get(f"{url}/submit").status_code == 404, "respondents cannot sign"
            saved = client.post(url, data=update_form(token, actions))
            assert saved.status_code == 303
        with as_person(app, clean_db, world.people["signatory_a"]) as (client, token):
            refused = client.post(
                f"{url}/submit", data={"csrf_token": token, "name": "Hal Head", "role": ""}
            )
            assert refused.status_code == 400 and "Enter your role" in visible_text(refused.text)
            done = client.post(
                f"{url}/submit",
                data={"csrf_token": token, "name": "Hal Head", "role": "Head", "confirm": "yes"},
            )
            assert done.status_code == 303
            page = visible_text(client.get(url).text)
            assert "The follow-up has been submitted" in page and "Status Submitted" in page
            assert "Round 1, signed by Hal Head on 2 August 2026" in page
            late = client.post(url, data=update_form(token, actions))
            assert late.status_code == 409 and "submitted" in visible_text(late.text)
        assert emails_about(clean_db, "Follow-up submitted")

        with as_person(app, clean_db, world.people["qa"]) as (client, token):
            page = visible_text(client.get(url).text)
            assert "Review this follow-up" in page and "Every governor trained in May" in page
            no_comment = client.post(
                f"{url}/review", data={"csrf_token": token, "decision": "more_information"}
            )
            assert no_comment.status_code == 400
            assert "say what more information" in visible_text(no_comment.text).lower()
            asked = client.post(
                f"{url}/review",
                data={
                    "csrf_token": token,
                    "decision": "more_information",
                    "comment": "Send the training <log> dates",
                },
            )
            assert asked.status_code == 303
        asked_emails = emails_about(clean_db, "More information needed")
        assert asked_emails and all("Send the training <log> dates" in e.body for e in asked_emails)

        with as_person(app, clean_db, world.people["signatory_a"]) as (client, token):
            page = client.get(url).text
            assert "Send the training &lt;log&gt; dates" in page, "escaped, shown to the school"
            again = update_form(
                token, actions, **{f"action-{actions[0].id}-evidence": "Log with dates"}
            )
            assert client.post(url, data=again).status_code == 303
            resubmit = {"csrf_token": token, "name": "Hal Head", "role": "Head", "confirm": "yes"}
            assert client.post(f"{url}/submit", data=resubmit).status_code == 303
            round_one = visible_text(client.get(f"{url}/rounds/1").text)
            assert "Training log" in round_one and "Log with dates" not in round_one
            assert client.get(f"{url}/rounds/3").status_code == 404

        with as_person(app, clean_db, world.people["qa"]) as (client, token):
            board = visible_text(client.get(f"/campaigns/{world.campaign_id}/follow-ups").text)
            assert "Follow-ups 1 Completed (accepted) 0% (0 of 1) Submitted 1" in board
            accepted = client.post(
                f"{url}/review", data={"csrf_token": token, "decision": "accept"}
            )
            assert accepted.status_code == 303
            board = visible_text(client.get(f"/campaigns/{world.campaign_id}/follow-ups").text)
            assert "Completed (accepted) 100% (1 of 1) Accepted 1" in board
            assert "1 improved, 1 stayed the same, 0 got worse" in board
            assert "Partly in place 1 1 0 0" in board, "one to green, one still amber"

    with session_scope(clean_db, write=False) as db:
        follow_up = db.exec(select(FollowUp)).one()
        rounds = db.exec(select(FollowUpSubmission).order_by(col(FollowUpSubmission.round))).all()
        reviews = db.exec(select(FollowUpReview).order_by(col(FollowUpReview.id))).all()
        kinds = {e.action for e in db.exec(select(AuditEvent)).all()}
        stored = {u.action_id: u for u in db.exec(select(FollowUpUpdate)).all()}
        closed = db.get(Action, actions[0].id)
    assert follow_up.stage == "accepted" and [r.round for r in rounds] == [1, 2]
    assert [r.outcome for r in reviews] == ["more_information", "accepted"]
    assert {"follow_up.open", "follow_up.update", "follow_up.submit"} <= kinds
    assert {"follow_up.more_information", "follow_up.accept"} <= kinds
    assert stored[actions[1].id].new_target_date == date(2026, 12, 31)
    assert closed is not None and closed.progress == "complete"
    assert emails_about(clean_db, "Follow-up accepted")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("revised-rating", "7", "Choose a rating from the list"),
        ("revised-rating", "green", "Choose a rating from the list"),
        ("progress", "finished", "Choose the progress of this action"),
        ("target-month", "13", "The new target date must be a real date"),
    ],
)
def test_bad_updates_are_refused_and_nothing_is_stored(
    app: Starlette,
    clean_db: Engine,
    world: World,
    return_id: int,
    field: str,
    value: str,
    message: str,
) -> None:
    actions = actions_of(clean_db, return_id)
    with as_person(app, clean_db, world.people["respondent_a"]) as (client, token):
        form = update_form(token, actions, **{f"action-{actions[1].id}-{field}": value})
        response = client.post(f"/returns/{return_id}/follow-up", data=form)
        assert response.status_code == 400
        assert message in visible_text(response.text)
        assert "<title>Error: " in response.text
        assert "Half the staff done" in response.text, "what was typed is kept"
    with session_scope(clean_db, write=False) as db:
        stored = db.exec(
            select(FollowUpUpdate).where(FollowUpUpdate.action_id == actions[1].id)
        ).all()
    assert stored == []


def test_other_organisations_and_other_roles_are_refused(
    app: Starlette, clean_db: Engine, world: World, return_id: int
) -> None:
    actions = actions_of(clean_db, return_id)
    url = f"/returns/{return_id}/follow-up"
    with as_person(app, clean_db, world.people["respondent_b"]) as (client, token):
        assert client.get(url).status_code == 404
        assert client.post(url, data=update_form(token, actions)).status_code == 404
    with as_person(app, clean_db, world.people["signatory_a"]) as (client, token):
        review = client.post(f"{url}/review", data={"csrf_token": token, "decision": "accept"})
        assert review.status_code == 403
        early = client.post(f"{url}/submit", data={"csrf_token": token, "name": "H", "role": "H"})
        assert early.status_code == 400
        assert "every action needs an update" in visible_text(early.text)
    with as_person(app, clean_db, world.people["scrutineer"]) as (client, token):
        assert client.get(url).status_code == 404, "the scrutineer reads the campaign's board"
        assert client.post(url, data=update_form(token, actions)).status_code == 404
        board = client.get(f"/campaigns/{world.campaign_id}/follow-ups").text
        assert "Alpha Primary School" in visible_text(board) and url not in board
    with as_person(app, clean_db, world.people["qa"]) as (client, token):
        not_yet = client.post(f"{url}/review", data={"csrf_token": token, "decision": "accept"})
        assert (
            not_yet.status_code == 400
            and "Only a submitted follow-up can be reviewed" in visible_text(not_yet.text)
        )
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(FollowUpUpdate)).all() == []
        assert db.exec(select(FollowUp)).one().stage == "open"


def test_the_partnership_adds_an_action_and_the_organisation_is_told(
    app: Starlette, clean_db: Engine, world: World, return_id: int
) -> None:
    with as_person(app, clean_db, world.people["qa"]) as (client, token):
        overview = visible_text(client.get(f"/returns/{return_id}").text)
        assert "Add an action to this return" in overview
        form = {
            "csrf_token": token,
            "item_id": "s175.1.5",
            "action-what": "Show the audit of staff training",
            "action-owner": "Designated safeguarding lead",
            "action-target-day": "30",
            "action-target-month": "6",
            "action-target-year": "2027",
        }
        missing = client.post(f"/returns/{return_id}/actions", data=form | {"action-owner": ""})
        assert missing.status_code == 400
        assert "Enter who owns the action" in visible_text(missing.text)
        assert "Show the audit of staff training" in missing.text, "what was typed is kept"
        added = client.post(f"/returns/{return_id}/actions", data=form)
        assert added.status_code == 303
    with as_person(app, clean_db, world.people["respondent_a"]) as (client, _):
        page = visible_text(client.get(f"/returns/{return_id}/follow-up").text)
        assert "Action 3: Show the audit of staff training" in page
    told = emails_about(clean_db, "Action added: Alpha Primary School")
    assert told and all("Show the audit of staff training" in e.body for e in told)
    with session_scope(clean_db, write=False) as db:
        added_action = db.exec(
            select(Action).where(Action.what == "Show the audit of staff training")
        ).one()
        assert added_action.source == "qa" and added_action.frozen_revision is not None
    assert AMBER_ITEMS[0] != "s175.1.5"


def test_home_pages_show_what_needs_doing(
    app: Starlette, clean_db: Engine, world: World, return_id: int
) -> None:
    with clock.travel(date(2026, 9, 11)):
        with as_person(app, clean_db, world.people["signatory_a"]) as (client, token):
            home = visible_text(client.get("/dashboard").text)
            assert (
                "Overdue follow-up for Alpha Primary School 10 days overdue; 2 open actions" in home
            )
            assert "Needs you now" not in home
            summary = visible_text(client.get(f"/returns/{return_id}/summary").text)
            assert "Six-month follow-up: overdue by 10 days (due 1 September 2026)" in summary
            assert "Progress: Not started" in summary
            pdf = client.get(f"/returns/{return_id}/summary.pdf")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        with as_person(app, clean_db, world.people["qa"]) as (client, token):
            home = visible_text(client.get("/dashboard").text)
            assert "Needs you now" in home and "1 overdue in Schools audit 2026" in home
            assert "Follow-ups to review" not in home
    actions = actions_of(clean_db, return_id)
    with clock.travel(date(2026, 9, 12)):
        with as_person(app, clean_db, world.people["signatory_a"]) as (client, token):
            client.post(f"/returns/{return_id}/follow-up", data=update_form(token, actions))
            declaration = {"csrf_token": token, "name": "H", "role": "Head", "confirm": "yes"}
            client.post(f"/returns/{return_id}/follow-up/submit", data=declaration)
            assert "Submitted" in visible_text(client.get("/dashboard").text)
        with as_person(app, clean_db, world.people["qa"]) as (client, token):
            home = visible_text(client.get("/dashboard").text)
            assert "Follow-ups to review (1) Alpha Primary School: Schools audit 2026" in home
            assert "overdue in" not in home


def test_signed_actions_are_closed_with_a_reason_never_removed(
    app: Starlette, clean_db: Engine, world: World, return_id: int
) -> None:
    first, second = actions_of(clean_db, return_id)
    with as_person(app, clean_db, world.people["qa"]) as (client, token):
        returned = client.post(
            f"/returns/{return_id}/amend", data={"csrf_token": token, "reason": "Say more"}
        )
        assert returned.status_code == 303
    section = f"/returns/{return_id}/sections/s175.1"
    with as_person(app, clean_db, world.people["respondent_a"]) as (client, token):
        page = visible_text(client.get(section).text)
        assert "Part of revision 1 as signed: it can be closed, not removed" in page
        form = two_ambers_form(client, clean_db, world, token)
        removed = client.post(section, data=form | {"remove_action": str(first.id)})
        assert removed.status_code == 409
        assert "signed" in visible_text(removed.text)
        no_reason = client.post(section, data=form | {"close_action": str(first.id)})
        assert no_reason.status_code == 400
        assert "Question 1.1: Say why this action is being closed" in visible_text(no_reason.text)
        closed = client.post(
            section,
            data=form
            | {
                "close_action": str(first.id),
                f"action-{first.id}-close-reason": "Done by the new governor",
            },
        )
        assert closed.status_code == 303, visible_text(closed.text)[700:1500]
        assert "Closed Done by the new governor" in visible_text(client.get(section).text)
        follow_up = visible_text(client.get(f"/returns/{return_id}/follow-up").text)
        assert "Action 2 for s175.1.2" in follow_up and "Action 1 for s175.1.1" not in follow_up
    with session_scope(clean_db, write=False) as db:
        kept = db.get(Action, first.id)
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "action.close")).all()
    assert kept is not None and kept.status == "closed" and kept.closed_reason
    assert len(events) == 1 and second.id != first.id
