"""RAG roll-up: worked examples, then properties that must hold for every rule and answer set."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_portal.config import PROJECT_ROOT
from audit_portal.questionnaires import Definition, load_catalogue
from audit_portal.questionnaires.model import RAG_RANK, ShareRule, WorstRule
from audit_portal.scoring import Answer, Score, explain_overall, roll_up, score
from audit_portal.vocabulary import OrganisationProfile
from tests.factories import definition

CATALOGUE = load_catalogue(PROJECT_ROOT / "questionnaires")
SHIPPED = CATALOGUE.definitions
SMALL = Definition.model_validate(definition())


def test_worked_example() -> None:
    """
    s175.1 (worst):  s175.1.1 = 3 green, s175.1.2 = 2 amber  -> amber
    s175.2 (worst):  s175.2.1 = 3 green, s175.2.2 not applicable -> green
    overall (share over sections, green >= 0.8): 1 of 2 green -> amber
    """
    result = score(
        SMALL,
        [
            Answer("s175.1.1", 3),
            Answer("s175.1.2", 2),
            Answer("s175.2.1", 3),
            Answer("s175.2.2", not_applicable=True),
        ],
    )
    assert result.items == {
        "s175.1.1": "green",
        "s175.1.2": "amber",
        "s175.2.1": "green",
        "s175.2.2": None,
    }
    assert result.sections == {"s175.1": "amber", "s175.2": "green"}
    assert result.overall == "amber"
    assert result.less_effective == ("s175.1.2",)


def test_nothing_answered_gives_no_rating() -> None:
    result = score(SMALL, [])
    assert result.overall is None and set(result.sections.values()) == {None}


@pytest.mark.parametrize(
    ("rule", "rags", "expected"),
    [
        (WorstRule(method="worst"), ["green", "amber", "green"], "amber"),
        (ShareRule(method="share", green_at_least=0.8), ["green"] * 4 + ["amber"], "green"),
        (ShareRule(method="share", green_at_least=0.8), ["green"] * 3 + ["amber"] * 2, "amber"),
        (
            ShareRule(method="share", green_at_least=0.8, red_if_any_red=True),
            ["green"] * 9 + ["red"],
            "red",
        ),
        (
            ShareRule(method="share", green_at_least=0.5, red_at_least=0.25),
            ["red", "green", "green", "green"],
            "red",
        ),
        (
            ShareRule(method="share", green_at_least=0.5, red_at_least=0.25),
            ["red"] + ["green"] * 4,
            "green",
        ),
    ],
)
def test_roll_up_rules(rule, rags, expected) -> None:  # type: ignore[no-untyped-def]
    assert roll_up(rule, rags) == expected


def test_items_that_do_not_apply_never_count() -> None:
    d = CATALOGUE.get("section-175-schools", "2025.1")
    boarding = next(i for i in d.items() if i.applies_to and "boarding" in i.applies_to.features)
    day_school = OrganisationProfile(duty_type="section-175-school", phase="primary")
    answers = [Answer(i.id, 3) for i in d.items() if i.kind == "rating" and i.id != boarding.id]
    all_green = score(d, answers, day_school)
    with_red_boarding = score(d, [*answers, Answer(boarding.id, 1)], day_school)
    assert with_red_boarding == all_green
    assert all_green.overall == "green"


def test_a_value_off_the_scale_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"7 is not a value on the rating scale of s175\.1\.1"):
        score(SMALL, [Answer("s175.1.1", 7)])


# --- properties -------------------------------------------------------------------------------

rules = st.one_of(
    st.just(WorstRule(method="worst")),
    st.builds(
        ShareRule,
        method=st.just("share"),
        over=st.sampled_from([None, "items"]),
        green_at_least=st.floats(0, 1),
        red_if_any_red=st.booleans(),
        red_at_least=st.one_of(st.none(), st.floats(0.01, 1)),
    ),
)


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    base = draw(st.sampled_from(SHIPPED))
    section_rule = draw(rules)
    if isinstance(section_rule, ShareRule):
        section_rule = section_rule.model_copy(update={"over": None})
    d = base.model_copy(
        update={
            "rollup": base.rollup.model_copy(
                update={"section": section_rule, "overall": draw(rules)}
            )
        }
    )
    values = [p.value for p in d.rating_scale.points]
    rating_ids = [i.id for i in d.items() if i.kind == "rating"]
    chosen = draw(st.lists(st.sampled_from(rating_ids), unique=True, max_size=len(rating_ids)))
    answers = {
        item_id: draw(
            st.one_of(
                st.sampled_from(values).map(lambda v, i=item_id: Answer(i, v)),
                st.just(Answer(item_id, not_applicable=True)),
            )
        )
        for item_id in chosen
    }
    return d, answers


def rank(rag: str | None) -> int:
    return -1 if rag is None else RAG_RANK[rag]


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.data())
def test_raising_one_rating_never_lowers_a_result(scenario, data) -> None:  # type: ignore[no-untyped-def]
    d, answers = scenario
    rated = [a for a in answers.values() if not a.not_applicable]
    if not rated:
        return
    target = data.draw(st.sampled_from(rated))
    higher = [p.value for p in d.rating_scale.points if p.value > target.value]
    if not higher:
        return
    raised = {**answers, target.item_id: Answer(target.item_id, data.draw(st.sampled_from(higher)))}
    before, after = score(d, answers), score(d, raised)
    for section_id, rag in before.sections.items():
        assert rank(after.sections[section_id]) >= rank(rag), section_id
    assert rank(after.overall) >= rank(before.overall)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_answer_order(scenario, rnd) -> None:  # type: ignore[no-untyped-def]
    d, answers = scenario
    shuffled = list(answers.values())
    rnd.shuffle(shuffled)
    assert score(d, shuffled) == score(d, list(answers.values()))


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_not_applicable_items_never_count(scenario) -> None:  # type: ignore[no-untyped-def]
    d, answers = scenario
    without_na = {k: a for k, a in answers.items() if not a.not_applicable}
    result = score(d, answers)
    assert result == score(d, without_na)
    # Marking every unanswered item not applicable changes nothing either.
    everything_na = {
        i.id: Answer(i.id, not_applicable=True) for i in d.items() if i.id not in answers
    }
    assert score(d, {**answers, **everything_na}) == result
    assert not set(result.less_effective) & {k for k, a in answers.items() if a.not_applicable}


def test_a_red_standard_caps_the_overall_rating_at_amber_and_the_page_says_why() -> None:
    """Nine green standards and one red were 'green overall' under the 80% rule: misleading."""
    catalogue = load_catalogue(PROJECT_ROOT / "questionnaires")
    old = catalogue.get("section-175-schools", "2025.1")
    new = catalogue.get("section-175-schools", "2025.2")
    assert old is not None and new is not None
    sections = [s.id for s in new.sections]
    rags = {sid: "green" for sid in sections} | {sections[9]: "red"}
    share_rule = new.rollup.overall
    assert roll_up(old.rollup.overall, list(rags.values())) == "green"
    assert roll_up(share_rule, list(rags.values())) == "amber"
    score = Score({}, rags, "amber", ())
    assert explain_overall(new, score) == (
        f"{len(sections) - 1} of {len(sections)} rated standards are green and 1 of "
        f"{len(sections)} are red. While any standard is red the overall rating cannot be "
        "green, so it is amber."
    )
    all_green = Score({}, {sid: "green" for sid in sections}, "green", ())
    assert explain_overall(new, all_green).endswith(
        "The overall rating is green when at least 80% are green."
    )
