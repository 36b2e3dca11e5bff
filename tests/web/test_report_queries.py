"""The report's counts against an independent computation over generated returns, on the
database under test: only the latest submission of submitted or accepted returns counts, not
applicable answers leave the denominator, and filters narrow the organisations."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine

from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.reports.queries import ReportFilters, invited_returns, item_figures
from tests.report_data import definition, expected_figures, generate


@pytest.mark.parametrize(
    "filters",
    [
        ReportFilters(),
        ReportFilters(district="North"),
        ReportFilters(kind="early-years"),
        ReportFilters(flag="safeguarding-concern"),
        ReportFilters(district="South", flag="safeguarding-concern"),
    ],
    ids=["all", "north", "early-years", "flagged", "south-flagged"],
)
def test_item_figures_match_an_independent_count(
    settings: Settings, clean_db: Engine, filters: ReportFilters
) -> None:
    d = definition(settings)
    g = generate(clean_db, d, seed=20261203)
    keep = {
        o
        for o, facts in g.orgs.items()
        if all(not getattr(filters, k) or facts[k] == getattr(filters, k) for k in facts)
    }
    with session_scope(clean_db, write=False) as db:
        figures = item_figures(db, g.campaign_id, d, filters)
        invited = invited_returns(db, g.campaign_id, filters)
    expected = expected_figures(g, d, keep)
    assert [f.item_id for f in figures] == [i.id for i in d.items() if i.kind == "rating"]
    for f in figures:
        answered, not_applicable, counts, effective, less_effective = expected[f.item_id]
        assert (f.answered, f.not_applicable, dict(f.counts)) == (
            answered,
            not_applicable,
            dict(counts),
        ), f.item_id
        assert (f.effective, f.less_effective) == (effective, less_effective), f.item_id
    assert sum(f.answered for f in figures) > 0 or not keep
    assert Counter(r.status for r in invited) == Counter(g.status[o] for o in keep)
