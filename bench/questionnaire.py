"""A 100-item return: the largest questionnaire, made up to 100 items, and its answers as rows.

The largest real questionnaire (``section-175-schools`` 2025.1) has 73 items, 69 of which
apply to a primary school without special features. The issue's national scale is "100 items
each", so ``write_questionnaire`` copies that definition into a folder of its own and adds
rating items to its standards in turn (copies of the standard's own first item, with new ids)
until 100 items apply to such a school. The portal reads the folder through
``QUESTIONNAIRES_DIR``; same key and version, so everything else (locks, campaigns, scoring)
works as it does for the real file. The N+1 guard test uses the same definition.

``answer_rows`` fills the first N of those items the way a school would: mostly "Fully in
place" with evidence, every seventh "Partly in place" with an explanation and one action, the
date and number items with plain values; rows shaped as the portal's own code writes them.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from audit_portal.questionnaires import load_catalogue
from audit_portal.questionnaires.model import Definition, Item

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KEY = "section-175-schools"
VERSION = "2025.1"
ITEMS = 100
WEAK_EVERY = 7  # every seventh answer is rated less effective and carries an action


def write_questionnaire(folder: Path, items: int = ITEMS) -> Path:
    """Write the enlarged definition under ``folder`` (a QUESTIONNAIRES_DIR); return ``folder``."""
    source = PROJECT_ROOT / "questionnaires" / KEY / f"{VERSION}.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["title"] += f" (benchmark copy with {items} items)"
    for alone in ("supersedes", "lineage"):  # the folder holds no earlier version
        data.pop(alone, None)
    sections = data["sections"]
    applying = sum(1 for s in sections for i in s["items"] if not i.get("applies_to"))
    extra, turn = items - applying, 0
    while extra > 0:
        section = sections[turn % len(sections)]
        template = next(i for i in section["items"] if i["kind"] == "rating")
        added = copy.deepcopy(template)
        added.pop("applies_to", None)
        added["id"] = f"{section['id']}.{50 + turn // len(sections)}"
        added["prompt"] = f"(Copy {turn + 1}) {template['prompt']}"
        section["items"].append(added)
        extra, turn = extra - 1, turn + 1
    target = folder / KEY / f"{VERSION}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return folder


def definition_in(folder: Path) -> Definition:
    """The enlarged definition as the portal loads it from ``folder``."""
    found = load_catalogue(folder).get(KEY, VERSION)
    if found is None:
        raise LookupError(f"{KEY} {VERSION} is missing or invalid in {folder}")
    return found


def answerable(definition: Definition) -> list[Item]:
    """The items that apply to every school, in questionnaire order: what a return answers."""
    return [i for s in definition.sections for i in s.items if i.applies_to is None]


def answer_rows(
    definition: Definition, return_id: int, count: int, *, when: datetime | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(answer rows, action rows) answering the first ``count`` items of one return."""
    when = when or datetime.now(UTC)
    answers, actions = [], []
    for n, item in enumerate(answerable(definition)[:count]):
        weak = item.kind == "rating" and n % WEAK_EVERY == WEAK_EVERY - 1
        answers.append(
            {
                "return_id": return_id,
                "item_id": item.id,
                "value": {"v": _value(item, weak)},
                "not_applicable": False,
                "na_reason": "",
                "narrative": "Two new governors are not yet trained; dates are booked."
                if weak
                else "",
                "evidence": "Training log and minutes of the board meeting.",
                "carried_forward": False,
                "carry_note": "",
                "version": 1,
                "updated_at": when,
            }
        )
        if weak:
            actions.append(
                {
                    "return_id": return_id,
                    "item_id": item.id,
                    "what": "Train the two new governors and record it in the log.",
                    "owner": "Chair of governors",
                    "target_date": date(when.year + 1, 3, 31),
                    "created_at": when,
                    "status": "open",
                    "progress": "not_started",
                    "source": "return",
                    "closed_reason": "",
                    "updated_at": when,
                }
            )
    return answers, actions


def _value(item: Item, weak: bool) -> Any:
    if item.kind == "rating":
        return 2 if weak else 3
    if item.kind == "number":
        return 2
    if item.kind == "date":
        return "2025-09-01"
    raise ValueError(f"no benchmark answer for a {item.kind} item ({item.id})")
