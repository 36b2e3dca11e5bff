"""Shares, rankings and response rates, against numbers worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_portal.models import ReturnStatus
from audit_portal.reports.figures import (
    InvitedReturn,
    ItemFigure,
    Share,
    change_text,
    overall_response_rate,
    percentage_points,
    rank_items,
    response_rates,
    returned_comparison,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent", "text"),
    [
        (8, 10, 80, "80% (8 of 10)"),
        (1, 8, 13, "13% (1 of 8)"),  # 12.5 rounds up, not to the even 12
        (5, 8, 63, "63% (5 of 8)"),  # 62.5
        (1, 200, 1, "1% (1 of 200)"),  # 0.5
        (1, 201, 0, "0% (1 of 201)"),  # 0.4975...
        (2, 3, 67, "67% (2 of 3)"),
        (1, 3, 33, "33% (1 of 3)"),
        (0, 7, 0, "0% (0 of 7)"),
        (7, 7, 100, "100% (7 of 7)"),
        (0, 0, None, "No figure (0 of 0)"),
    ],
)
def test_share_percent_and_text(
    numerator: int, denominator: int, percent: int | None, text: str
) -> None:
    share = Share(numerator, denominator)
    assert share.percent == percent
    assert share.text == text


@pytest.mark.parametrize(("numerator", "denominator"), [(3, 2), (-1, 4), (0, -1), (1, 0)])
def test_a_share_cannot_be_more_than_the_whole_or_negative(
    numerator: int, denominator: int
) -> None:
    with pytest.raises(ValueError, match="is not a share"):
        Share(numerator, denominator)


@given(st.integers(1, 10_000).flatmap(lambda d: st.tuples(st.integers(0, d), st.just(d))))
def test_percent_is_within_half_a_point_of_the_exact_value(nd: tuple[int, int]) -> None:
    n, d = nd
    percent = Share(n, d).percent
    assert percent is not None
    # |percent - 100n/d| <= 1/2, and exactly half only ever rounds up: both in integers.
    assert -d <= 2 * (100 * n - percent * d) < d


@pytest.mark.parametrize(
    ("current", "previous", "points", "text"),
    [
        (Share(8, 10), Share(5, 8), Decimal("17.5"), "Up 17.5 percentage points"),  # 80 - 62.5
        (Share(2, 3), Share(1, 2), Decimal("16.7"), "Up 16.7 percentage points"),  # 16.666...
        (Share(1, 8), Share(1, 4), Decimal("-12.5"), "Down 12.5 percentage points"),
        (Share(1, 16), Share(0, 1), Decimal("6.3"), "Up 6.3 percentage points"),  # 6.25 up
        (Share(0, 1), Share(1, 16), Decimal("-6.3"), "Down 6.3 percentage points"),  # away from 0
        # whole percents would say 67 - 33 = 34; the exact fractions say 33.3
        (Share(2, 3), Share(1, 3), Decimal("33.3"), "Up 33.3 percentage points"),
        (Share(3, 4), Share(6, 8), Decimal("0.0"), "No change"),
        (Share(3, 4), Share(0, 0), None, "Cannot be compared"),
        (Share(0, 0), Share(1, 2), None, "Cannot be compared"),
    ],
)
def test_percentage_points_from_exact_fractions(
    current: Share, previous: Share, points: Decimal | None, text: str
) -> None:
    result = percentage_points(current, previous)
    assert result == points
    if points is not None:
        assert str(result) == str(points), "always one decimal place"
    assert change_text(result) == text


def figure(item_id: str, answered: int, na: int, green: int, amber: int, red: int) -> ItemFigure:
    return ItemFigure(
        item_id=item_id,
        section_id=item_id.rsplit(".", 1)[0],
        prompt=f"Prompt {item_id}",
        answered=answered,
        not_applicable=na,
        counts={3: green, 2: amber, 1: red},
        effective=green,
        less_effective=amber + red,
    )


def test_not_applicable_is_left_out_of_the_denominator() -> None:
    row = figure("s175.1.1", answered=12, na=2, green=6, amber=3, red=1)
    assert row.rated == 10
    assert row.less_effective_share == Share(4, 10)
    assert row.effective_share.text == "60% (6 of 10)"
    assert row.share_at(1).text == "10% (1 of 10)"
    assert row.share_at(7) == Share(0, 10)


def test_figures_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ValueError, match="do not add up"):
        ItemFigure("s.1.1", "s.1", "P", 10, 0, {3: 10}, effective=9, less_effective=0)
    with pytest.raises(ValueError, match="counts at each rating"):
        ItemFigure("s.1.1", "s.1", "P", 10, 0, {3: 9}, effective=10, less_effective=0)
    with pytest.raises(ValueError, match="more not applicable"):
        ItemFigure("s.1.1", "s.1", "P", 1, 2, {}, effective=0, less_effective=0)


ROWS = [
    # item, answered, n/a, green, amber, red      less effective share
    figure("s.1.1", 10, 0, 5, 3, 2),  #            5/10 = 50%
    figure("s.1.2", 20, 0, 10, 10, 0),  #          10/20 = 50%: same share, more rated
    figure("s.1.3", 4, 0, 1, 1, 2),  #             3/4 = 75%
    figure("s.2.1", 7, 7, 0, 0, 0),  #             nothing rated: never ranked
    figure("s.2.2", 9, 1, 8, 0, 0),  #             0/8: not a weakness; 100% a strength
    figure("s.2.3", 10, 0, 5, 5, 0),  #            5/10 = 50%: ties s.1.1, comes later
    figure("s.2.4", 30, 10, 18, 1, 1),  #          2/20 = 10%; effective 18/20 = 90%
]


def test_common_weaknesses_by_share_then_denominator_then_questionnaire_order() -> None:
    ranked = rank_items(ROWS, by="less_effective", limit=10)
    assert [(r.rank, r.item.item_id, r.share.text) for r in ranked] == [
        (1, "s.1.3", "75% (3 of 4)"),
        (2, "s.1.2", "50% (10 of 20)"),
        (3, "s.1.1", "50% (5 of 10)"),
        (4, "s.2.3", "50% (5 of 10)"),
        (5, "s.2.4", "10% (2 of 20)"),
    ]


def test_strengths_and_the_limit() -> None:
    ranked = rank_items(ROWS, by="effective", limit=3)
    assert [(r.item.item_id, r.share.text) for r in ranked] == [
        ("s.2.2", "100% (8 of 8)"),
        ("s.2.4", "90% (18 of 20)"),
        ("s.1.2", "50% (10 of 20)"),  # 50% ties s.1.1 and s.2.3 (10 rated): 20 rated wins
    ]
    assert rank_items(ROWS, by="effective", limit=0) == []
    assert len(rank_items(ROWS, by="effective", limit=None)) == 6  # all but s.2.1
    with pytest.raises(ValueError, match="negative"):
        rank_items(ROWS, by="effective", limit=-1)


def test_ranking_compares_exact_shares_not_rounded_percents() -> None:
    # 2/3 and 667/1000 both show 67%, but 667/1000 is larger
    rows = [figure("s.1.1", 3, 0, 1, 2, 0), figure("s.1.2", 1000, 0, 333, 667, 0)]
    assert [r.item.item_id for r in rank_items(rows, by="less_effective")] == ["s.1.2", "s.1.1"]


def invited(kind: str, sector: str, phase: str, district: str, status: str) -> InvitedReturn:
    return InvitedReturn(kind, sector, phase, district, ReturnStatus(status))


def test_response_rates_overall_and_by_breakdown() -> None:
    rows = [
        invited("school", "academy", "primary", "North", "accepted"),
        invited("school", "academy", "primary", "North", "submitted"),
        invited("school", "maintained", "primary", "South", "in_progress"),
        invited("school", "maintained", "secondary", "", "returned"),
        invited("school", "maintained", "secondary", "South", "not_started"),
        invited("agency", "", "", "North", "submitted"),
    ]
    rates = response_rates(rows)
    overall = rates.overall
    assert overall.invited == 6
    assert overall.started == Share(5, 6)  # all but not started
    assert overall.submitted == Share(3, 6)  # submitted + accepted; "returned" is not
    assert overall.accepted == Share(1, 6)
    assert overall.submitted.text == "50% (3 of 6)"

    assert list(rates.by) == ["kind", "sector", "phase", "district"]
    assert list(rates.by["district"]) == ["North", "South", "Not recorded"]
    north = rates.by["district"]["North"]
    assert (north.invited, north.submitted, north.accepted) == (3, Share(3, 3), Share(1, 3))
    assert rates.by["district"]["Not recorded"].started == Share(1, 1)
    assert list(rates.by["sector"]) == ["academy", "maintained", "Not recorded"]
    maintained = rates.by["sector"]["maintained"]
    assert (maintained.started, maintained.submitted) == (Share(2, 3), Share(0, 3))
    assert rates.by["kind"]["agency"].submitted == Share(1, 1)
    assert rates.by["phase"]["secondary"].started == Share(1, 2)


def test_response_rates_of_nothing() -> None:
    rates = response_rates([])
    assert rates.overall.invited == 0
    assert rates.overall.submitted.text == "No figure (0 of 0)"
    assert rates.by["district"] == {}


@given(st.lists(st.sampled_from([s.value for s in ReturnStatus]), max_size=30))
def test_the_overall_response_rate_alone_is_the_overall_of_every_breakdown(
    statuses: list[str],
) -> None:
    rows = [invited("school", "", "primary", "North", s) for s in statuses]
    assert overall_response_rate(rows) == response_rates(rows).overall


def test_returned_comparison_sentence() -> None:
    assert returned_comparison(324, 49) == "324 returned, against 49 last year"
    assert (
        returned_comparison(30, 41, previous="in the 2023 campaign")
        == "30 returned, against 41 in the 2023 campaign"
    )
    assert (
        returned_comparison(324, None)
        == "No earlier campaign of this questionnaire to compare with"
    )
