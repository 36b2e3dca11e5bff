"""Year-on-year change between two campaigns, across questionnaire versions.

An item is compared only when it asks the same thing in both campaigns: the same stable id with
no declared change, or a declared rewording. Split, merged, new and removed items are listed
with their lineage notes and never compared, because a share of a different question is not a
change in practice. What changed is read from ``questionnaires.diff`` (the same answer the
version diff and carry-forward give), never worked out again here.

Versions: the same version is the trivial case. Otherwise the current version must supersede
the previous one, directly or through the versions passed as ``between`` (oldest first); each
step is read from its own lineage and the steps are chained: an item reworded in any step is
reworded; an item split or merged in any step is split or merged (the latest such step decides);
an item new in any step is new. A chain with a gap is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Literal

from audit_portal.questionnaires.diff import Carry, carry_forward_plan, diff
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.figures import Share, percentage_points

NOTHING = Share(0, 0)


@dataclass(frozen=True)
class Comparison:
    """One item asked in both campaigns, with its change in percentage points."""

    item_id: str
    previous_item_id: str
    change: Literal["same", "reworded"]
    prompt: str  # as asked in the current campaign
    current: Share
    previous: Share
    points: Decimal | None  # current percent - previous percent, one decimal place
    notes: tuple[str, ...] = ()  # lineage notes of each rewording


@dataclass(frozen=True)
class NotCompared:
    """An item that has no like-for-like partner in the other campaign."""

    item_id: str  # the current id; for a removed item, the previous id
    change: Literal["new", "removed", "split", "merged"]
    prompt: str
    previous_item_ids: tuple[str, ...] = ()  # what it was split or merged from
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class YearOnYear:
    key: str
    current_version: str
    previous_version: str
    compared: list[Comparison] = field(default_factory=list)
    new: list[NotCompared] = field(default_factory=list)
    removed: list[NotCompared] = field(default_factory=list)
    split: list[NotCompared] = field(default_factory=list)
    merged: list[NotCompared] = field(default_factory=list)
    scale_changed: bool = False  # the rating scale differs: read the comparison with care


@dataclass(frozen=True)
class _Trace:
    change: Literal["same", "reworded", "split", "merged", "new"]
    sources: tuple[str, ...]  # ids in the previous version
    notes: tuple[str, ...]


def year_on_year(
    current: Definition,
    previous: Definition,
    current_figures: Mapping[str, Share],
    previous_figures: Mapping[str, Share],
    *,
    between: Sequence[Definition] = (),
) -> YearOnYear:
    """Compare two campaigns' figures item by item; a missing figure counts as nothing rated."""
    chain = _chain(previous, list(between), current)
    scale_changed = any(old.rating_scale != new.rating_scale for old, new in pairwise(chain))
    result = YearOnYear(current.key, current.version, previous.version, scale_changed=scale_changed)
    if len(chain) == 1:
        traces = {i.id: _Trace("same", (i.id,), ()) for i in current.items()}
    else:
        plans = [carry_forward_plan(old, new) for old, new in pairwise(chain)]
        traces = {i.id: _trace(plans, len(plans) - 1, i.id) for i in current.items()}
    not_compared = {"new": result.new, "split": result.split, "merged": result.merged}
    for item in current.items():
        trace = traces[item.id]
        change = trace.change
        if change == "same" or change == "reworded":
            now = current_figures.get(item.id, NOTHING)
            before = previous_figures.get(trace.sources[0], NOTHING)
            points = percentage_points(now, before)
            result.compared.append(
                Comparison(
                    item.id, trace.sources[0], change, item.prompt, now, before, points, trace.notes
                )
            )
        else:
            not_compared[change].append(
                NotCompared(item.id, change, item.prompt, trace.sources, trace.notes)
            )
    accounted = {source for trace in traces.values() for source in trace.sources}
    removal_notes = _removal_notes(chain)
    for item in previous.items():
        if item.id not in accounted:
            notes = (removal_notes[item.id],) if item.id in removal_notes else ()
            result.removed.append(NotCompared(item.id, "removed", item.prompt, (), notes))
    return result


def _chain(
    previous: Definition, between: list[Definition], current: Definition
) -> list[Definition]:
    if previous.key != current.key:
        raise ValueError(f"cannot compare {current.key} with {previous.key}")
    if previous.version == current.version and not between:
        return [current]
    chain = [previous, *between, current]
    for old, new in pairwise(chain):
        if new.key != old.key or new.supersedes != old.version:
            raise ValueError(
                f"{new.key} {new.version} does not follow on from {old.key} {old.version}: "
                "pass every version in between, oldest first"
            )
    return chain


def _trace(plans: Sequence[Mapping[str, Carry]], step: int, item_id: str) -> _Trace:
    """Where an item of the version after ``step`` comes from in the first version."""
    carry = plans[step][item_id]
    own_notes = (carry.note,) if carry.note else ()
    if carry.change == "new":
        return _Trace("new", (), own_notes)
    if carry.change in ("split", "merged") or len(carry.sources) != 1:
        kind: Literal["split", "merged"] = "split" if carry.change == "split" else "merged"
        return _Trace(kind, _origins(plans, step - 1, carry.sources), own_notes)
    source = carry.sources[0]
    earlier = _trace(plans, step - 1, source) if step > 0 else _Trace("same", (source,), ())
    reworded = carry.change == "reworded" and earlier.change == "same"
    return _Trace(
        "reworded" if reworded else earlier.change, earlier.sources, earlier.notes + own_notes
    )


def _origins(
    plans: Sequence[Mapping[str, Carry]], step: int, ids: Sequence[str]
) -> tuple[str, ...]:
    """The first version's ids that the given ids (in the version after ``step``) came from."""
    if step < 0:
        return tuple(ids)
    found: list[str] = []
    for item_id in ids:
        for origin in _trace(plans, step, item_id).sources:
            if origin not in found:
                found.append(origin)
    return tuple(found)


def _removal_notes(chain: Sequence[Definition]) -> dict[str, str]:
    """The lineage note for each id removed in any step, earliest step first."""
    notes: dict[str, str] = {}
    for old, new in pairwise(chain):
        for item, entry in diff(old, new).removed:
            if entry is not None and item.id not in notes:
                notes[item.id] = entry.note
    return notes
