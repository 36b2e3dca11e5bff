"""Completing a return over HTTP: sections, conflicts, actions, checking, signing, freezing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.db import session_scope
from audit_portal.models import Action, Answer, AuditEvent, OutboxEmail, Return, Submission
from tests.builders import all_green, answer_everything, section_items, visible_text
from tests.personas import World, signed_in


@pytest.fixture
def respondent(
    app: Starlette, clean_db: Engine, world: World
) -> Iterator[tuple[TestClient, str, int]]:
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        yield client, token, world.returns[world.org_a]


def test_a_respondent_completes_and_a_signatory_submits(
    respondent,
    app: Starlette,
    clean_db: Engine,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    client, token, return_id = respondent
    overview = client.get(f"/returns/{return_id}")
    assert overview.status_code == 200 and "0 of" in overview.text
    first = client.post(
        f"/returns/{return_id}/sections/s175.1",
        data=all_green(section_items(clean_db, world, "s175.1"), token),
    )
    assert first.headers["location"] == f"/returns/{return_id}/sections/s175.2"
    answer_everything(client, token, return_id, clean_db, world)
    check = client.get(f"/returns/{return_id}/check").text
    assert "Overall rating Green" in visible_text(check)
    assert "The overall rating is green when at least 80% are green." in visible_text(check)
    assert "Continue to sign and submit" not in check, "a respondent cannot sign"
    assert client.get(f"/returns/{return_id}/submit").status_code == 404

    with TestClient(app, follow_redirects=False) as head:
        head_token = signed_in(head, clean_db, world.people["signatory_a"])
        assert "Continue to sign and submit" in head.get(f"/returns/{return_id}/check").text
        missing = head.post(
            f"/returns/{return_id}/submit", data={"csrf_token": head_token, "name": "Hal Head"}
        )
        assert (
            missing.status_code == 400
            and "Confirm the declaration" in missing.text
            and "Enter your role" in missing.text
        )
        done = head.post(
            f"/returns/{return_id}/submit",
            data={
                "csrf_token": head_token,
                "name": "Hal Head",
                "role": "Headteacher",
                "confirm": "yes",
            },
        )
        assert done.status_code == 200 and "Return submitted" in done.text
        page = visible_text(done.text)
        assert "What happens next" in page and "chooses some returns for a dip sample" in page
        assert "no six-month update is needed" in page, "all green: nothing to follow up"

    with session_scope(clean_db, write=False) as db:
        ret = db.get(Return, return_id)
        submission = db.exec(select(Submission).where(Submission.return_id == return_id)).one()
    assert ret.status == "submitted"
    assert submission.questionnaire_version == "2025.1" and len(submission.questionnaire_hash) == 64
    assert submission.content["score"]["overall"] == "green"

    frozen = client.post(
        f"/returns/{return_id}/items/s175.1.1",
        data={"csrf_token": token, "item-s175-1-1-value": "1"},
    )
    assert frozen.status_code == 409 and "frozen record" in frozen.text
    download = client.get(f"/returns/{return_id}/submissions/1.json")
    assert download.json()["declaration"]["name"] == "Hal Head"
    assert download.json()["questionnaire"]["sha256"] == submission.questionnaire_hash


def test_less_effective_ratings_need_a_narrative_and_an_action(
    respondent, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    client, token, return_id = respondent
    items = section_items(clean_db, world, "s175.1")
    data = all_green(items, token, **{"item-s175-1-1-value": "2"})
    saved = client.post(f"/returns/{return_id}/sections/s175.1", data=data)
    assert saved.status_code == 200, "saved, and the page says at once what is still needed"
    page = visible_text(saved.text)
    assert "Your answers are saved. Before the return can be submitted" in page
    assert "Question 1.1: Explain the rating ‘Partly in place’ in the narrative" in page
    assert "Question 1.1: Add at least one action for this rating" in page
    assert (
        'id="item-s175-1-1-action-what" name="item-s175-1-1-action-what" rows="2" maxlength="2000" autofocus'
        in saved.text
    )
    with session_scope(clean_db, write=False) as db:
        stored = db.exec(select(Answer).where(Answer.item_id == "s175.1.1")).one()
        assert stored.value == {"v": 2}, "nothing is lost: the rating was saved"

    half = client.post(
        f"/returns/{return_id}/sections/s175.1",
        data={
            **data,
            "add_action": "s175.1.1",
            "item-s175-1-1-action-what": "Train governors",
            "item-s175-1-1-action-target-day": "31",
            "item-s175-1-1-action-target-month": "2",
            "item-s175-1-1-action-target-year": "2027",
        },
    )
    assert half.status_code == 400
    assert "<title>Error: " in half.text
    assert (
        '<a href="#item-s175-1-1-action-owner">Question 1.1: Enter who owns the action</a>'
        in half.text
    )
    assert (
        '<a href="#item-s175-1-1-action-target">Question 1.1: The target date must be a real date</a>'
        in half.text
    )
    assert ">Train governors</textarea>" in half.text, "what was typed is kept"

    past = client.post(
        f"/returns/{return_id}/sections/s175.1",
        data={
            **data,
            "add_action": "s175.1.1",
            "item-s175-1-1-action-what": "Train",
            "item-s175-1-1-action-owner": "Chair",
            "item-s175-1-1-action-target-day": "1",
            "item-s175-1-1-action-target-month": "9",
            "item-s175-1-1-action-target-year": "2026",
        },
    )
    assert "The target date must be today or in the future" in past.text

    added = client.post(
        f"/returns/{return_id}/sections/s175.1",
        data={
            **data,
            "add_action": "s175.1.1",
            "item-s175-1-1-action-what": "Train the link governor",
            "item-s175-1-1-action-owner": "Chair",
            "item-s175-1-1-action-target-day": "1",
            "item-s175-1-1-action-target-month": "9",
            "item-s175-1-1-action-target-year": "2027",
        },
    )
    assert added.status_code == 303
    assert added.headers["location"].endswith("/sections/s175.1#item-s175-1-1-actions")
    with session_scope(clean_db, write=False) as db:
        action = db.exec(select(Action)).one()
        assert action.target_date == date(2027, 9, 1), "1 9 2027 is 1 September, not 9 January"
    check = visible_text(client.get(f"/returns/{return_id}/check").text)
    assert "Add at least one action" not in check and "Train the link governor" in check


def test_two_colleagues_editing_the_same_item_get_a_conflict_not_a_lost_answer(
    respondent,
    app: Starlette,
    clean_db: Engine,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    client, token, return_id = respondent
    url = f"/returns/{return_id}/items/s175.1.1"
    saved = client.post(
        url,
        data={"csrf_token": token, "item-s175-1-1-value": "3", "item-s175-1-1-narrative": "Mine"},
    )
    assert "Saved at" in saved.text and 'value="1" hx-swap-oob="true"' in saved.text
    with TestClient(app) as colleague:
        other = signed_in(colleague, clean_db, world.people["signatory_a"])
        colleague.post(
            url,
            data={
                "csrf_token": other,
                "item-s175-1-1-value": "2",
                "item-s175-1-1-version": "1",
                "item-s175-1-1-narrative": "Theirs",
            },
        )
    late = client.post(
        url,
        data={
            "csrf_token": token,
            "item-s175-1-1-value": "1",
            "item-s175-1-1-version": "1",
            "item-s175-1-1-narrative": "Mine again",
        },
    )
    assert "Not saved: a colleague saved a different answer" in late.text
    assert "Theirs: Partly in place, “Theirs”" in late.text, "their rating by its label"
    assert 'value="2" hx-swap-oob="true"' in late.text, "the next save is based on their version"
    keep_mine = client.post(
        url,
        data={
            "csrf_token": token,
            "item-s175-1-1-value": "1",
            "item-s175-1-1-version": "2",
            "item-s175-1-1-narrative": "Mine again",
        },
    )
    assert "Saved at" in keep_mine.text
    with session_scope(clean_db, write=False) as db:
        answer = db.exec(select(Answer).where(Answer.return_id == return_id)).one()
        assert (answer.value, answer.narrative, answer.version) == ({"v": 1}, "Mine again", 3)
        assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "answer.save")).all()) == 3


def test_conflict_without_javascript_keeps_the_typed_answer(
    respondent, app: Starlette, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    client, token, return_id = respondent
    client.post(
        f"/returns/{return_id}/items/s175.1.1",
        data={"csrf_token": token, "item-s175-1-1-value": "3"},
    )
    with TestClient(app) as colleague:
        other = signed_in(colleague, clean_db, world.people["signatory_a"])
        colleague.post(
            f"/returns/{return_id}/items/s175.1.1",
            data={"csrf_token": other, "item-s175-1-1-value": "1", "item-s175-1-1-version": "1"},
        )
    data = all_green(
        section_items(clean_db, world, "s175.1"),
        token,
        **{"item-s175-1-1-version": "1", "item-s175-1-1-narrative": "My careful explanation"},
    )
    page = client.post(f"/returns/{return_id}/sections/s175.1", data=data)
    assert page.status_code == 400
    assert "A colleague saved a different answer to question 1.1" in page.text
    assert "My careful explanation" in page.text, "what I typed is still in the form"
    assert re.search(
        r'name="item-s175-1-1-version" id="item-s175-1-1-version" value="2"', page.text
    )


@pytest.mark.parametrize(
    ("url_item", "fields", "status", "message"),
    [
        ("s175.99.1", {"item-s175-99-1-value": "3"}, 400, "is not a question"),
        ("s175.14.4", {"item-s175-14-4-value": "3"}, 400, "does not apply to your organisation"),
        (
            "s175.1.1",
            {"item-s175-1-1-value": "9"},
            200,
            "Not saved:</strong> Choose one of the ratings shown",
        ),
        (
            "s175.1.1",
            {"item-s175-1-1-value": "3", "item-s175-1-1-narrative": "x" * 5001},
            200,
            "The narrative must be 5,000 characters or fewer",
        ),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_stored(
    respondent,
    clean_db: Engine,
    url_item: str,
    fields: dict,
    status: int,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    client, token, return_id = respondent
    response = client.post(
        f"/returns/{return_id}/items/{url_item}", data={"csrf_token": token, **fields}
    )
    assert response.status_code == status and message in response.text
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(Answer)).all() == []


def test_another_organisations_return_is_not_found(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    with TestClient(app) as client:
        token = signed_in(client, clean_db, world.people["respondent_b"])
        other = world.returns[world.org_a]
        assert client.get(f"/returns/{other}").status_code == 404
        assert (
            client.post(
                f"/returns/{other}/items/s175.1.1",
                data={"csrf_token": token, "item-s175-1-1-value": "3"},
            ).status_code
            == 404
        )


def test_qa_returns_a_submission_for_amendment_then_accepts(
    respondent,
    app: Starlette,
    clean_db: Engine,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    client, token, return_id = respondent
    answer_everything(client, token, return_id, clean_db, world)
    with TestClient(app) as head:
        head_token = signed_in(head, clean_db, world.people["signatory_a"])
        head.post(
            f"/returns/{return_id}/submit",
            data={"csrf_token": head_token, "name": "Hal", "role": "Head", "confirm": "yes"},
        )
    with TestClient(app, follow_redirects=False) as qa:
        qa_token = signed_in(qa, clean_db, world.people["qa"])
        refused = qa.post(
            f"/returns/{return_id}/amend", data={"csrf_token": qa_token, "reason": ""}
        )
        assert refused.status_code == 400, "the error stays on the form, not in a banner"
        assert "<title>Error: " in refused.text
        assert '<a href="#reason">Say what needs to be amended</a>' in refused.text
        assert "govuk-notification-banner--success" not in refused.text
        qa.post(
            f"/returns/{return_id}/amend",
            data={"csrf_token": qa_token, "reason": "Evidence for s175.12 is thin"},
        )
    overview = client.get(f"/returns/{return_id}").text
    assert (
        "Returned for amendment:</strong> Evidence for s175.12 is thin" in overview
        and "revision 2" in overview
    )
    answer_everything(client, token, return_id, clean_db, world)
    with TestClient(app) as head:
        head_token = signed_in(head, clean_db, world.people["signatory_a"])
        done = head.post(
            f"/returns/{return_id}/submit",
            data={"csrf_token": head_token, "name": "Hal", "role": "Head", "confirm": "yes"},
        )
        assert "revision 2" in done.text
    with TestClient(app, follow_redirects=False) as qa:
        qa_token = signed_in(qa, clean_db, world.people["qa"])
        qa.post(f"/returns/{return_id}/accept", data={"csrf_token": qa_token})
    overview = client.get(f"/returns/{return_id}").text
    assert (
        "Accepted" in overview
        and "Revision 1, signed by Hal" in overview
        and "Revision 2" in overview
    )
    with session_scope(clean_db, write=False) as db:
        assert [s.revision for s in db.exec(select(Submission)).all()] == [1, 2]
        assert db.get(Return, return_id).status == "accepted"


def test_dashboard_lists_my_returns_with_progress(
    respondent, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    client, token, return_id = respondent
    page = client.get("/dashboard").text
    assert (
        f'href="/returns/{return_id}"' in page
        and "Schools audit 2026" in page
        and "Not started" in page
    )
    assert f'href="/returns/{world.returns[world.org_b]}"' not in page
    client.post(
        f"/returns/{return_id}/sections/s175.1",
        data=all_green(section_items(clean_db, world, "s175.1"), token),
    )
    page = client.get("/dashboard").text
    assert "In progress" in page and re.search(r">\s*[1-9]\d?%<", page)


def test_summary_page_and_pdf_for_the_board(
    respondent, app: Starlette, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    import io

    from pypdf import PdfReader

    client, token, return_id = respondent
    answer_everything(client, token, return_id, clean_db, world)
    data = all_green(
        section_items(clean_db, world, "s175.1"),
        token,
        **{
            "item-s175-1-1-value": "2",
            "item-s175-1-1-narrative": "Partly",
            "item-s175-1-1-version": "1",
        },
    )
    client.post(f"/returns/{return_id}/sections/s175.1", data=data)
    client.post(
        f"/returns/{return_id}/sections/s175.1",
        data={
            **data,
            "add_action": "s175.1.1",
            "item-s175-1-1-action-what": "Appoint a link governor",
            "item-s175-1-1-action-owner": "Chair",
            "item-s175-1-1-action-target-day": "1",
            "item-s175-1-1-action-target-month": "5",
            "item-s175-1-1-action-target-year": "2027",
        },
    )
    draft = client.get(f"/returns/{return_id}/summary").text
    assert "Not yet submitted" in draft and "Appoint a link governor" in draft
    with TestClient(app) as head:
        head_token = signed_in(head, clean_db, world.people["signatory_a"])
        head.post(
            f"/returns/{return_id}/submit",
            data={
                "csrf_token": head_token,
                "name": "Hal Head",
                "role": "Headteacher",
                "confirm": "yes",
            },
        )
    overview = client.get(f"/returns/{return_id}").text  # submitted: nothing is "so far" now
    assert "Overall rating</dt>" in overview and "Rating: Amber" in overview
    assert "so far" not in overview and "Before you start" not in overview
    page = client.get(f"/returns/{return_id}/summary").text
    assert (
        "Signed by Hal Head, Headteacher" in page and "An update on these actions is due on" in page
    )
    assert 'app-rag--amber">Amber</strong>' in page
    pdf = client.get(f"/returns/{return_id}/summary.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "Alpha Primary School: safeguarding self-assessment summary" in text
    assert "Appoint a link governor" in text and "Signed by Hal Head" in text
    assert "Governance and strategic leadership" in text and "Amber" in text
    for shown in (page, text):  # dates as GOV.UK writes them: 5 March 2027, never 05 Mar 2027
        assert not re.search(r"\b0\d [A-Z][a-z]+ \d{4}", shown), re.findall(
            r"\b0\d [A-Z]\w+", shown
        )
        assert not re.search(
            r"\b\d{1,2} (Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}", shown
        )


def emails_to(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine, write=False) as db:
        return [(e.to_address, e.subject) for e in db.exec(select(OutboxEmail)).all()]


def test_everyone_is_told_as_a_return_moves_on(
    respondent, app: Starlette, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    client, token, return_id = respondent
    answer_everything(client, token, return_id, clean_db, world)
    told = client.post(f"/returns/{return_id}/ready", data={"csrf_token": token})
    assert told.status_code == 303
    assert "Your signatory has been told" in client.get(told.headers["location"]).text
    assert emails_to(clean_db) == [
        ("signatory_a@test.example", "Ready to sign: Alpha Primary School's Schools audit 2026")
    ]
    with TestClient(app) as head:
        head_token = signed_in(head, clean_db, world.people["signatory_a"])
        dashboard = visible_text(head.get("/dashboard").text)
        assert "Alpha Primary School's Schools audit 2026 is complete." in dashboard
        declaration = {
            "csrf_token": head_token,
            "name": "Hal Head",
            "role": "Head",
            "confirm": "yes",
        }
        head.post(f"/returns/{return_id}/submit", data=declaration)
    submitted = [e for e in emails_to(clean_db) if e[1].startswith("Submitted:")]
    assert sorted(to for to, _ in submitted) == [
        "respondent_a@test.example",
        "signatory_a@test.example",
    ]
    with TestClient(app) as qa:
        qa_token = signed_in(qa, clean_db, world.people["qa"])
        qa.post(
            f"/returns/{return_id}/amend",
            data={"csrf_token": qa_token, "reason": "Say more about 1.1"},
        )
    changes = [e for e in emails_to(clean_db) if e[1].startswith("Changes needed:")]
    assert len(changes) == 2
    with session_scope(clean_db, write=False) as db:
        body = (
            db.exec(select(OutboxEmail).where(OutboxEmail.subject.startswith("Changes")))
            .first()
            .body
        )  # type: ignore[union-attr]
    assert "Say more about 1.1" in body and f"/returns/{return_id}" in body
    with TestClient(app) as head:
        head_token = signed_in(head, clean_db, world.people["signatory_a"])
        head.post(f"/returns/{return_id}/submit", data={**declaration, "csrf_token": head_token})
    with TestClient(app) as qa:
        qa_token = signed_in(qa, clean_db, world.people["qa"])
        qa.post(f"/returns/{return_id}/accept", data={"csrf_token": qa_token})
    accepted = [e for e in emails_to(clean_db) if e[1].startswith("Accepted:")]
    assert len(accepted) == 2
    history = visible_text(client.get(f"/returns/{return_id}/submissions/2").text)
    assert "Returned for amendment" in history and "Say more about 1.1" in history


def test_a_complete_return_is_not_offered_for_signing_once_its_campaign_has_closed(
    respondent, clean_db: Engine, world: World
) -> None:  # type: ignore[no-untyped-def]
    from audit_portal.models import Campaign, CampaignStatus

    client, token, return_id = respondent
    answer_everything(client, token, return_id, clean_db, world)
    assert "Ready to sign" in visible_text(client.get("/dashboard").text)
    with session_scope(clean_db, write=True) as db:
        campaign = db.get(Campaign, db.get(Return, return_id).campaign_id)
        campaign.status = CampaignStatus.CLOSED.value
        db.add(campaign)
    page = visible_text(client.get("/dashboard").text)
    assert "Ready to sign" not in page and "In progress" in page


@pytest.mark.parametrize("persona", ["admin", "qa", "scrutineer"])
def test_every_dashboard_heading_has_something_under_it(
    persona: str, app: Starlette, clean_db: Engine, world: World
) -> None:
    """A partnership role with no administration links (the scrutineer) gets no empty heading."""
    with TestClient(app) as client:
        signed_in(client, clean_db, world.people[persona])
        page = client.get("/dashboard").text
    for section in re.split(r'<h2 class="govuk-heading-m"', page)[1:]:
        heading = section.split(">", 1)[1].split("</h2>", 1)[0]
        after = section.split("</h2>", 1)[1].split("<h2", 1)[0].split("</main>", 1)[0]
        assert re.search(r"<(li|p|a|table|dl)\b", after), f"{persona}: '{heading}' heads nothing"
