"""A return as people read it: question text and rating labels, grouped by standard, in order.

Used by 'check your answers' (live answers), the frozen submission page (what was signed) and
the comparison between revisions (what changed after a return for amendment). Pure functions
over plain data: the definition, answers as stored in a submission, and actions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from audit_portal.questionnaires.model import Definition, Item
from audit_portal.scoring import applies
from audit_portal.vocabulary import OrganisationProfile
from audit_portal.wording import long_date


@dataclass(frozen=True)
class ActionLine:
    what: str
    owner: str
    target_date: date

    @property
    def text(self) -> str:
        return f"{self.what} (owner: {self.owner}; by {long_date(self.target_date)})"


@dataclass(frozen=True)
class AnswerLine:
    item: Item
    number: str  # "2.3": the standard's number, then the question's place among those shown
    answer: str  # what the person chose or wrote, as they would say it
    rag: str | None
    narrative: str
    evidence: str
    actions: tuple[ActionLine, ...] = ()
    answered: bool = True
    changes: tuple[str, ...] = ()  # what differs from the previous revision, in words


@dataclass(frozen=True)
class StandardBlock:
    number: int
    section_id: str
    title: str
    rag: str | None
    lines: tuple[AnswerLine, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> int:
        return sum(1 for line in self.lines if line.changes)


def answer_text(definition: Definition, item: Item, stored: Mapping[str, object] | None) -> str:
    """One stored answer ({value, not_applicable, na_reason, ...}) as words."""
    if not stored:
        return "Not answered"
    if stored.get("not_applicable"):
        reason = str(stored.get("na_reason") or "")
        label = (
            definition.rating_scale.not_applicable.label
            if definition.rating_scale.not_applicable
            else "Not applicable"
        )
        return f"{label}: {reason}" if reason else label
    value = stored.get("value")
    if value in (None, "", []):
        return "Not answered"
    if item.kind == "rating" and isinstance(value, int):
        point = definition.rating_scale.point(value)
        return point.label if point else str(value)
    if item.kind in {"single_choice", "multiple_choice"}:
        labels = {o.value: o.label for o in item.options or []}
        chosen = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in chosen)
    if item.kind == "yes_no":
        return {"yes": "Yes", "no": "No"}.get(str(value), str(value))
    if item.kind == "date" and isinstance(value, str):
        try:
            return long_date(date.fromisoformat(value))
        except ValueError:
            return value
    if item.kind == "number" and item.unit:
        return f"{value} {item.unit}"
    return str(value)


def read_return(
    definition: Definition,
    profile: OrganisationProfile | None,
    answers: Mapping[str, Mapping[str, object]],
    actions: Sequence[tuple[str, ActionLine]],
    item_rags: Mapping[str, str | None],
    section_rags: Mapping[str, str | None],
    previous: Mapping[str, Mapping[str, object]] | None = None,
    previous_actions: Sequence[tuple[str, ActionLine]] = (),
) -> list[StandardBlock]:
    """Every standard that applies, each question with its answer, in questionnaire order.

    ``answers`` are as a submission stores them (item id -> value, not_applicable, na_reason,
    narrative, evidence); ``previous``, if given, is the previous revision's (with its
    ``previous_actions``), and each line says what changed since it in ``changes``.
    """
    by_item = _by_item(actions)
    before_by_item = _by_item(previous_actions)
    blocks = []
    for number, section in enumerate(definition.sections, start=1):
        items = [i for i in section.items if applies(i, profile)]
        if not items:
            continue
        lines = []
        for place, item in enumerate(items, start=1):
            stored = answers.get(item.id)
            text = answer_text(definition, item, stored)
            changes: tuple[str, ...] = ()
            if previous is not None:
                changes = what_changed(
                    definition,
                    item,
                    (stored, by_item.get(item.id, [])),
                    (previous.get(item.id), before_by_item.get(item.id, [])),
                )
            lines.append(
                AnswerLine(
                    item=item,
                    number=f"{number}.{place}",
                    answer=text,
                    rag=item_rags.get(item.id),
                    narrative=str((stored or {}).get("narrative") or ""),
                    evidence=str((stored or {}).get("evidence") or ""),
                    actions=tuple(by_item.get(item.id, [])),
                    answered=text != "Not answered",
                    changes=changes,
                )
            )
        blocks.append(
            StandardBlock(
                number, section.id, section.title, section_rags.get(section.id), tuple(lines)
            )
        )
    return blocks


def _by_item(actions: Sequence[tuple[str, ActionLine]]) -> dict[str, list[ActionLine]]:
    grouped: dict[str, list[ActionLine]] = {}
    for item_id, action in actions:
        grouped.setdefault(item_id, []).append(action)
    return grouped


Revision = tuple[Mapping[str, object] | None, Sequence[ActionLine]]


def what_changed(
    definition: Definition, item: Item, now: Revision, before: Revision
) -> tuple[str, ...]:
    """What differs in one question between two revisions, as a reviewer would say it.

    Named part by part, so a new explanation under the same rating is never read as a changed
    rating; the rating (or answer) says what it was before.
    """
    stored, earlier = now[0] or {}, before[0] or {}
    changes = []
    if any(stored.get(k) != earlier.get(k) for k in ("value", "not_applicable")):
        noun = "rating" if item.kind == "rating" else "answer"
        changes.append(f"the {noun} (was {answer_text(definition, item, before[0])})")
    elif stored.get("na_reason") != earlier.get("na_reason"):
        changes.append("the reason it does not apply")
    for key, words in (("narrative", "the explanation"), ("evidence", "the evidence")):
        if (stored.get(key) or "") != (earlier.get(key) or ""):
            changes.append(words)
    if sorted(map(repr, now[1])) != sorted(map(repr, before[1])):
        changes.append("the actions")
    return tuple(changes)


def submitted_actions(content: Mapping[str, object]) -> list[tuple[str, ActionLine]]:
    """The actions a submission froze, as (item id, action)."""
    found = []
    listed = content.get("actions") or []
    for action in listed if isinstance(listed, list) else []:
        found.append(
            (
                str(action["item_id"]),
                ActionLine(
                    str(action["what"]),
                    str(action["owner"]),
                    date.fromisoformat(str(action["target_date"])),
                ),
            )
        )
    return found
