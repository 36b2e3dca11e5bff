"""Challenge events over HTTP: QA records a peer-challenge meeting and corrects it (audited old
and new); bad input stays on the form with an error summary and stores nothing; the oversight
role reads but cannot write; organisation users are refused. Run on both databases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, ChallengeEvent, DipSample, SampledReturn, saved_id
from tests.builders import visible_text
from tests.personas import World, signed_in

TODAY = date(2026, 5, 14)


def as_person(app: Starlette, engine: Engine, world: World, persona: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
    token = signed_in(client, engine, world.people[persona])
    return client, token


def new_url(world: World) -> str:
    return f"/campaigns/{world.campaign_id}/challenge-events/new"


def event_form(token: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    return {
        "csrf_token": token,
        "held_on-day": "12",
        "held_on-month": "5",
        "held_on-year": "2026",
        "attendees": "Jo Bloggs (QA chair)\nSam Patel (health)",
        "notes": "Alpha showed its training log.",
    } | fields


def stored_events(engine: Engine) -> list[ChallengeEvent]:
    with session_scope(engine, write=False) as db:
        return list(db.exec(select(ChallengeEvent).order_by(col(ChallengeEvent.id))).all())


def audit_events(engine: Engine, action: str) -> list[AuditEvent]:
    with session_scope(engine, write=False) as db:
        return list(
            db.exec(
                select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
            ).all()
        )


def sample_organisation_b(engine: Engine, world: World) -> None:
    with session_scope(engine, write=True) as db:
        sample = DipSample(
            campaign_id=world.campaign_id,
            method="simple",
            spec={"format": 1, "method": "simple", "size": 1},
            seed=1,
            population_size=2,
            filtered_size=2,
            requested_size=1,
            chosen_by_name="Test QA",
        )
        db.add(sample)
        db.flush()
        db.add(
            SampledReturn(
                dip_sample_id=saved_id(sample),
                return_id=world.returns[world.org_b],
                organisation_id=world.org_b,
                rationale="simple random",
            )
        )


def record_one(app: Starlette, engine: Engine, world: World, **fields: str | list[str]) -> int:
    client, token = as_person(app, engine, world, "qa")
    with clock.travel(TODAY), client:
        response = client.post(
            new_url(world), data=event_form(token, organisations=[str(world.org_a)], **fields)
        )
    assert response.status_code == 303, response.text[:3000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_qa_records_an_event_that_is_listed_and_shown(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with clock.travel(TODAY), client:
        page = visible_text(client.get(new_url(world)).text)
        assert "Record a challenge event" in page
        # Nothing sampled yet: every organisation in the campaign is offered.
        assert "Alpha Primary School (North)" in page and "Beta Academy (South)" in page
        assert "Nothing has been sampled in this campaign yet" in page

        response = client.post(
            new_url(world),
            data=event_form(token, organisations=[str(world.org_a), str(world.org_b)]),
        )
        assert response.status_code == 303
        shown = visible_text(client.get(response.headers["location"]).text)
        assert "The challenge event has been recorded." in shown
        assert "Challenge event held on 12 May 2026" in shown
        assert "Jo Bloggs (QA chair)" in shown and "Sam Patel (health)" in shown
        assert "Alpha Primary School" in shown and "Beta Academy" in shown
        assert "Alpha showed its training log." in shown
        assert "Change this challenge event" in shown

        listed = visible_text(client.get(f"/campaigns/{world.campaign_id}/challenge-events").text)
        assert "12 May 2026" in listed
        assert "Alpha Primary School, Beta Academy" in listed

        samples = visible_text(client.get(f"/campaigns/{world.campaign_id}/dip-samples").text)
        assert "Challenge events for this campaign" in samples

    [event] = stored_events(clean_db)
    assert event.campaign_id == world.campaign_id
    assert event.held_on == date(2026, 5, 12)
    assert event.attendees == "Jo Bloggs (QA chair)\nSam Patel (health)"
    assert event.organisation_ids == sorted([world.org_a, world.org_b])
    assert event.recorded_by == world.people["qa"].user_id
    [audited] = audit_events(clean_db, "challenge_event.recorded")
    assert audited.object_id == str(event.id)
    assert audited.actor_id == world.people["qa"].user_id
    assert audited.new is not None and audited.new["held_on"] == "2026-05-12"


def test_the_sampled_organisations_are_offered_once_there_is_a_sample(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    sample_organisation_b(clean_db, world)
    client, token = as_person(app, clean_db, world, "admin")
    with clock.travel(TODAY), client:
        page = visible_text(client.get(new_url(world)).text)
        assert "Beta Academy" in page and "Alpha Primary School" not in page
        # An organisation that is not in the sample cannot be named, even by a crafted post.
        response = client.post(
            new_url(world), data=event_form(token, organisations=[str(world.org_a)])
        )
    assert response.status_code == 400
    text = visible_text(response.text)
    assert "There is a problem" in text
    assert "Choose the organisations discussed from the list" in text
    assert stored_events(clean_db) == []


def test_bad_input_stays_on_the_form_with_an_error_summary_and_stores_nothing(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    cases = [
        (
            {"held_on-day": "", "held_on-month": "", "held_on-year": "", "attendees": " "},
            ["Enter the date the meeting was held", "Enter who attended the meeting"],
        ),
        (
            {"held_on-day": "15", "attendees": "<script>alert(1)</script>"},
            ["The date the meeting was held must be today or in the past"],
        ),
        ({"held_on-day": "31", "held_on-month": "2"}, ["must be a real date"]),
        ({"organisations": ["not-a-number"]}, ["Choose the organisations discussed"]),
        ({"organisations": ["999999999"]}, ["Choose the organisations discussed"]),
        ({"attendees": "x" * 2001}, ["Who attended must be 2000 characters or fewer"]),
        ({"notes": "x" * 10001}, ["Notes must be 10000 characters or fewer"]),
    ]
    with clock.travel(TODAY), client:
        for fields, messages in cases:
            response = client.post(new_url(world), data=event_form(token, **fields))
            assert response.status_code == 400, fields
            assert "<title>Error:" in response.text
            summary = response.text.split('class="govuk-error-summary', 1)[1].split("</div>", 3)
            summary_text = visible_text("".join(summary))
            for message in messages:
                assert message in summary_text, (fields, summary_text)
            if "attendees" in fields and fields["attendees"].startswith("<script>"):
                # What was typed is kept, escaped.
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
                assert "<script>alert(1)" not in response.text
    assert 'href="#held_on"' in client.post(new_url(world), data={"csrf_token": token}).text
    assert stored_events(clean_db) == []
    assert audit_events(clean_db, "challenge_event.recorded") == []


def test_a_correction_is_audited_old_and_new(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    event_id = record_one(app, clean_db, world)
    client, token = as_person(app, clean_db, world, "admin")
    with clock.travel(TODAY), client:
        form_page = client.get(f"/challenge-events/{event_id}/edit")
        assert form_page.status_code == 200
        assert "Jo Bloggs (QA chair)" in form_page.text
        assert 'value="12"' in form_page.text  # the date's day box filled in

        response = client.post(
            f"/challenge-events/{event_id}/edit",
            data=event_form(
                token,
                attendees="Jo Bloggs (QA chair)",
                organisations=[str(world.org_b)],
            ),
        )
        assert response.status_code == 303
        shown = visible_text(client.get(response.headers["location"]).text)
        assert "The challenge event has been changed." in shown
        assert "Beta Academy" in shown and "Sam Patel" not in shown

        # The same again changes nothing and writes no event.
        again = client.post(
            f"/challenge-events/{event_id}/edit",
            data=event_form(
                token, attendees="Jo Bloggs (QA chair)", organisations=[str(world.org_b)]
            ),
        )
        assert again.status_code == 303
        assert "Nothing was changed." in visible_text(client.get(again.headers["location"]).text)

        future = client.post(
            f"/challenge-events/{event_id}/edit", data=event_form(token, **{"held_on-year": "2027"})
        )
        assert future.status_code == 400
        assert "must be today or in the past" in visible_text(future.text)

    [event] = stored_events(clean_db)
    assert event.attendees == "Jo Bloggs (QA chair)"
    assert event.organisation_ids == [world.org_b]
    assert event.held_on == date(2026, 5, 12)
    [changed] = audit_events(clean_db, "challenge_event.changed")
    assert changed.actor_id == world.people["admin"].user_id
    assert changed.old == {
        "attendees": "Jo Bloggs (QA chair)\nSam Patel (health)",
        "organisation_ids": [world.org_a],
    }
    assert changed.new == {"attendees": "Jo Bloggs (QA chair)", "organisation_ids": [world.org_b]}


def test_the_oversight_role_reads_but_cannot_write(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    event_id = record_one(app, clean_db, world)
    client, token = as_person(app, clean_db, world, "scrutineer")
    with clock.travel(TODAY), client:
        listed = client.get(f"/campaigns/{world.campaign_id}/challenge-events")
        assert listed.status_code == 200
        assert "Record a challenge event" not in listed.text
        shown = client.get(f"/challenge-events/{event_id}")
        assert shown.status_code == 200
        assert "Jo Bloggs (QA chair)" in shown.text
        assert "Change this challenge event" not in shown.text
        assert client.get(new_url(world)).status_code == 403
        assert client.post(new_url(world), data=event_form(token)).status_code == 403
        edit = client.post(
            f"/challenge-events/{event_id}/edit", data=event_form(token, attendees="Someone")
        )
        assert edit.status_code == 403
    assert [e.attendees for e in stored_events(clean_db)] == [
        "Jo Bloggs (QA chair)\nSam Patel (health)"
    ]


def test_organisation_users_are_refused(app: Starlette, clean_db: Engine, world: World) -> None:
    event_id = record_one(app, clean_db, world)
    for persona in ("respondent_a", "signatory_a", "respondent_b"):
        client, token = as_person(app, clean_db, world, persona)
        with clock.travel(TODAY), client:
            assert client.get(f"/campaigns/{world.campaign_id}/challenge-events").status_code == 403
            assert client.get(f"/challenge-events/{event_id}").status_code == 403
            assert client.post(new_url(world), data=event_form(token)).status_code == 403
            edit = client.post(f"/challenge-events/{event_id}/edit", data=event_form(token))
            assert edit.status_code == 403
    assert len(stored_events(clean_db)) == 1


def test_an_unknown_event_or_campaign_is_not_found(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    client, token = as_person(app, clean_db, world, "qa")
    with client:
        assert client.get("/challenge-events/999999").status_code == 404
        assert client.get("/challenge-events/999999/edit").status_code == 404
        assert client.get("/campaigns/999999/challenge-events").status_code == 404
        assert (
            client.post(
                "/campaigns/999999/challenge-events/new", data=event_form(token)
            ).status_code
            == 404
        )
