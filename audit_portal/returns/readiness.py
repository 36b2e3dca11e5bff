"""Is a return ready to submit? Progress, and every problem linked to its item.

Pure: from a definition, the organisation's profile, its answers and its actions. The same
function drives the progress bar on the dashboard, the 'check your answers' page and the
refusal to submit an incomplete return.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from audit_portal.questionnaires.model import Definition, Item
from audit_portal.returns.answers import AnswerData
from audit_portal.scoring import Answer, Score, applies, score
from audit_portal.vocabulary import OrganisationProfile


@dataclass(frozen=True)
class Problem:
    item_id: str
    section_id: str
    message: str


@dataclass(frozen=True)
class Readiness:
    applicable: int
    answered: int
    problems: tuple[Problem, ...]
    score: Score

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.applicable) if self.applicable else 100


def applicable_items(
    definition: Definition, profile: OrganisationProfile | None
) -> list[tuple[str, Item]]:
    return [(s.id, i) for s in definition.sections for i in s.items if applies(i, profile)]


def narrative_needed(definition: Definition, item: Item, value: int) -> bool:
    if item.narrative_required_for is not None:
        return value in item.narrative_required_for
    point = definition.rating_scale.point(value)
    return bool(point and point.narrative_required)


def item_needs(
    definition: Definition, item: Item, answer: AnswerData | None, action_count: int
) -> dict[str, str]:
    """What one answered item still needs before the return can be submitted, by field.

    Fields are ``narrative``, ``na_reason`` and ``actions``; an unanswered item needs nothing
    here (``assess`` reports it as unanswered). Shown by the field as soon as a save lands.
    """
    if answer is None or answer.is_empty:
        return {}
    scale = definition.rating_scale
    if answer.not_applicable:
        if scale.not_applicable and scale.not_applicable.reason_required and not answer.na_reason:
            return {"na_reason": "Say why this does not apply"}
        return {}
    rating = answer.rating()
    if item.kind != "rating" or rating is None:
        return {}
    needs = {}
    point = scale.point(rating)
    if point and narrative_needed(definition, item, rating) and not answer.narrative:
        needs["narrative"] = f"Explain the rating ‘{point.label}’ in the narrative"
    if point and point.less_effective and not action_count:
        needs["actions"] = "Add at least one action for this rating"
    return needs


def assess(
    definition: Definition,
    profile: OrganisationProfile | None,
    answers: Mapping[str, AnswerData],
    action_counts: Mapping[str, int],
    carried: Sequence[str] = (),
) -> Readiness:
    """Progress and problems, in questionnaire order."""
    problems: list[Problem] = []
    items = applicable_items(definition, profile)
    answered = 0
    for section_id, item in items:
        answer = answers.get(item.id)
        if answer is None or answer.is_empty:
            if item.required:
                problems.append(Problem(item.id, section_id, "Answer this question"))
            continue
        answered += 1
        if item.id in carried:
            problems.append(Problem(item.id, section_id, "Confirm or change last year's answer"))
        for message in item_needs(definition, item, answer, action_counts.get(item.id, 0)).values():
            problems.append(Problem(item.id, section_id, message))
    scored = score(
        definition,
        [Answer(k, a.rating(), a.not_applicable) for k, a in answers.items() if definition.item(k)],
        profile,
    )
    return Readiness(len(items), answered, tuple(problems), scored)
