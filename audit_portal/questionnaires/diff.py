"""What changed between two versions, by stable item id, and how answers carry forward.

Pure functions over two Definitions: the CLI, the admin page, carry-forward and year-on-year
reports all use the same answer, so they never disagree about what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from audit_portal.questionnaires.model import Definition, Item, LineageEntry

ChangeKind = Literal["same", "reworded", "split", "merged", "new"]


@dataclass(frozen=True)
class ItemChange:
    id: str
    fields: tuple[str, ...]  # what changed: prompt, kind, applicability, options, guidance...
    before: Item
    after: Item
    lineage: LineageEntry | None


@dataclass(frozen=True)
class Diff:
    key: str
    old_version: str
    new_version: str
    added: list[tuple[Item, LineageEntry | None]] = field(default_factory=list)
    removed: list[tuple[Item, LineageEntry | None]] = field(default_factory=list)
    changed: list[ItemChange] = field(default_factory=list)
    unchanged: int = 0
    scale_changed: bool = False
    rollup_changed: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.scale_changed)


def _fields_changed(before: Item, after: Item) -> tuple[str, ...]:
    checks = {
        "prompt": (" ".join(before.prompt.split()), " ".join(after.prompt.split())),
        "kind": (before.kind, after.kind),
        "applicability": (
            before.applies_to.as_dict() if before.applies_to else {},
            after.applies_to.as_dict() if after.applies_to else {},
        ),
        "options": (before.options, after.options),
        "required": (before.required, after.required),
        "guidance": (" ".join(before.guidance.split()), " ".join(after.guidance.split())),
        "evidence examples": (before.evidence_examples, after.evidence_examples),
    }
    return tuple(name for name, (a, b) in checks.items() if a != b)


def diff(old: Definition, new: Definition) -> Diff:
    if old.key != new.key:
        raise ValueError(f"cannot compare {old.key} with {new.key}")
    lineage = {e.id: e for e in new.lineage if e.change != "removed"}
    removed_notes = {e.id: e for e in new.lineage if e.change == "removed"}
    result = Diff(
        key=new.key,
        old_version=old.version,
        new_version=new.version,
        scale_changed=old.rating_scale != new.rating_scale,
        rollup_changed=old.rollup != new.rollup,
    )
    unchanged = 0
    for item in new.items():
        before = old.item(item.id)
        if before is None:
            result.added.append((item, lineage.get(item.id)))
            continue
        changed = _fields_changed(before, item)
        if changed:
            result.changed.append(ItemChange(item.id, changed, before, item, lineage.get(item.id)))
        else:
            unchanged += 1
    new_ids = {i.id for i in new.items()}
    for item in old.items():
        if item.id not in new_ids:
            note = removed_notes.get(item.id) or _successor(item.id, new.lineage)
            result.removed.append((item, note))
    return replace(result, unchanged=unchanged)


def _successor(old_id: str, lineage: list[LineageEntry]) -> LineageEntry | None:
    return next((e for e in lineage if old_id in e.from_ and e.change != "removed"), None)


@dataclass(frozen=True)
class Carry:
    """Where a new item's starting answer comes from in the previous version's return."""

    item_id: str
    change: ChangeKind
    sources: tuple[str, ...]
    note: str = ""

    @property
    def copies_answer(self) -> bool:
        """Copy when one earlier answer speaks to this item; a merge must be answered afresh."""
        return self.change in {"same", "reworded", "split"}

    @property
    def needs_confirmation(self) -> bool:
        return self.change != "new"


def carry_forward_plan(old: Definition, new: Definition) -> dict[str, Carry]:
    """For every item of ``new``: same, reworded, split, merged (with sources) or new."""
    lineage = {e.id: e for e in new.lineage if e.change != "removed"}
    plan: dict[str, Carry] = {}
    for item in new.items():
        entry = lineage.get(item.id)
        if entry is not None and entry.change != "removed":  # (repeated for the type checker)
            sources = tuple(entry.from_ or [item.id])
            plan[item.id] = Carry(item.id, entry.change, sources, entry.note)
        elif old.item(item.id) is not None:
            plan[item.id] = Carry(item.id, "same", (item.id,))
        else:
            plan[item.id] = Carry(item.id, "new", ())
    return plan
