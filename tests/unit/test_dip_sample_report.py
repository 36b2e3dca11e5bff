"""Dip-sample figures as published: small counts hidden as in every other breakdown, shares of
published totals only, and a mean gap withheld whenever a count it rests on is hidden (and the
overall mean with it, or it would give the hidden group's mean away)."""

from __future__ import annotations

from audit_portal.reports.challenge_figures import ChallengeData, ChallengedRow, RatingOrder
from audit_portal.reports.dip_sample_report import dip_sample_figures

SCALE = RatingOrder((3, 2, 1))


def rows(kind: str, standard: str, n: int, outcome: str, own: int, moderated: int) -> list:
    return [
        ChallengedRow(i, kind, standard, f"{standard}.{i}", outcome, own, moderated)
        for i in range(n)
    ]


def data(*groups: list) -> ChallengeData:
    return ChallengeData(
        rows=tuple(r for g in groups for r in g),
        scale=SCALE,
        standards={"s1": "Leadership", "s2": "Training"},
        kinds={"school": "School or college", "early-years": "Early years setting"},
    )


def test_large_groups_show_shares_and_means() -> None:
    figures = dip_sample_figures(
        data(
            rows("school", "s1", 6, "substantiated", 3, 3),
            rows("school", "s1", 6, "not_substantiated", 3, 1),
            rows("school", "s2", 10, "partly_substantiated", 2, 2),
        ),
        threshold=5,
    )
    by_standard = figures.outcomes[0]
    assert by_standard.text("s1", "Substantiated") == "50% (6 of 12)"
    assert by_standard.text("s1", "Partly substantiated") == "0% (0 of 12)"
    assert by_standard.overall_text("Partly substantiated") == "45% (10 of 22)"
    gaps = figures.gaps[0]
    assert gaps.means["s1"] == "1.0 steps below the self-rating on average"
    assert gaps.means["s2"].startswith("0.0 steps")
    assert gaps.overall_mean == "0.5 steps below the self-rating on average"
    [school] = figures.outcomes[1].rows
    assert figures.outcomes[1].overall_text("Substantiated") == "27% (6 of 22)"  # one group
    assert school == "school" and figures.awaiting_review == 0


def test_a_small_count_hides_the_group_mean_and_the_overall_mean() -> None:
    figures = dip_sample_figures(
        data(
            rows("school", "s1", 8, "substantiated", 3, 3),
            rows("school", "s1", 2, "not_substantiated", 3, 1),  # 2 lower: fewer than 5
            rows("school", "s2", 9, "substantiated", 3, 3),
            rows("school", "s2", 9, "partly_substantiated", 3, 2),
        ),
        threshold=5,
    )
    gaps = figures.gaps[0]
    assert gaps.text("s1", "Moderated lower") == "fewer than 5"
    assert gaps.text("s1", "Same") == "withheld"  # else 10 - 8 gives the 2 away
    assert gaps.means["s1"] == "withheld"
    # s2's counts are withheld too (its column would give s1's away), so its mean goes with them
    assert gaps.text("s2", "Moderated lower") == "withheld" and gaps.means["s2"] == "withheld"
    # By kind nothing is small, yet the overall mean stays withheld (with the other table's
    # published means it would give a hidden one away), and so does the one kind's, which is it.
    by_kind = figures.gaps[1]
    assert by_kind.text("school", "Moderated lower") == "39% (11 of 28)"
    assert by_kind.means["school"] == "withheld"
    assert gaps.overall_mean == "withheld" and by_kind.overall_mean == "withheld"
    assert any("Fewer than 5" in note for note in figures.footnotes)


def test_unreviewed_items_count_as_challenged_only() -> None:
    figures = dip_sample_figures(
        data(
            rows("school", "s1", 3, None, 3, None),  # type: ignore[arg-type]
            rows("early-years", "s2", 6, "substantiated", 3, 3),
        ),
        threshold=5,
    )
    assert (figures.challenged, figures.reviewed, figures.awaiting_review) == (9, 6, 3)
    assert figures.organisations == 6
    assert figures.outcomes[0].rows == ("s2",)  # nothing reviewed in s1: no row of zeros
