"""The campaign report page: its figures against an independent count over generated returns,
small-number suppression, filters as query parameters, the htmx fragment, the empty state, who
may see it, and a fixed number of statements however many returns there are."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import Engine
from sqlmodel import col, select
from starlette.testclient import TestClient

from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import Campaign, FollowUp, FollowUpSubmission, Return, ReturnStatus
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.reports.campaign_report import STAGES, campaign_report
from audit_portal.reports.figures import SUBMITTED, Share, change_text, percentage_points
from audit_portal.reports.queries import ReportFilters
from tests.personas import World, add_action_and_submission, signed_in
from tests.report_data import Generated, definition, expected_figures, generate, table_rows
from tests.web.test_statements_per_request import counting

THRESHOLD = 5
FEWER = f"fewer than {THRESHOLD}"


def url(campaign_id: int, query: str = "") -> str:
    return f"/campaigns/{campaign_id}/report" + (f"?{query}" if query else "")


def shown_right(text: str, count: int, of: int) -> bool:
    """A cell is the true share, or hidden as the rules allow: never a wrong number."""
    if 0 < count < THRESHOLD:
        return text == FEWER
    return text in {Share(count, of).text, "withheld"}


def keep_all(g: Generated) -> set[int]:
    return set(g.orgs)


def test_the_figures_on_the_page_match_an_independent_count(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    d = definition(settings)
    g = generate(clean_db, d, seed=20261203)
    signed_in(client, clean_db, world.people["qa"])
    response = client.get(url(g.campaign_id))
    assert response.status_code == 200
    page = response.text
    submitted = sum(s in SUBMITTED for s in g.status.values())
    started = sum(s is not ReturnStatus.NOT_STARTED for s in g.status.values())
    accepted = sum(s is ReturnStatus.ACCEPTED for s in g.status.values())
    assert f'<dd class="govuk-summary-list__value">{len(g.orgs)}</dd>' in page
    for share in (Share(started, 30), Share(submitted, 30), Share(accepted, 30)):
        assert share.text in page
    assert f"{submitted} returned, against" not in page  # no earlier campaign
    assert "No earlier campaign of this questionnaire to compare with" in page

    expected = expected_figures(g, d, keep_all(g))
    less = {p.value for p in d.rating_scale.points if p.less_effective}
    rows = {r[0].split()[0]: r for r in table_rows(page, "item-table")}
    points = [p.value for p in d.rating_scale.points]
    seen_fewer = 0
    for item_id, (answered, not_applicable, counts, effective, less_effective) in expected.items():
        row = rows[item_id]
        rated = answered - not_applicable
        assert row[-2:] == [str(rated), str(not_applicable)], item_id
        for value, text in zip(points, row[1 : 1 + len(points)], strict=True):
            if rated:
                assert shown_right(text, counts[value], rated), (item_id, value, text)
            seen_fewer += text == FEWER
        assert sum(counts[v] for v in less) == less_effective
        effective_text = row[1 + len(points)]
        if 0 < effective < THRESHOLD:
            assert effective_text == FEWER
        elif 0 < less_effective < THRESHOLD:
            assert effective_text == "withheld"
        elif rated:
            assert effective_text in {Share(effective, rated).text, "withheld"}
    assert seen_fewer, "a campaign of 30 has small cells: they must show as fewer than 5"
    assert "Organisations that answered “not applicable” are left out of the denominator" in page


def test_the_report_object_without_suppression_equals_the_independent_count(
    clean_db: Engine, settings: Settings, world: World
) -> None:
    """With a threshold of 1 nothing is hidden, so every number can be compared exactly."""
    d = definition(settings)
    catalogue = load_catalogue(settings.questionnaires_dir)
    earlier = generate(clean_db, d, seed=7)
    g = generate(clean_db, d, seed=20261203)
    with session_scope(clean_db, write=True) as db:
        previous = db.get(Campaign, earlier.campaign_id)
        assert previous is not None
        previous.opens_on, previous.title = date(2025, 1, 6), "Schools audit 2025"
        db.add(previous)
    with session_scope(clean_db, write=False) as db:
        campaign = db.get(Campaign, g.campaign_id)
        assert campaign is not None
        report = campaign_report(
            db, catalogue, campaign, ReportFilters(district="North"), date(2026, 5, 1), 1
        )
    keep = {o for o, facts in g.orgs.items() if facts["district"] == "North"}
    kept_before = {o for o, facts in earlier.orgs.items() if facts["district"] == "North"}
    returned_before = sum(earlier.status[o] in SUBMITTED for o in kept_before)
    returned = sum(g.status[o] in SUBMITTED for o in keep)
    assert report.submitted == returned
    assert report.response.comparison == f"{returned} returned, against {returned_before} last year"
    assert report.response.overall.invited == len(keep)
    stages = Counter(
        STAGES[0]
        if g.status[o] is ReturnStatus.NOT_STARTED
        else STAGES[3]
        if g.status[o] is ReturnStatus.ACCEPTED
        else STAGES[2]
        if g.status[o] in SUBMITTED
        else STAGES[1]
        for o in keep
    )
    by_kind = report.response.by["district"]
    assert {s: by_kind.cell("North", s).value for s in STAGES} == {s: stages[s] for s in STAGES}
    assert len(report.response.not_returning) == len(keep) - returned
    expected = expected_figures(g, d, keep)
    for row in report.item_rows:
        answered, not_applicable, counts, effective, _ = expected[row.item_id]
        assert row.rated == answered - not_applicable
        assert row.effective.share == Share(effective, answered - not_applicable)
        for value, n in counts.items():
            assert report.items.cell(row.item_id, str(value)).value == n
    before = expected_figures(earlier, d, kept_before)
    assert report.year_on_year is not None
    for c in report.year_on_year.compared:
        a, na, _, e, _ = expected[c.item_id]
        pa, pna, _, pe, _ = before[c.previous_item_id]
        assert c.change == change_text(percentage_points(Share(e, a - na), Share(pe, pa - pna)))
    weakest = report.weaknesses[0].item
    assert weakest.less_effective.share.fraction == max(
        r.less_effective.share.fraction or 0 for r in report.item_rows
    )


def test_filters_are_query_parameters_and_htmx_gets_only_the_results(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    g = generate(clean_db, definition(settings), seed=11)
    north = sum(facts["district"] == "North" for facts in g.orgs.values())
    signed_in(client, clean_db, world.people["admin"])
    page = client.get(url(g.campaign_id, "district=North&kind=")).text
    assert "Showing organisations with district: North." in page
    assert f'<dd class="govuk-summary-list__value">{north}</dd>' in page
    assert '<option value="North" selected>' in page
    fragment = client.get(url(g.campaign_id, "district=North"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="report-results"')
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert "Showing organisations with district: North." in fragment.text


def test_filter_values_that_do_not_exist_are_a_clear_400(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    signed_in(client, clean_db, world.people["qa"])
    for query, message in [
        ("kind=spaceship", "There is no such kind"),
        ("district=Atlantis", "There is no such district"),
        ("flag=" + "x" * 5000, "There is no such intelligence flag"),
        ("phase=reception", "There is no such phase"),
        ("sector=police%27--", "There is no such sector"),
    ]:
        response = client.get(url(world.campaign_id, query))
        assert response.status_code == 400, query
        assert "There is a problem" in response.text and message in response.text
        assert response.text.count("<title>Error: ") == 1
    assert client.get(url(world.campaign_id, "phase=%00%FF")).status_code == 400
    fragment = client.get(url(world.campaign_id, "kind=spaceship"), headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "There is no such kind" in fragment.text


def test_a_campaign_with_no_submissions_has_a_clear_empty_state(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    signed_in(client, clean_db, world.people["scrutineer"])
    response = client.get(url(world.campaign_id))
    assert response.status_code == 200
    assert "No returns have been submitted yet" in response.text
    assert Share(0, 2).text in response.text
    assert 'id="item-table"' not in response.text
    assert client.get(url(2_000_000_001)).status_code == 404


def test_the_scrutineer_sees_figures_but_no_answer_level_links(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    g = generate(clean_db, definition(settings), seed=3)
    signed_in(client, clean_db, world.people["scrutineer"])
    page = client.get(url(g.campaign_id)).text
    assert 'id="item-table"' in page and 'id="not-returning"' in page
    assert "/organisations/" not in page and "/returns/" not in page
    home = client.get("/dashboard").text
    assert f'href="{url(g.campaign_id)}"' in home and f'href="{url(world.campaign_id)}"' in home
    signed_in(client, clean_db, world.people["qa"])
    assert "/organisations/" in client.get(url(g.campaign_id)).text
    assert f'href="{url(world.campaign_id)}"' in client.get(f"/campaigns/{world.campaign_id}").text


def test_organisation_users_cannot_see_the_report(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    for persona in ("respondent_a", "signatory_a", "respondent_b", "no_roles"):
        signed_in(client, clean_db, world.people[persona])
        assert client.get(url(world.campaign_id)).status_code in (403, 404), persona
        assert f'href="{url(world.campaign_id)}"' not in client.get("/dashboard").text


def test_follow_up_figures_count_each_follow_up_once(
    client: TestClient, clean_db: Engine, world: World
) -> None:
    add_action_and_submission(clean_db, world)
    with session_scope(clean_db, write=False) as db:
        total = len(
            db.exec(
                select(FollowUp)
                .join(Return, col(Return.id) == FollowUp.return_id)
                .where(Return.campaign_id == world.campaign_id)
            ).all()
        )
        assert db.exec(select(FollowUpSubmission)).first() is not None
    signed_in(client, clean_db, world.people["qa"])
    page = client.get(url(world.campaign_id)).text
    assert total == 2
    assert f"Completed (accepted): {Share(0, total).text}." in page
    assert FEWER in page  # two follow-ups at one status: a small cell


def test_the_report_reads_a_fixed_number_of_statements(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    signed_in(client, clean_db, world.people["scrutineer"])
    client.get(url(world.campaign_id))
    with counting(clean_db) as empty:
        assert client.get(url(world.campaign_id)).status_code == 200
    g = generate(clean_db, definition(settings), seed=5)
    generate(clean_db, definition(settings), seed=6)  # a second, previous-looking campaign
    with counting(clean_db) as full:
        assert client.get(url(g.campaign_id, "district=North")).status_code == 200
    assert len(full.statements) <= 20, full.statements
    assert len(full.statements) <= len(empty.statements) + 4
    assert full.checkouts == 1
