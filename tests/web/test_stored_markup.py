"""Stored XSS: markup and htmx attributes typed into a return, an action, an evidence
explanation, a QA comment, a feedback letter and a challenge event are shown as text everywhere
they appear, never run or swapped in: in the organisation's and QA's pages, in the exports (as
text, a formula neutralised) and in the PDFs (pypdf reads the characters as typed). The campaign
report, its spreadsheet and its CSV show no narrative at all (figures only), so for them the
check is that nothing typed arrives as markup or as a formula.

Everything is typed through the real forms, as the people who would type it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import ChallengeEvent, DipSample, Submission, saved_id
from audit_portal.returns.answers import field_prefix
from tests.builders import answer_everything, two_ambers_form, visible_text
from tests.challenge_builders import draft_challenge, issue_over_http
from tests.personas import World, signed_in

MARKUP = "<img src=x onerror=alert(1)>"
HTMX = '<div hx-get="/x" hx-trigger="load">swap me</div>'
FORMULA = '=HYPERLINK("http://x.example","<b>click</b>")'
# What must never reach a page as markup: the tags and attributes as a browser would parse them.
LIVE = ("<img src=x", "<div hx-get", 'hx-get="/x"', 'hx-trigger="load"', "<b>click</b>")


@dataclass(frozen=True)
class Typed:
    return_id: int
    challenge_id: int
    sample_id: int
    event_id: int


def as_person(app: Starlette, engine: Engine, world: World, persona: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    return client, signed_in(client, engine, world.people[persona])


def type_into_the_return(app: Starlette, engine: Engine, world: World, return_id: int) -> None:
    """Standard 1 with two amber items: markup in their narratives and an action."""
    client, token = as_person(app, engine, world, "respondent_a")
    with client:
        answer_everything(client, token, return_id, engine, world, skip={"s175.1"})
        one, two = field_prefix("s175.1.1"), field_prefix("s175.1.2")
        for item_id, what in (("s175.1.1", MARKUP), ("s175.1.2", "Train the governors")):
            prefix = f"{field_prefix(item_id)}-action"
            data = two_ambers_form(client, engine, world, token) | {
                f"{one}-narrative": MARKUP,
                f"{one}-evidence": HTMX,
                f"{two}-narrative": FORMULA,
                "add_action": item_id,
                f"{prefix}-what": what,
                f"{prefix}-owner": HTMX,
                f"{prefix}-target-day": "31",
                f"{prefix}-target-month": "7",
                f"{prefix}-target-year": "2026",
            }
            saved = client.post(f"/returns/{return_id}/sections/s175.1", data=data)
            assert saved.status_code == 303, visible_text(saved.text)[:2000]


def sign(app: Starlette, engine: Engine, world: World, return_id: int) -> None:
    client, token = as_person(app, engine, world, "signatory_a")
    with client:
        declaration = {"name": "Hal Head", "role": "Headteacher", "confirm": "yes"}
        done = client.post(
            f"/returns/{return_id}/submit", data={"csrf_token": token, **declaration}
        )
        assert done.status_code == 200, visible_text(done.text)[:2000]


def challenge_and_explain(app: Starlette, engine: Engine, world: World, return_id: int) -> int:
    """A sampled return, challenged on item 1, explained with markup and reviewed with it."""
    with session_scope(engine, write=True) as db:
        submission = db.exec(select(Submission).where(Submission.return_id == return_id)).one()
        made = draft_challenge(db, world, world.org_a, saved_id(submission))
        sample = db.get(DipSample, made.sample_id)
        assert sample is not None
        sample.chosen_by_name = MARKUP  # the QA member's name as they typed it in their account
        db.add(sample)
    issue_over_http(app, engine, world, made.challenge_id, ["s175.1.1"], date(2026, 5, 15))
    cid = made.challenge_id
    client, token = as_person(app, engine, world, "respondent_a")
    with client:
        explanation = {"item-s175-1-1-explanation": HTMX, "item-s175-1-1-version": "0"}
        saved = client.post(f"/challenges/{cid}", data={"csrf_token": token, **explanation})
        assert saved.status_code == 303, visible_text(saved.text)[:2000]
        done = client.post(f"/challenges/{cid}/submit", data={"csrf_token": token})
        assert done.status_code == 303, visible_text(done.text)[:2000]
    qa, token = as_person(app, engine, world, "qa")
    with qa:
        outcome = {
            "item-s175-1-1-outcome": "partly_substantiated",
            "item-s175-1-1-rating": "2",
            "item-s175-1-1-comment": MARKUP,
        }
        reviewed = qa.post(
            f"/challenges/{cid}/items/s175.1.1/outcome", data={"csrf_token": token, **outcome}
        )
        assert reviewed.status_code == 303, visible_text(reviewed.text)[:2000]
    return cid


def write_letter_and_event(app: Starlette, engine: Engine, world: World, return_id: int) -> int:
    qa, token = as_person(app, engine, world, "qa")
    with qa:
        url = f"/feedback-letters/{return_id}"
        body = f"Dear Alpha,\n{MARKUP}\n{HTMX}"
        saved = qa.post(url, data={"csrf_token": token, "body": body, "version": "0"})
        assert saved.status_code == 303, visible_text(saved.text)[:2000]
        sent = qa.post(f"{url}/send", data={"csrf_token": token, "version": "1"})
        assert sent.status_code == 303, visible_text(sent.text)[:2000]
        event = {
            "held_on-day": "2",
            "held_on-month": "4",
            "held_on-year": "2026",
            "attendees": HTMX,
            "notes": MARKUP,
            "organisations": [str(world.org_a)],
        }
        recorded = qa.post(
            f"/campaigns/{world.campaign_id}/challenge-events/new",
            data={"csrf_token": token, **event},
        )
        assert recorded.status_code == 303, visible_text(recorded.text)[:2000]
    with session_scope(engine, write=False) as db:
        return saved_id(db.exec(select(ChallengeEvent)).one())


@pytest.fixture
def typed(app: Starlette, clean_db: Engine, world: World) -> Iterator[Typed]:
    return_id = world.returns[world.org_a]
    with clock.travel(date(2026, 3, 1)):
        type_into_the_return(app, clean_db, world, return_id)
        sign(app, clean_db, world, return_id)
    with clock.travel(date(2026, 4, 3)):
        challenge_id = challenge_and_explain(app, clean_db, world, return_id)
        event_id = write_letter_and_event(app, clean_db, world, return_id)
        with session_scope(clean_db, write=False) as db:
            sample_id = saved_id(db.exec(select(DipSample)).one())
        yield Typed(return_id, challenge_id, sample_id, event_id)


def assert_shown_as_text(html: str, where: str, *expected: str) -> None:
    for live in LIVE:
        assert live not in html, f"{where}: {live!r} reached the page as markup"
    text = visible_text(html)
    for value in expected:
        assert value in text, f"{where}: {value!r} is not shown as typed"


def test_markup_is_shown_as_text_on_every_page(
    app: Starlette, clean_db: Engine, world: World, typed: Typed
) -> None:
    rid, cid = typed.return_id, typed.challenge_id
    pages = {
        "respondent_a": {
            f"/returns/{rid}": (),
            f"/returns/{rid}/check": (MARKUP, HTMX, FORMULA),
            f"/returns/{rid}/summary": (MARKUP, HTMX),
            f"/returns/{rid}/submissions/1": (MARKUP, HTMX, FORMULA),
            f"/returns/{rid}/follow-up": (MARKUP, HTMX),
            f"/returns/{rid}/feedback": (MARKUP, HTMX),
            f"/challenges/{cid}": (HTMX, MARKUP),
            "/dashboard": (),
        },
        "qa": {
            f"/returns/{rid}": (),
            f"/returns/{rid}/check": (MARKUP, HTMX, FORMULA),
            f"/returns/{rid}/actions": (),
            f"/challenges/{cid}/review": (HTMX, MARKUP),
            f"/feedback-letters/{rid}": (MARKUP, HTMX),
            f"/campaigns/{world.campaign_id}/feedback-letters": (),
            f"/campaigns/{world.campaign_id}/challenge-events": (),
            f"/challenge-events/{typed.event_id}": (MARKUP, HTMX),
            f"/challenge-events/{typed.event_id}/edit": (MARKUP, HTMX),
            f"/dip-samples/{typed.sample_id}": (MARKUP,),
            f"/campaigns/{world.campaign_id}/report": (),
            f"/campaigns/{world.campaign_id}/follow-ups": (),
        },
        "admin": {"/audit": (), f"/returns/{rid}/check": (MARKUP, HTMX, FORMULA)},
        "scrutineer": {
            f"/campaigns/{world.campaign_id}/report": (),
            f"/challenge-events/{typed.event_id}": (MARKUP, HTMX),
        },
    }
    for persona, expected_on in pages.items():
        client, _ = as_person(app, clean_db, world, persona)
        with client:
            for path, expected in expected_on.items():
                response = client.get(path)
                assert response.status_code == 200, (persona, path, response.status_code)
                assert_shown_as_text(response.text, f"{persona} {path}", *expected)


def test_the_section_page_shows_what_was_typed_as_text(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    return_id = world.returns[world.org_a]
    with clock.travel(date(2026, 3, 1)):
        type_into_the_return(app, clean_db, world, return_id)
        client, _ = as_person(app, clean_db, world, "respondent_a")
        with client:
            html = client.get(f"/returns/{return_id}/sections/s175.1").text
    assert_shown_as_text(html, "the section page", MARKUP, HTMX, FORMULA)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def test_the_pdfs_print_markup_literally(
    app: Starlette, clean_db: Engine, world: World, typed: Typed
) -> None:
    client, _ = as_person(app, clean_db, world, "qa")
    with client:
        summary = client.get(f"/returns/{typed.return_id}/summary.pdf")
        pack = client.get(f"/campaigns/{world.campaign_id}/report.pdf")
    assert summary.status_code == 200 and pack.status_code == 200
    summary_text = pdf_text(summary.content)
    assert MARKUP in summary_text, "the action and the QA comment print as typed"
    squeezed = "".join(summary_text.split())  # a table cell may wrap anywhere
    assert "".join(HTMX.split()) in squeezed, "the action's owner prints as typed"
    assert MARKUP in pdf_text(pack.content), "who chose the sample prints as typed"


def test_exports_carry_markup_as_text_and_neutralise_formulas(
    app: Starlette, clean_db: Engine, world: World, typed: Typed
) -> None:
    client, _ = as_person(app, clean_db, world, "qa")
    with client:
        answers = client.get(f"/campaigns/{world.campaign_id}/answers.csv")
        workbook = client.get(f"/campaigns/{world.campaign_id}/report.xlsx")
        report = client.get(f"/campaigns/{world.campaign_id}/report.csv")
    assert answers.status_code == workbook.status_code == report.status_code == 200
    for download in (answers, workbook, report):
        assert download.headers["x-content-type-options"] == "nosniff"
        assert "attachment" in download.headers["content-disposition"]
        assert not download.headers["content-type"].startswith("text/html")
    cells = [c for row in csv.reader(io.StringIO(answers.text)) for c in row]
    assert MARKUP in cells and HTMX in cells, "narratives and evidence exported as typed"
    assert "'" + FORMULA in cells and FORMULA not in cells, "a formula is neutralised"
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.content))
    values = [str(c) for ws in sheets for row in ws.iter_rows(values_only=True) for c in row if c]
    assert values and not [v for v in values if re.match(r"[=+@]", v)], "no cell is a formula"
    report_cells = [c for row in csv.reader(io.StringIO(report.text)) for c in row]
    assert report_cells and not [c for c in report_cells if re.match(r"[=+@]", c)]
