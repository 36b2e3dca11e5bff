"""RAG roll-up: pure functions from a definition and answers to item, section and overall RAG.

Nothing here is specific to one questionnaire: the scale says which values are which colour and
which count as less effective; the definition's roll-up rules say how colours combine.
Not-applicable, unanswered and non-applying items never count, for or against.

    >>> # section s.1 (rule: worst)        overall (rule: share over sections, green >= 0.8)
    >>> #   s.1.1 green  s.1.2 amber  ->  s.1 amber  \
    >>> #   s.2.1 green              ->  s.2 green  ->  1 of 2 sections green = 0.5 -> amber
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from audit_portal.questionnaires.model import RAG_RANK, Definition, Item, ShareRule, WorstRule
from audit_portal.vocabulary import OrganisationProfile, matches

_EPSILON = 1e-9


@dataclass(frozen=True)
class Answer:
    """One item's rating: a scale value, or not applicable (with its reason elsewhere)."""

    item_id: str
    value: int | None = None
    not_applicable: bool = False


@dataclass(frozen=True)
class Score:
    items: Mapping[str, str | None]
    sections: Mapping[str, str | None]
    overall: str | None
    less_effective: tuple[str, ...]  # item ids, in questionnaire order


def applies(item: Item, profile: OrganisationProfile | None) -> bool:
    return item.applies_to is None or matches(item.applies_to.as_dict(), profile)


def score(
    definition: Definition,
    answers: Iterable[Answer] | Mapping[str, Answer],
    profile: OrganisationProfile | None = None,
) -> Score:
    by_id = dict(answers) if isinstance(answers, Mapping) else {a.item_id: a for a in answers}
    scale = definition.rating_scale
    item_rags: dict[str, str | None] = {}
    less_effective: list[str] = []
    section_rags: dict[str, str | None] = {}
    for section in definition.sections:
        counted: list[str] = []
        for item in section.items:
            rag = _item_rag(item, by_id.get(item.id), definition, profile)
            item_rags[item.id] = rag
            if rag is None:
                continue
            counted.append(rag)
            answer = by_id[item.id]
            point = scale.point(answer.value)
            if point is not None and point.less_effective:
                less_effective.append(item.id)
        section_rags[section.id] = roll_up(definition.rollup.section, counted)
    overall_rule = definition.rollup.overall
    if isinstance(overall_rule, ShareRule) and overall_rule.over == "items":
        inputs = [r for r in item_rags.values() if r is not None]
    else:
        inputs = [r for r in section_rags.values() if r is not None]
    return Score(item_rags, section_rags, roll_up(overall_rule, inputs), tuple(less_effective))


def _item_rag(
    item: Item, answer: Answer | None, definition: Definition, profile: OrganisationProfile | None
) -> str | None:
    if item.kind != "rating" or answer is None or answer.not_applicable or answer.value is None:
        return None
    if not applies(item, profile):
        return None
    point = definition.rating_scale.point(answer.value)
    if point is None:
        raise ValueError(f"{answer.value} is not a value on the rating scale of {item.id}")
    return point.rag


def roll_up(rule: WorstRule | ShareRule, rags: list[str]) -> str | None:
    """Combine RAGs by a declared rule; None when nothing counts."""
    if not rags:
        return None
    if isinstance(rule, WorstRule):
        return min(rags, key=RAG_RANK.__getitem__)
    n, reds, greens = len(rags), rags.count("red"), rags.count("green")
    if rule.red_if_any_red and reds:
        return "red"
    # Compare counts, not float shares, so 4 of 5 meets a 0.8 threshold exactly.
    if rule.red_at_least is not None and reds >= rule.red_at_least * n - _EPSILON:
        return "red"
    if rule.amber_at_best_if_any_red and reds:
        return "amber"
    if greens >= rule.green_at_least * n - _EPSILON:
        return "green"
    return "amber"


def _share(count: int, total: int) -> str:
    return f"{count} of {total}"


def explain_overall(definition: Definition, score: Score) -> str:
    """How the overall rating was worked out, in plain English, for the page beside it."""
    rule = definition.rollup.overall
    over_items = isinstance(rule, ShareRule) and rule.over == "items"
    inputs = [r for r in (score.items if over_items else score.sections).values() if r]
    noun = "questions" if over_items else "standards"
    if not inputs:
        return f"No {noun} have been rated yet, so there is no overall rating."
    if isinstance(rule, WorstRule):
        return f"The overall rating is the worst rating of the {len(inputs)} rated {noun}."
    n, reds, greens = len(inputs), inputs.count("red"), inputs.count("green")
    counts = f"{_share(greens, n)} rated {noun} are green and {_share(reds, n)} are red."
    if rule.red_if_any_red and reds:
        return f"{counts} Any red {noun[:-1]} makes the overall rating red."
    if rule.red_at_least is not None and reds >= rule.red_at_least * n - _EPSILON:
        limit = _percent(rule.red_at_least)
        return f"{counts} The overall rating is red when {limit} or more are red."
    if rule.amber_at_best_if_any_red and reds:
        return (
            f"{counts} While any {noun[:-1]} is red the overall rating cannot be green, "
            "so it is amber."
        )
    threshold = _percent(rule.green_at_least)
    if greens >= rule.green_at_least * n - _EPSILON:
        return f"{counts} The overall rating is green when at least {threshold} are green."
    return f"{counts} Fewer than {threshold} are green, so the overall rating is amber."


def _percent(share: float) -> str:
    return f"{round(share * 100):g}%"
