"""The return journey's remaining checks over HTTP: what autosave says is still needed (and
stops saying once it is done), what changed between revisions, the round trip from check
answers to a question and back, the task list's statuses, and the list pages' filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import clock
from audit_portal.db import session_scope
from audit_portal.models import Organisation, Return, saved_id
from audit_portal.returns.answers import field_prefix
from tests.builders import (
    all_green,
    answer_everything,
    last_years_submission,
    section_items,
    visible_text,
)
from tests.personas import World, signed_in

NEEDS_NARRATIVE = "Still needed: Explain the rating ‘Partly in place’ in the narrative"
NEEDS_ACTION = "Still needed: Add at least one action for this rating"
NEEDS_REASON = "Still needed: Say why this does not apply"


class _ById(HTMLParser):
    """The text inside the element with one id (None when no element has it)."""

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.depth, self.found = wanted, 0, False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1 if tag not in {"input", "br"} else 0
        elif dict(attrs).get("id") == self.wanted:
            self.found, self.depth = True, 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(html: str, element_id: str) -> str | None:
    """What a person reads inside the element with ``element_id``, or None if there is none."""
    parser = _ById(element_id)
    parser.feed(html)
    return " ".join("".join(parser.parts).split()) if parser.found else None


Respondent = tuple[TestClient, str, int]


@pytest.fixture
def respondent(
    app: Starlette, clean_db: Engine, world: World
) -> Iterator[tuple[TestClient, str, int]]:
    with TestClient(app, follow_redirects=False) as client:
        token = signed_in(client, clean_db, world.people["respondent_a"])
        yield client, token, world.returns[world.org_a]


def autosave(client: TestClient, token: str, return_id: int, item_id: str, **fields: str) -> str:
    """One item saved as htmx sends it: that item's fields only, with the version the page holds."""
    prefix = field_prefix(item_id)
    page = client.get(f"/returns/{return_id}/sections/{item_id.rsplit('.', 1)[0]}").text
    version = re.search(rf'name="{prefix}-version" id="{prefix}-version" value="(\d*)"', page)
    data = {"csrf_token": token, f"{prefix}-version": version.group(1) if version else ""}
    data |= {f"{prefix}-{name.replace('_', '-')}": value for name, value in fields.items()}
    response = client.post(
        f"/returns/{return_id}/items/{item_id}", data=data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text[:500]
    return response.text


def versions_on(client: TestClient, url: str) -> dict[str, str]:
    """The answer versions a section page holds, as a browser would send them back."""
    page = client.get(url).text
    return dict(re.findall(r'name="(item-[a-z0-9-]+-version)" id="[^"]+" value="(\d+)"', page))


# --- autosave: what is still needed, and when it stops being needed ------------------------------


def test_autosave_shows_what_a_partly_rating_still_needs_by_each_field_and_clears_it(
    respondent: Respondent, clean_db: Engine, world: World
) -> None:
    client, token, return_id = respondent
    rated = autosave(client, token, return_id, "s175.1.1", value="2")
    assert "Saved at" in (text_of(rated, "item-s175-1-1-status") or "")
    # By each field the rating needs, not only in the status line.
    assert text_of(rated, "item-s175-1-1-narrative-needed") == NEEDS_NARRATIVE
    assert text_of(rated, "item-s175-1-1-actions-needed") == NEEDS_ACTION

    explained = autosave(
        client, token, return_id, "s175.1.1", value="2", narrative="Visits are not minuted."
    )
    assert text_of(explained, "item-s175-1-1-narrative-needed") == "", "the hint goes at once"
    assert text_of(explained, "item-s175-1-1-actions-needed") == NEEDS_ACTION
    status = text_of(explained, "item-s175-1-1-status") or ""
    assert "Add at least one action" in status and "Explain the rating" not in status

    page = client.get(f"/returns/{return_id}/sections/s175.1").text
    assert text_of(page, "item-s175-1-1-narrative-needed") == ""
    assert text_of(page, "item-s175-1-1-actions-needed") == NEEDS_ACTION

    data = all_green(
        section_items(clean_db, world, "s175.1"),
        token,
        **{"item-s175-1-1-value": "2", "item-s175-1-1-narrative": "Visits are not minuted."},
    ) | versions_on(client, f"/returns/{return_id}/sections/s175.1")
    added = client.post(
        f"/returns/{return_id}/sections/s175.1",
        data=data
        | {
            "add_action": "s175.1.1",
            "item-s175-1-1-action-what": "Minute every visit",
            "item-s175-1-1-action-owner": "Chair",
            "item-s175-1-1-action-target-day": "1",
            "item-s175-1-1-action-target-month": "9",
            "item-s175-1-1-action-target-year": str(clock.today().year + 1),
        },
    )
    assert added.status_code == 303
    page = client.get(f"/returns/{return_id}/sections/s175.1").text
    assert "Still needed" not in visible_text(page)
    again = autosave(
        client,
        token,
        return_id,
        "s175.1.1",
        value="2",
        narrative="Visits are not minuted.",
        evidence="Visit notes",
    )
    assert text_of(again, "item-s175-1-1-actions-needed") == ""
    assert "Still needed" not in visible_text(again)


def test_autosave_clears_the_hint_a_saved_page_showed_for_a_not_applicable_reason(
    respondent: Respondent, clean_db: Engine, world: World
) -> None:
    """The page was saved without JavaScript and says what is needed by the field; the person
    then types the reason with JavaScript on: the hint must not stay until a reload."""
    client, token, return_id = respondent
    data = all_green(
        section_items(clean_db, world, "s175.1"), token, **{"item-s175-1-2-value": "na"}
    )
    saved = client.post(f"/returns/{return_id}/sections/s175.1", data=data)
    assert saved.status_code == 200
    assert text_of(saved.text, "item-s175-1-2-na-reason-needed") == NEEDS_REASON
    fixed = autosave(
        client, token, return_id, "s175.1.2", value="na", na_reason="We have no board."
    )
    assert text_of(fixed, "item-s175-1-2-na-reason-needed") == ""
    assert "hx-swap-oob" in fixed and "Still needed" not in visible_text(fixed)


def test_a_refused_autosave_leaves_the_hints_of_the_saved_answer_alone(
    respondent: Respondent,
) -> None:
    client, token, return_id = respondent
    autosave(client, token, return_id, "s175.1.1", value="2")
    refused = autosave(client, token, return_id, "s175.1.1", value="2", narrative="x" * 5001)
    assert "Not saved" in (text_of(refused, "item-s175-1-1-status") or "")
    assert "Saved at" not in refused, "never a stale 'Saved' line"
    assert text_of(refused, "item-s175-1-1-narrative-needed") is None, "nothing was saved"
    page = client.get(f"/returns/{return_id}/sections/s175.1").text
    assert text_of(page, "item-s175-1-1-narrative-needed") == NEEDS_NARRATIVE


# --- revisions: what changed -----------------------------------------------------------------------


def sign(app: Starlette, engine: Engine, world: World, return_id: int) -> None:
    with TestClient(app, follow_redirects=False) as head:
        token = signed_in(head, engine, world.people["signatory_a"])
        done = head.post(
            f"/returns/{return_id}/submit",
            data={"csrf_token": token, "name": "Hal Head", "role": "Head", "confirm": "yes"},
        )
        assert done.status_code == 200, visible_text(done.text)[:1000]


def test_a_revised_return_marks_what_changed_since_the_previous_revision(
    respondent: Respondent, app: Starlette, clean_db: Engine, world: World
) -> None:
    client, token, return_id = respondent
    answer_everything(client, token, return_id, clean_db, world)
    sign(app, clean_db, world, return_id)
    with TestClient(app, follow_redirects=False) as qa:
        qa_token = signed_in(qa, clean_db, world.people["qa"])
        qa.post(
            f"/returns/{return_id}/amend",
            data={"csrf_token": qa_token, "reason": "Governor training is overdue"},
        )
    url = f"/returns/{return_id}/sections/s175.1"
    amended = all_green(
        section_items(clean_db, world, "s175.1"),
        token,
        **{
            "item-s175-1-2-value": "2",
            "item-s175-1-2-narrative": "Two governors are overdue.",
            "item-s175-1-5-narrative": "Reviewed by the board in May.",
        },
    ) | versions_on(client, url)
    client.post(
        url,
        data=amended
        | {
            "add_action": "s175.1.2",
            "item-s175-1-2-action-what": "Train the two governors",
            "item-s175-1-2-action-owner": "Clerk",
            "item-s175-1-2-action-target-day": "1",
            "item-s175-1-2-action-target-month": "6",
            "item-s175-1-2-action-target-year": str(clock.today().year + 1),
        },
    )
    assert client.post(url, data=amended | versions_on(client, url)).status_code == 303
    sign(app, clean_db, world, return_id)

    with TestClient(app) as qa:
        signed_in(qa, clean_db, world.people["qa"])
        second = qa.get(f"/returns/{return_id}/submissions/2").text
        first = qa.get(f"/returns/{return_id}/submissions/1").text
    page = visible_text(second)
    assert "Compared with Revision 1" in page
    assert "Governor training is overdue" in page, "the reason it was returned"
    assert page.count("Changed since revision 1:") == 2, "only the two answers that changed"
    standard = text_of(second, "standard-s175-1") or ""
    assert "2 answers changed since the previous revision" in standard
    training = standard[standard.index("1.2 Every governor") : standard.index("1.3 ")]
    assert "Partly in place" in training and "Two governors are overdue." in training
    assert (
        "Changed since revision 1: the rating (was Fully in place), the explanation, the actions"
        in training
    )
    assert "Action: Train the two governors" in training
    equality = standard[standard.index("1.3 ") : standard.index("1.4 ")]
    assert "Changed since revision 1: the explanation" in equality
    assert "was Fully in place" not in equality, "the rating did not change: do not say it did"
    assert "Changed" not in (text_of(second, "standard-s175-2") or "")
    assert "Changed since" not in visible_text(first), "the first revision has nothing before it"


# --- check answers: Change goes to the question and comes back ----------------------------------


def test_change_on_check_answers_goes_to_the_question_and_back_to_check_answers(
    respondent: Respondent, clean_db: Engine, world: World
) -> None:
    client, token, return_id = respondent
    answer_everything(client, token, return_id, clean_db, world)
    check = client.get(f"/returns/{return_id}/check").text
    link = re.search(
        r'<a class="govuk-link" href="([^"]+)">Change<span class="govuk-visually-hidden"> '
        r"the answer to question 1\.2</span></a>",
        check,
    )
    assert link is not None, "a Change link for each answer, named for the question"
    href = link.group(1)
    assert href == f"/returns/{return_id}/sections/s175.1?return_to=check#item-s175-1-2-item"
    path = href.split("#")[0]
    question = client.get(path)
    assert question.status_code == 200 and 'id="item-s175-1-2-item"' in question.text
    assert f'action="/returns/{return_id}/sections/s175.1?return_to=check"' in question.text
    assert "go on to checking your answers" not in question.text

    # A rating that needs more: saved, told what is needed, and offered the way back.
    data = all_green(section_items(clean_db, world, "s175.1"), token) | versions_on(client, path)
    needs_more = client.post(path, data=data | {"item-s175-1-2-value": "2"})
    assert needs_more.status_code == 200
    assert f'href="/returns/{return_id}/check">go on to checking your answers' in needs_more.text
    added = client.post(
        path,
        data=data
        | versions_on(client, path)
        | {
            "item-s175-1-2-value": "2",
            "item-s175-1-2-narrative": "Two governors are overdue.",
            "add_action": "s175.1.2",
            "item-s175-1-2-action-what": "Train them",
            "item-s175-1-2-action-owner": "Clerk",
            "item-s175-1-2-action-target-day": "1",
            "item-s175-1-2-action-target-month": "6",
            "item-s175-1-2-action-target-year": str(clock.today().year + 1),
        },
    )
    assert added.status_code == 303
    assert added.headers["location"].endswith("?return_to=check#item-s175-1-2-actions")
    done = client.post(
        path,
        data=data
        | versions_on(client, path)
        | {"item-s175-1-2-value": "2", "item-s175-1-2-narrative": "Two governors are overdue."},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/returns/{return_id}/check"
    after = visible_text(client.get(done.headers["location"]).text)
    assert "Partly in place" in after and "Two governors are overdue." in after
    assert "Action: Train them" in after and "to finish before" not in after


# --- the task list -----------------------------------------------------------------------------


def task_statuses(html: str) -> list[str]:
    """Each standard's status on the task list, in order, as people read it."""
    found = re.findall(
        r'class="govuk-task-list__status" id="task-\d+-status">(.*?)</div>', html, re.S
    )
    return [visible_text(status) for status in found]


def task_links(html: str) -> int:
    return len(re.findall(r'class="govuk-link govuk-task-list__link"', html))


def test_task_list_statuses_follow_what_has_been_filled_in(
    respondent: Respondent, clean_db: Engine, world: World
) -> None:
    client, token, return_id = respondent
    overview = f"/returns/{return_id}"
    page = client.get(overview).text
    assert task_statuses(page) == ["Not started"] * 14 and task_links(page) == 14
    items = section_items(clean_db, world, "s175.1")
    first_two = {k: v for k, v in all_green(items, token).items() if "1-5" not in k}
    first_two = {k: v for k, v in first_two.items() if "1-6" not in k and "1-7" not in k}
    client.post(f"/returns/{return_id}/sections/s175.1", data=first_two)
    page = client.get(overview).text
    assert task_statuses(page)[:2] == ["In progress", "Not started"]
    assert "2 of 5 questions answered" in visible_text(page)

    url = f"/returns/{return_id}/sections/s175.1"
    client.post(url, data=all_green(items, token) | versions_on(client, url))
    page = client.get(overview).text
    assert task_statuses(page)[:2] == ["Completed", "Not started"]
    assert "1 of 14 standards completed" in visible_text(page)

    # Answered, but a 'Not in place' still needs an explanation and an action: not completed.
    client.post(
        url, data=all_green(items, token, **{"item-s175-1-7-value": "1"}) | versions_on(client, url)
    )
    page = client.get(overview).text
    assert task_statuses(page)[0] == "In progress"
    assert "0 of 14 standards completed" in visible_text(page)


def test_task_list_says_cannot_start_yet_before_the_campaign_opens(
    respondent: Respondent, clean_db: Engine, world: World
) -> None:
    client, _, return_id = respondent
    with clock.travel(date(2026, 1, 4)):  # the campaign opens on 5 January
        page = client.get(f"/returns/{return_id}").text
    assert task_statuses(page) == ["Cannot start yet"] * 14
    assert task_links(page) == 0, "a task that cannot start yet is not a link"
    with clock.travel(date(2026, 1, 5)):
        page = client.get(f"/returns/{return_id}").text
    assert task_statuses(page) == ["Not started"] * 14 and task_links(page) == 14


# --- list pages: filters are plain query parameters ----------------------------------------------


def add_nursery(engine: Engine, world: World) -> int:
    """An early years setting in the South, invited to the same campaign; its return's id."""
    with session_scope(engine, write=True) as db:
        nursery = Organisation(
            name="Gamma Day Nursery",
            duty_type="section-175-early-years",
            kind="early-years",
            identifier_scheme="ofsted-urn",
            identifier="EY100003",
            district="South",
        )
        db.add(nursery)
        db.flush()
        ret = Return(campaign_id=world.campaign_id, organisation_id=saved_id(nursery))
        db.add(ret)
        db.flush()
        return saved_id(ret)


def listed(html: str) -> list[str]:
    """The organisations (or campaigns) a list of returns shows, in order."""
    table = html[html.index('class="govuk-link app-sort"') :]  # the list, after its sort links
    body = table[table.index('<tbody class="govuk-table__body">') :]
    body = body[: body.index("</tbody>")]
    return re.findall(r'<a class="govuk-link" href="/returns/\d+">([^<]+)</a>', body)


def test_campaign_returns_filter_by_kind_status_and_district_as_query_parameters(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    add_nursery(clean_db, world)
    with session_scope(clean_db, write=True) as db:
        beta = db.get(Return, world.returns[world.org_b])
        assert beta is not None
        beta.status = "in_progress"
        db.add(beta)
    base = f"/campaigns/{world.campaign_id}"
    with TestClient(app) as qa:
        signed_in(qa, clean_db, world.people["qa"])
        everyone = qa.get(base).text
        assert listed(everyone) == ["Alpha Primary School", "Beta Academy", "Gamma Day Nursery"]
        assert listed(qa.get(f"{base}?kind=early-years").text) == ["Gamma Day Nursery"]
        assert listed(qa.get(f"{base}?kind=school").text) == [
            "Alpha Primary School",
            "Beta Academy",
        ]
        south_schools = qa.get(f"{base}?kind=school&district=South").text
        assert listed(south_schools) == ["Beta Academy"]
        assert "Returns: 1" in visible_text(south_schools)
        assert '<option value="school" selected>' in south_schools, "the form shows the filter"
        assert '<option value="South" selected>' in south_schools
        not_started = qa.get(f"{base}?status=not_started&sort=organisation&order=desc").text
        assert listed(not_started) == ["Gamma Day Nursery", "Alpha Primary School"]
        sort_by_status = re.search(r'href="([^"]*sort=status[^"]*)"', not_started)
        assert sort_by_status is not None
        assert "status=not_started" in sort_by_status.group(1), "sorting keeps the filter"
        nobody = visible_text(qa.get(f"{base}?status=accepted").text)
        assert "No returns match these choices." in nobody
        assert qa.get(f"{base}?kind=%3Cscript%3E&district=%00").status_code in {200, 400}


def test_an_organisations_returns_filter_by_status(
    app: Starlette, clean_db: Engine, world: World
) -> None:
    last_years_submission(clean_db, world)
    base = f"/organisations/{world.org_a}"
    with TestClient(app) as qa:
        signed_in(qa, clean_db, world.people["qa"])
        assert sorted(listed(qa.get(base).text)) == ["Schools audit 2023", "Schools audit 2026"]
        assert listed(qa.get(f"{base}?status=accepted").text) == ["Schools audit 2023"]
        assert listed(qa.get(f"{base}?status=not_started").text) == ["Schools audit 2026"]
        newest = qa.get(f"{base}?sort=campaign&order=desc").text
        assert listed(newest) == ["Schools audit 2026", "Schools audit 2023"]


def test_a_null_character_in_the_address_is_a_plain_400_before_any_database_work(
    respondent: tuple[TestClient, str, int],
) -> None:
    """A path parameter reaches the database as a bound value; PostgreSQL refuses a NUL in
    text with an error, so the guard refuses it first, as it does in a query or a form."""
    client, token, return_id = respondent
    for path in (f"/returns/{return_id}/items/%00", f"/returns/{return_id}/items/s175.1.1%00"):
        response = client.post(path, data={"csrf_token": token}, headers={"HX-Request": "true"})
        assert response.status_code == 400, path
        assert "null character" in visible_text(response.text)
