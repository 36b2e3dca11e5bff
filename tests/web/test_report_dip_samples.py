"""Dip-sample outcomes and the self-versus-moderated gap on the campaign report, against an
independent count over generated challenges: every cell on the page is the true share of the
items reviewed (or compared), or hidden as the small-number rules allow; without suppression
the report object equals the count exactly, filters included; a draft challenge never counts."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine
from starlette.testclient import TestClient

from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import Campaign, Outcome
from audit_portal.models.organisations import KINDS
from audit_portal.questionnaires.load import load_catalogue
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.campaign_report import campaign_report
from audit_portal.reports.figures import Share
from audit_portal.reports.queries import ReportFilters
from tests.personas import World, signed_in
from tests.report_builders import SAMPLE_SEED, ChallengeFact, add_generated_challenges
from tests.report_data import definition, generate

THRESHOLD = 5
FEWER = f"fewer than {THRESHOLD}"
OUTCOMES = [o.label for o in Outcome]
GAPS = ["Moderated lower", "Same", "Moderated higher"]


def body_rows(page: str, table_id: str) -> dict[str, list[str]]:
    """Each body row's visible cells, by the text of its first cell."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert found, f"no table {table_id}"
    rows = {}
    for row in re.findall(r"<tr.*?</tr>", found.group(0).split("<tbody", 1)[1], re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        text = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
        rows[text[0]] = text[1:]
    return rows


def step(d: Definition, value: int | None) -> int | None:
    order = [p.value for p in d.rating_scale.points]
    return order.index(value) if value in order else None


def outcome_counts(facts: list[ChallengeFact], key: Callable[[ChallengeFact], str]) -> dict:
    counts: dict[str, Counter[str]] = {}
    for f in facts:
        if f.outcome:
            counts.setdefault(key(f), Counter())[Outcome(f.outcome).label] += 1
    return counts


def gap_counts(
    facts: list[ChallengeFact], d: Definition, key: Callable[[ChallengeFact], str]
) -> dict:
    counts: dict[str, Counter[str]] = {}
    for f in facts:
        own, theirs = step(d, f.self_rating), step(d, f.moderated)
        if f.outcome is None or own is None or theirs is None:
            continue
        column = GAPS[0] if theirs > own else GAPS[2] if theirs < own else GAPS[1]
        counts.setdefault(key(f), Counter())[column] += 1
    return counts


def hidden_or_true(text: str, count: int, total: int) -> bool:
    if 0 < count < THRESHOLD:
        return text == FEWER
    return text in {Share(count, total).text, "withheld"}


def test_dip_sample_figures_on_the_page_match_an_independent_count(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    d = definition(settings)
    g = generate(clean_db, d, seed=20261203)
    facts = add_generated_challenges(clean_db, g, d, seed=4)
    signed_in(client, clean_db, world.people["scrutineer"])
    page = client.get(f"/campaigns/{g.campaign_id}/report").text

    reviewed = [f for f in facts if f.outcome]
    organisations = len({f.organisation_id for f in facts})
    assert (
        f"{len(facts)} items challenged at {organisations} organisations: {len(reviewed)} "
        f"reviewed by quality assurance, {len(facts) - len(reviewed)} awaiting review."
    ) in " ".join(html.unescape(page).split())

    titles = {s.id: s.title for s in d.sections}
    seen = Counter[str]()
    for table_id, columns, counts in (
        ("dip-outcomes-1", OUTCOMES, outcome_counts(facts, lambda f: titles[f.section_id])),
        ("dip-outcomes-2", OUTCOMES, outcome_counts(facts, lambda f: KINDS[f.kind])),
        ("dip-gaps-1", GAPS, gap_counts(facts, d, lambda f: titles[f.section_id])),
        ("dip-gaps-2", GAPS, gap_counts(facts, d, lambda f: KINDS[f.kind])),
    ):
        rows = body_rows(page, table_id)
        assert set(rows) - {"All"} == set(counts), table_id
        overall: Counter[str] = Counter()
        for group, counted in counts.items():
            total = sum(counted.values())
            overall.update(counted)
            cells = rows[group]
            assert cells[len(columns)] == str(total), (table_id, group)
            for column, text in zip(columns, cells, strict=False):
                assert hidden_or_true(text, counted[column], total), (table_id, group, text)
                seen[text if text in (FEWER, "withheld") else "shown"] += 1
        if len(counts) > 1:
            grand = sum(overall.values())
            assert rows["All"][: len(columns) + 1] == [
                *(Share(overall[c], grand).text for c in columns),
                str(grand),
            ], table_id
    assert seen[FEWER] and seen["shown"], seen  # the data has both small and larger cells


def test_without_suppression_the_report_equals_the_count_with_filters(
    clean_db: Engine, world: World, settings: Settings
) -> None:
    d = definition(settings)
    catalogue = load_catalogue(settings.questionnaires_dir)
    g = generate(clean_db, d, seed=20261203)
    facts = add_generated_challenges(clean_db, g, d, seed=4)
    for filters, keep in (
        (ReportFilters(), lambda f: True),
        (ReportFilters(district="North"), lambda f: f.district == "North"),
        (ReportFilters(kind="early-years"), lambda f: f.kind == "early-years"),
    ):
        kept = [f for f in facts if keep(f)]
        with session_scope(clean_db, write=False) as db:
            campaign = db.get(Campaign, g.campaign_id)
            assert campaign is not None
            report = campaign_report(db, catalogue, campaign, filters, date(2026, 5, 1), 1)
        ds = report.dip_samples
        assert (ds.challenged, ds.reviewed) == (len(kept), sum(bool(f.outcome) for f in kept))
        by_standard, by_kind = ds.outcomes
        expected = outcome_counts(kept, lambda f: f.section_id)
        assert set(by_standard.rows) == set(expected)
        for section_id, counted in expected.items():
            for column in OUTCOMES:
                assert by_standard.table.cell(section_id, column).value == counted[column]
        expected_kind = outcome_counts(kept, lambda f: f.kind)
        for kind, counted in expected_kind.items():
            assert (
                by_kind.text(kind, OUTCOMES[0])
                == Share(counted[OUTCOMES[0]], sum(counted.values())).text
            )
        gaps = gap_counts(kept, d, lambda f: f.kind)
        for kind, counted in gaps.items():
            for column in GAPS:
                assert ds.gaps[1].table.cell(kind, column).value == counted[column]
            steps = sum(
                (step(d, f.moderated) or 0) - (step(d, f.self_rating) or 0)
                for f in kept
                if f.kind == kind
                and f.outcome
                and step(d, f.moderated) is not None
                and step(d, f.self_rating) is not None
            )
            mean = (Decimal(steps) / sum(counted.values())).quantize(Decimal("0.1"), ROUND_HALF_UP)
            words = "0.0 steps" if mean == 0 else f"{abs(mean)} steps "
            words += "" if mean == 0 else "below" if mean > 0 else "above"
            assert ds.gaps[1].means[kind].startswith(words), (kind, ds.gaps[1].means[kind])
    assert report.samples[0].seed == SAMPLE_SEED
    assert ("Always excluded", "1 organisation chosen by QA") in report.samples[0].parameters


def test_no_challenges_is_a_clear_empty_state(
    client: TestClient, clean_db: Engine, world: World, settings: Settings
) -> None:
    g = generate(clean_db, definition(settings), seed=3)
    signed_in(client, clean_db, world.people["qa"])
    page = client.get(f"/campaigns/{g.campaign_id}/report").text
    assert "No evidence challenges have been issued yet." in page
    assert 'id="dip-outcomes-1"' not in page
    assert 'Dip samples</dt><dd class="govuk-summary-list__value">None drawn yet' in page
