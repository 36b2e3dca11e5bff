"""Administrators set up a campaign, check who is invited, open it, chase and close it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import (
    AuditEvent,
    Campaign,
    Membership,
    OutboxEmail,
    QuestionnaireVersion,
    Return,
)
from tests.builders import visible_text
from tests.personas import World, signed_in

FORM = {
    "title": "Schools safeguarding audit 2027",
    "questionnaire": "section-175-schools/2025.1",
    "opens_on-day": "4",
    "opens_on-month": "1",
    "opens_on-year": "2027",
    "closes_on-day": "31",
    "closes_on-month": "3",
    "closes_on-year": "2027",
    "follow_up_months": "6",
}


@pytest.fixture
def admin(app: Starlette, clean_db: Engine, world: World) -> Iterator[tuple[TestClient, str]]:
    with session_scope(clean_db, write=True) as db:  # a respondent at B to receive emails
        db.add(
            Membership(
                user_id=world.people["no_roles"].user_id,
                organisation_id=world.org_b,
                role="respondent",
            )
        )
    with TestClient(app, follow_redirects=False) as client:
        yield client, signed_in(client, clean_db, world.people["admin"])


def create(client: TestClient, token: str, **fields: str | list[str]) -> str:
    response = client.post("/campaigns/new", data={**FORM, **fields, "csrf_token": token})
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def test_set_up_preview_and_open(admin, clean_db: Engine, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    url = create(client, token, phases=["secondary"])
    page = client.get(url).text
    assert (
        "Section 175/157 safeguarding self-assessment for schools and colleges, version 2025.1"
        in visible_text(page)
    )
    assert "Invitation list (1)" in page and "Beta Academy" in page and "Alpha Primary" not in page
    opened = client.post(f"{url}/open", data={"csrf_token": token})
    assert (
        "1 return created and 2 respondents emailed" in client.get(opened.headers["location"]).text
    )
    campaign_id = int(url.rsplit("/", 1)[1])
    with session_scope(clean_db, write=False) as db:
        assert db.get(Campaign, campaign_id).status == "open"
        assert len(db.exec(select(Return).where(Return.campaign_id == campaign_id)).all()) == 1
        lock = db.exec(select(QuestionnaireVersion)).one()
        assert (lock.key, lock.version) == ("section-175-schools", "2025.1")
        emails = db.exec(select(OutboxEmail)).all()
        assert sorted(e.to_address for e in emails) == [
            "no_roles@test.example",
            "respondent_b@test.example",
        ]
        assert "now open" in emails[0].body and "31 March 2027" in emails[0].body
        assert {"campaign.create", "campaign.open", "questionnaire.lock"} <= {
            e.action for e in db.exec(select(AuditEvent)).all()
        }
    progress = client.get(url).text
    assert "0% of 1 organisation has submitted" in progress
    assert "Returns: 1" in progress and ">Not started</td>" in progress


def test_form_errors_keep_what_was_typed(admin) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    response = client.post(
        "/campaigns/new",
        data={**FORM, "closes_on-day": "1", "closes_on-month": "1", "csrf_token": token},
    )
    assert response.status_code == 400
    assert "The closing date must be after the opening date" in response.text
    assert 'name="closes_on-day" type="text" inputmode="numeric" value="1"' in response.text
    impossible = client.post(
        "/campaigns/new",
        data={**FORM, "opens_on-day": "31", "opens_on-month": "2", "csrf_token": token},
    )
    assert "The opening date must be a real date" in impossible.text
    assert 'href="#opens_on"' in impossible.text, "the error summary links to the day box"
    assert 'value="Schools safeguarding audit 2027"' in response.text
    bad = client.post(
        "/campaigns/new",
        data={**FORM, "questionnaire": "section-175-schools/1999.1", "csrf_token": token},
    )
    assert bad.status_code == 400 and "Not a valid choice" in bad.text


def test_reminders_and_closing(admin, clean_db: Engine, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    url = f"/campaigns/{world.campaign_id}"
    assert "Remind every organisation that has not submitted" in client.get(url).text
    sent = client.post(f"{url}/reminders", data={"csrf_token": token})
    assert "Reminder sent to 3 respondents" in client.get(sent.headers["location"]).text
    one = client.post(
        f"{url}/reminders", data={"csrf_token": token, "return_id": str(world.returns[world.org_a])}
    )
    assert "Reminder sent to 1 respondent." in client.get(one.headers["location"]).text
    with session_scope(clean_db, write=False) as db:
        reminders = db.exec(
            select(AuditEvent).where(AuditEvent.action == "campaign.reminder")
        ).all()
        assert len(reminders) == 3  # one per return for "all", then Alpha again
    closed = client.post(f"{url}/close", data={"csrf_token": token})
    assert "returns can no longer be changed" in client.get(closed.headers["location"]).text


def test_a_changed_questionnaire_file_cannot_be_used(
    admin,
    clean_db: Engine,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    client, token = admin
    with session_scope(clean_db, write=True) as db:
        db.add(
            QuestionnaireVersion(
                key="section-175-schools",
                version="2025.1",
                title="t",
                content_hash="0" * 64,
                first_used_for="Last year's audit",
            )
        )
    url = create(client, token)
    refused = client.post(f"{url}/open", data={"csrf_token": token})
    page = client.get(refused.headers["location"]).text
    assert (
        "has changed since it was first used" in page
        and "publish the changes as a new version" in page
    )
    with session_scope(clean_db, write=False) as db:
        assert db.get(Campaign, int(url.rsplit("/", 1)[1])).status == "draft"


def test_qa_can_watch_but_not_change(app: Starlette, clean_db: Engine, world: World) -> None:
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["qa"])
        page = client.get(f"/campaigns/{world.campaign_id}").text
        assert "Progress" in page and "Close the campaign" not in page
        assert (
            client.post(
                f"/campaigns/{world.campaign_id}/close", data={"csrf_token": token}
            ).status_code
            == 403
        )


def test_an_explicit_list_of_identifiers(admin, world: World) -> None:  # type: ignore[no-untyped-def]
    client, token = admin
    blank = visible_text(client.get("/campaigns/new").text)
    assert "Or invite exactly these organisations" in blank and "One URN, Ofsted URN" in blank
    unknown = client.post(
        "/campaigns/new", data={**FORM, "identifiers": "100002\n999999", "csrf_token": token}
    )
    assert '<textarea class="govuk-textarea govuk-textarea--error" id="identifiers"' in unknown.text
    assert "100002\n999999</textarea>" in unknown.text  # what was typed is kept
    assert (
        unknown.status_code == 400 and "No organisation has the identifier 999999" in unknown.text
    )
    url = create(client, token, identifiers="100002\n", phases=["primary"])
    page = client.get(url).text
    assert "Invitation list (1)" in page and "Beta Academy" in page, (
        "the list wins over other choices"
    )


def test_qa_finds_every_return_from_the_campaign_and_organisation_pages(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    """QA once had to type /returns/2: both pages now list every return, filterable and sortable."""
    with session_scope(clean_db, write=True) as db:
        beta = db.get(Return, world.returns[world.org_b])
        beta.status, beta.submitted_at = "submitted", datetime(2026, 3, 1, tzinfo=UTC)
        db.add(beta)
    with TestClient(app) as qa:
        signed_in(qa, clean_db, world.people["qa"])
        page = qa.get(f"/campaigns/{world.campaign_id}").text
        for return_id in world.returns.values():
            assert f'href="/returns/{return_id}"' in page
        assert "Alpha Primary School" in page and "Beta Academy" in page and "1 March 2026" in page
        only_submitted = qa.get(f"/campaigns/{world.campaign_id}?status=submitted").text
        assert "Beta Academy" in only_submitted and "Alpha Primary School" not in only_submitted
        by_district = qa.get(f"/campaigns/{world.campaign_id}?district=North").text
        assert "Alpha Primary School" in by_district and "Beta Academy" not in by_district
        newest_first = qa.get(f"/campaigns/{world.campaign_id}?sort=organisation&order=desc").text
        assert newest_first.index("Beta Academy") < newest_first.index("Alpha Primary School")
        odd = qa.get(f"/campaigns/{world.campaign_id}?status=%00&sort=drop+table&order=%F0")
        assert odd.status_code in {200, 400}
        organisation = qa.get(f"/organisations/{world.org_b}").text
        assert f'href="/returns/{world.returns[world.org_b]}"' in organisation
        assert "Schools audit 2026" in organisation
