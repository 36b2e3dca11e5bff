"""The feedback letter's first draft from plain facts (no database, no HTTP): the
organisation's own figures, its peers' where there are enough of them, the evidence outcomes
and the follow-up, in plain English."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from audit_portal.feedback.letter import (
    Comparison,
    FollowUpFacts,
    ItemToWorkOn,
    LetterFacts,
    StandardResult,
    draft_letter,
)
from audit_portal.feedback.records import Rated, standard_results
from audit_portal.followups.rules import FollowUpStatus
from audit_portal.reports.figures import Share
from audit_portal.reports.organisation_summary import OutcomeLine
from tests.builders import SCHOOLS

LEADERSHIP = StandardResult(
    section_id="s175.1",
    title="Governance and strategic leadership",
    rag="amber",
    own=Share(3, 5),
    others=Share(41, 50),
    others_organisations=10,
    to_work_on=(ItemToWorkOn("s175.1.2", "Every governor is trained", "Partly in place"),),
)
DSL = StandardResult(
    section_id="s175.2",
    title="The designated safeguarding lead",
    rag="green",
    own=Share(6, 6),
    others=Share(7, 8),
    others_organisations=3,  # an item only some schools answer: too few to compare
)
FACTS = LetterFacts(
    organisation="Alder <Primary> & Nursery",
    partnership="Testshire Safeguarding Children Partnership",
    campaign="Schools audit 2026",
    signed_by="Hal Head, Headteacher",
    signed_on=date(2026, 3, 1),
    overall="amber",
    standards=(LEADERSHIP, DSL),
    comparison=Comparison("school", 10, 5),
    follow_up=FollowUpFacts(date(2026, 9, 1), FollowUpStatus.NOT_YET_DUE),
)


def test_the_letter_greets_states_the_figures_and_signs_off() -> None:
    letter = draft_letter(FACTS)
    assert letter.startswith("Dear colleagues at Alder <Primary> & Nursery,\n\n")
    assert "signed by Hal Head, Headteacher, on 1 March 2026" in letter
    assert "Your overall rating was Amber." in letter
    assert (
        "- The designated safeguarding lead: rated Green; 100% (6 of 6) of your ratings were "
        "effective." in letter
    )
    assert (
        "- Governance and strategic leadership: rated Amber; 60% (3 of 5) of your ratings were "
        "effective.\n  - s175.1.2 Every governor is trained. You rated it Partly in place."
    ) in letter
    assert "10 other schools and colleges have submitted a return in this campaign." in letter
    assert (
        "- Governance and strategic leadership: yours 60% (3 of 5); other schools and colleges "
        "82% (41 of 50)." in letter
    )
    assert "Please send your six-month update on your actions by 1 September 2026." in letter
    assert letter.endswith(
        "Yours sincerely,\n\nThe quality assurance group\n"
        "Testshire Safeguarding Children Partnership\n"
    )


def test_a_standard_too_few_peers_rated_gives_no_peer_figure() -> None:
    letter = draft_letter(FACTS)
    assert (
        "- The designated safeguarding lead: yours 100% (6 of 6); fewer than 5 other schools "
        "and colleges rated this standard, so their figure is not given." in letter
    )
    assert "(7 of 8)" not in letter and "88%" not in letter


@pytest.mark.parametrize("peers", [1, 4])
def test_too_few_peers_means_no_comparison_at_all(peers: int) -> None:
    letter = draft_letter(replace(FACTS, comparison=Comparison("school", peers, 5)))
    assert (
        "Fewer than 5 other schools and colleges have submitted a return in this campaign, so "
        "we do not compare your ratings with theirs" in letter
    )
    assert "(41 of 50)" not in letter and "yours 60%" not in letter


def test_no_peers_at_all_is_said_plainly() -> None:
    letter = draft_letter(replace(FACTS, comparison=Comparison("early-years", 0, 5)))
    assert "No other early years settings have submitted a return in this campaign yet" in letter


def test_a_threshold_of_one_compares_with_a_single_peer() -> None:
    letter = draft_letter(replace(FACTS, comparison=Comparison("agency", 1, 1)))
    assert "1 other partner agency has submitted a return in this campaign." in letter
    assert "other partner agencies 82% (41 of 50)" in letter


def test_evidence_outcomes_and_follow_up_states() -> None:
    outcome = OutcomeLine(
        item_id="s175.1.2",
        prompt="Every governor is trained",
        self_rating="Fully in place",
        self_rag="green",
        moderated_rating="Partly in place",
        moderated_rag="amber",
        outcome="Partly substantiated",
        comment="The log covers half the board",
        action="Train the remaining governors",
    )
    letter = draft_letter(
        replace(
            FACTS,
            challenge="reviewed",
            outcomes=(outcome,),
            follow_up=FollowUpFacts(date(2026, 9, 1), FollowUpStatus.OVERDUE),
        )
    )
    assert "We asked you for evidence on 1 item." in letter
    assert (
        "- s175.1.2 Every governor is trained. Partly substantiated. You rated it Fully in "
        "place; the moderated rating is Partly in place. The log covers half the board. "
        "Required action: Train the remaining governors." in letter
    )
    assert "was due on 1 September 2026 and we have not received it yet" in letter
    waiting = draft_letter(replace(FACTS, challenge="waiting"))
    assert "We will write to you again once the quality assurance group has reviewed it" in waiting
    accepted = draft_letter(
        replace(FACTS, follow_up=FollowUpFacts(date(2026, 9, 1), FollowUpStatus.ACCEPTED))
    )
    assert "which the partnership has accepted" in accepted
    none = draft_letter(replace(FACTS, follow_up=None))
    assert "no six-month update is needed" in none


def test_all_green_and_nothing_green_read_sensibly() -> None:
    green = replace(LEADERSHIP, rag="green", own=Share(5, 5), to_work_on=())
    letter = draft_letter(replace(FACTS, standards=(green, DSL), overall="green"))
    assert "No standard was rated Amber or Red." in letter
    red = draft_letter(replace(FACTS, standards=(LEADERSHIP,), overall="red"))
    assert "No standard was rated Green this time." in red


def test_standard_results_read_the_frozen_submission_and_the_counts() -> None:
    """Own and peer shares add up each standard's items; the peer count is the most who rated
    any one item, never more than the truth."""
    assert SCHOOLS is not None
    content = {
        "answers": {
            "s175.1.1": {"value": 2},
            "s175.1.2": {"value": 3},
            "s175.2.1": {"value": 3},
        },
        "score": {
            "sections": {"s175.1": "amber", "s175.2": "green"},
            "less_effective": ["s175.1.1"],
        },
    }
    own = {"s175.1.1": Rated(1, 1, 0), "s175.1.2": Rated(1, 1, 1), "s175.2.1": Rated(1, 1, 1)}
    others = {
        "s175.1.1": Rated(6, 6, 4),
        "s175.1.2": Rated(7, 7, 7),
        "s175.2.1": Rated(2, 2, 2),
    }
    results = {r.section_id: r for r in standard_results(SCHOOLS, content, own, others)}
    assert set(results) == {"s175.1", "s175.2"}  # standards not answered are left out
    leadership = results["s175.1"]
    assert (leadership.rag, leadership.own, leadership.others) == (
        "amber",
        Share(1, 2),
        Share(11, 13),
    )
    assert leadership.others_organisations == 7
    assert [i.item_id for i in leadership.to_work_on] == ["s175.1.1"]
    assert leadership.to_work_on[0].rating == "Partly in place"
    assert results["s175.2"].others_organisations == 2
