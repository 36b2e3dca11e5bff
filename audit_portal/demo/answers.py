"""A believable return for one demo organisation, invented from a seed.

Mostly green, with a tail of amber and red concentrated in a few standards that the whole
county finds hard, and worse among organisations with intelligence flags. Every answer that
needs an explanation has one and every less-effective rating has an action, so a submitted demo
return passes the same readiness checks as a real one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from audit_portal.questionnaires.model import Definition, Item
from audit_portal.returns.answers import AnswerData
from audit_portal.scoring import applies
from audit_portal.vocabulary import OrganisationProfile

# Chance of the top rating on an ordinary standard, by how strong the organisation is, and how
# common each kind of organisation is: most are sound, a few struggle.
STRENGTH = ((0.997, 0.5), (0.97, 0.35), (0.86, 0.15))
WEAK_STANDARD = 0.12  # less on the standards the county finds hard
FLAGGED = 0.15  # and less again for a flagged organisation
OWNERS = ("Designated safeguarding lead", "Headteacher", "Safeguarding lead", "Chief officer")
_WHY = (
    "The policy is in place but has not yet been reviewed against the latest guidance.",
    "Most staff have done this, but new starters since September are still to be covered.",
    "We do this, but we do not yet keep a record that would show it.",
    "This was planned for the spring term and has slipped because of staffing changes.",
)
_ACTIONS = (
    "Review and update the arrangements, then brief all staff",
    "Complete the outstanding training and keep a register of who has done it",
    "Write down the procedure and agree it with the governing board or senior team",
    "Audit a sample of records and report the findings to the safeguarding lead",
)


@dataclass(frozen=True)
class DemoAction:
    item_id: str
    what: str
    owner: str
    target_date: date


@dataclass(frozen=True)
class DemoReturn:
    answers: dict[str, AnswerData]
    actions: list[DemoAction]


def weak_standards(definition: Definition, seed: int) -> set[str]:
    """The two standards the whole county finds hardest this year (the same for everyone)."""
    rng = random.Random(f"{seed}:{definition.key}")  # noqa: S311 (invented data)
    ids = sorted(section.id for section in definition.sections)
    return set(rng.sample(ids, min(2, len(ids))))


def demo_return(
    definition: Definition,
    profile: OrganisationProfile,
    rng: random.Random,
    *,
    flagged: bool,
    weak: set[str],
    signed_on: date,
    share_answered: float = 1.0,
) -> DemoReturn:
    """Answers to every applicable item (or the first ``share_answered`` of them)."""
    answers: dict[str, AnswerData] = {}
    actions: list[DemoAction] = []
    items = [
        (section.id, item)
        for section in definition.sections
        for item in section.items
        if applies(item, profile)
    ]
    strength = rng.choices([s for s, _ in STRENGTH], [w for _, w in STRENGTH])[0]
    for section_id, item in items[: round(len(items) * share_answered)]:
        green = (
            strength - (WEAK_STANDARD if section_id in weak else 0) - (FLAGGED if flagged else 0)
        )
        answer = _answer(definition, item, rng, green, signed_on)
        if answer is None:
            continue
        answers[item.id] = answer
        point = definition.rating_scale.point(answer.rating()) if item.kind == "rating" else None
        if point is not None and point.less_effective:
            actions.append(
                DemoAction(
                    item.id,
                    rng.choice(_ACTIONS),
                    rng.choice(OWNERS),
                    signed_on + timedelta(days=rng.randrange(60, 180)),
                )
            )
    return DemoReturn(answers, actions)


def _answer(
    definition: Definition, item: Item, rng: random.Random, green: float, on: date
) -> AnswerData | None:
    if item.kind == "number":
        low, high = item.min or 0, item.max or 100
        return AnswerData(value=int(rng.uniform(max(low, high * 0.7), high)))
    if item.kind == "date":
        return AnswerData(value=(on - timedelta(days=rng.randrange(30, 700))).isoformat())
    if item.kind != "rating":
        return None if not item.required else AnswerData(value="Yes")
    points = sorted(definition.rating_scale.points, key=lambda p: -p.value)
    roll = rng.random()
    if roll < green:
        chosen = points[0]
    else:
        rest = points[1:]
        weights = [0.25**i for i in range(len(rest))]
        chosen = rng.choices(rest, weights)[0]
    narrative = rng.choice(_WHY) if chosen.value != points[0].value else ""
    evidence = "Policy, training register and minutes" if rng.random() < 0.7 else ""
    return AnswerData(value=chosen.value, narrative=narrative, evidence=evidence)
