"""Rules that relate a definition's fields to each other, to the vocabulary and to other versions.

Each rule yields Problems (file, path, plain message); ``check_catalogue`` runs them all so an
editor sees every problem in one pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from audit_portal.questionnaires.load import Catalogue, LoadedFile, Problem
from audit_portal.questionnaires.model import (
    CHOICE_KINDS,
    RAG_RANK,
    Conditions,
    Definition,
    Item,
    LineageEntry,
    ShareRule,
)
from audit_portal.vocabulary import DIMENSIONS, QUESTIONNAIRE_PREFIXES


def check_catalogue(catalogue: Catalogue) -> list[Problem]:
    problems: list[Problem] = []
    for loaded in catalogue.files:
        problems.extend(loaded.problems)
        if loaded.definition is not None:
            problems.extend(_file_problems(loaded, catalogue))
    problems.extend(_duplicate_versions(catalogue))
    for key in catalogue.questionnaire_keys():
        problems.extend(_retired_ids_reused(catalogue, key))
    return sorted(set(problems))


def _file_problems(loaded: LoadedFile, catalogue: Catalogue) -> Iterator[Problem]:
    d = loaded.definition
    assert d is not None
    name = _name(loaded, catalogue)
    for path, message in _rules(loaded, d, catalogue):
        yield Problem(name, path, message)


def _name(loaded: LoadedFile, catalogue: Catalogue) -> str:
    try:
        return str(loaded.path.relative_to(catalogue.root.parent))
    except ValueError:
        return str(loaded.path)


Found = Iterator[tuple[str, str]]


def _rules(loaded: LoadedFile, d: Definition, catalogue: Catalogue) -> Found:
    yield from _check_identity(loaded, d)
    yield from _check_ids(d)
    yield from _check_scale(d)
    yield from _check_rollup(d)
    yield from _check_conditions("audience", d.audience)
    for section in d.sections:
        for item in section.items:
            yield from _check_item(d, f"sections[{section.id}].items[{item.id}]", item)
    yield from _check_lineage(d, catalogue)


def _check_identity(loaded: LoadedFile, d: Definition) -> Found:
    if loaded.path.stem != d.version:
        yield "version", f"is {d.version!r} but the file is named {loaded.path.name!r}"
    if loaded.path.parent.name != d.key:
        yield "key", f"is {d.key!r} but the file is in the folder {loaded.path.parent.name!r}"
    if d.key not in QUESTIONNAIRE_PREFIXES:
        yield "key", f"{d.key!r} is not a known questionnaire ({', '.join(QUESTIONNAIRE_PREFIXES)})"


def _check_ids(d: Definition) -> Found:
    prefix = QUESTIONNAIRE_PREFIXES.get(d.key)
    section_ids = Counter(s.id for s in d.sections)
    item_ids = Counter(i.id for i in d.items())
    for section in d.sections:
        where = f"sections[{section.id}].id"
        if section_ids[section.id] > 1:
            yield where, f"section id {section.id} is used more than once"
        if prefix and section.id.split(".")[0] != prefix:
            yield where, f"section ids in {d.key} must start with {prefix}."
        for item in section.items:
            at = f"sections[{section.id}].items[{item.id}].id"
            if item_ids[item.id] > 1:
                yield at, f"item id {item.id} is used more than once"
            if (
                not item.id.startswith(section.id + ".")
                or item.id.count(".") != section.id.count(".") + 1
            ):
                yield at, f"item id {item.id} must be {section.id}.<number> (its section's id)"


def _check_scale(d: Definition) -> Found:
    points = d.rating_scale.points
    values = [p.value for p in points]
    if len(set(values)) != len(values):
        yield "rating_scale.points", "two points have the same value"
    if values != sorted(values, reverse=True):
        yield "rating_scale.points", "points must be listed best first (values falling)"
    ranks = [RAG_RANK[p.rag] for p in sorted(points, key=lambda p: -p.value)]
    if ranks != sorted(ranks, reverse=True):
        yield (
            "rating_scale.points",
            "a lower value cannot have a better RAG colour than a higher one",
        )
    flags = [p.less_effective for p in sorted(points, key=lambda p: -p.value)]
    if flags != sorted(flags):
        yield "rating_scale.points", "once a point is less effective, every lower point must be too"
    if all(flags):
        yield "rating_scale.points", "at least one point must not be less effective"


def _check_rollup(d: Definition) -> Found:
    colours = {p.rag for p in d.rating_scale.points}
    for level in ("section", "overall"):
        rule = getattr(d.rollup, level)
        if not isinstance(rule, ShareRule):
            continue
        path = f"rollup.{level}"
        if level == "section" and rule.over == "sections":
            yield (
                f"{path}.over",
                "a section rule counts its items; over: sections refers to nothing",
            )
        if "green" not in colours:
            yield (
                f"{path}.green_at_least",
                "refers to green but the rating scale has no green point",
            )
        if (rule.red_if_any_red or rule.red_at_least is not None) and "red" not in colours:
            yield path, "refers to red but the rating scale has no red point"


def _check_conditions(path: str, conditions: Conditions) -> Found:
    for dimension, values in conditions.as_dict().items():
        known = DIMENSIONS[dimension]
        for value in values:
            if value not in known:
                yield (
                    f"{path}.{dimension}",
                    f"{value!r} is not a known {dimension.replace('_', ' ')[:-1]} "
                    f"(known: {', '.join(known)})",
                )


def _check_item(d: Definition, path: str, item: Item) -> Found:
    scale_values = {p.value for p in d.rating_scale.points}
    if item.applies_to is not None:
        yield from _check_conditions(f"{path}.applies_to", item.applies_to)
    if item.kind == "rating" and not item.evidence_examples:
        yield f"{path}.evidence_examples", "a rating item needs at least one example of evidence"
    if item.narrative_required_for is not None:
        if item.kind != "rating":
            yield (
                f"{path}.narrative_required_for",
                "only rating items have ratings to require a narrative for",
            )
        for value in item.narrative_required_for:
            if value not in scale_values:
                yield (
                    f"{path}.narrative_required_for",
                    f"{value} is not a value on the rating scale",
                )
    if item.kind in CHOICE_KINDS:
        options = item.options or []
        if len(options) < 2:
            yield f"{path}.options", "a choice item needs at least two options"
        if len({o.value for o in options}) != len(options):
            yield f"{path}.options", "two options have the same value"
    elif item.options is not None:
        yield f"{path}.options", f"only choice items have options (this is {item.kind})"
    if item.kind != "number" and (item.min is not None or item.max is not None):
        yield path, f"min and max apply only to number items (this is {item.kind})"
    if item.min is not None and item.max is not None and item.min > item.max:
        yield f"{path}.min", "is greater than max"
    if item.max_length is not None and item.kind != "text":
        yield f"{path}.max_length", f"applies only to text items (this is {item.kind})"


# --- versions and lineage -------------------------------------------------------------------


def _check_lineage(d: Definition, catalogue: Catalogue) -> Found:
    if d.supersedes is None:
        if d.lineage:
            yield "lineage", "is only allowed in a version that declares what it supersedes"
        return
    old = catalogue.get(d.key, d.supersedes)
    if old is None:
        yield "supersedes", f"{d.key} {d.supersedes} does not exist"
        return
    if old.version_key >= d.version_key:
        yield "supersedes", f"must name an earlier version than {d.version}"
    new_ids = {i.id for i in d.items()}
    old_ids = {i.id for i in old.items()}
    accounted: set[str] = set()
    seen: Counter[str] = Counter(e.id for e in d.lineage)
    for n, entry in enumerate(d.lineage):
        path = f"lineage[{n}]"
        if seen[entry.id] > 1:
            yield path, f"{entry.id} has more than one lineage entry"
        yield from _check_entry(path, entry, new_ids, old_ids)
        accounted.update(entry.from_ or [entry.id])
    for item_id in sorted(old_ids - new_ids - accounted):
        yield (
            "lineage",
            (
                f"item {item_id} of {old.version} is missing from {d.version}: declare it removed, "
                "or as the source of a split or merge"
            ),
        )
    declared = {e.id for e in d.lineage}
    for item in d.items():
        before = old.item(item.id)
        if before is not None and item.id not in declared and before.meaning() != item.meaning():
            changed = ", ".join(
                k for k in item.meaning() if item.meaning()[k] != before.meaning()[k]
            )
            yield (
                "lineage",
                (
                    f"item {item.id} changed its {changed} since {old.version} but lineage "
                    "does not "
                    "say so: add a 'reworded' entry, or give the new question a new id"
                ),
            )


def _check_entry(path: str, entry: LineageEntry, new_ids: set[str], old_ids: set[str]) -> Found:
    if entry.change == "removed":
        if entry.id in new_ids:
            yield path, f"{entry.id} is declared removed but is still in this version"
        if entry.id not in old_ids:
            yield path, f"{entry.id} is declared removed but was not in the superseded version"
        if entry.from_:
            yield f"{path}.from", "a removed item has no 'from'"
        return
    if entry.id not in new_ids:
        yield path, f"{entry.id} is not an item of this version"
    sources = entry.from_ or [entry.id]
    for source in sources:
        if source not in old_ids:
            yield f"{path}.from", f"{source} is not an item of the superseded version"
    if entry.change == "merged" and len(sources) < 2:
        yield f"{path}.from", "a merge needs at least two earlier items"
    if entry.change == "split" and len(sources) != 1:
        yield f"{path}.from", "a split comes from exactly one earlier item"


def _duplicate_versions(catalogue: Catalogue) -> Iterator[Problem]:
    counts = Counter((d.key, d.version) for d in catalogue.definitions)
    for (key, version), n in counts.items():
        if n > 1:
            yield Problem(key, "version", f"{key} {version} is defined by {n} files")


def _retired_ids_reused(catalogue: Catalogue, key: str) -> Iterator[Problem]:
    """A removed id keeps its old meaning for ever: no later version may reuse it."""
    retired: dict[str, str] = {}
    for d in catalogue.versions(key):
        loaded = catalogue.file_for(key, d.version)
        assert loaded is not None
        for item in d.items():
            if item.id in retired:
                yield Problem(
                    _name(loaded, catalogue),
                    f"items[{item.id}]",
                    f"id {item.id} was retired in {retired[item.id]} and may not be used again",
                )
        for entry in d.lineage:
            if entry.change == "removed":
                retired.setdefault(entry.id, d.version)
            elif entry.change in {"split", "merged"}:
                for source in entry.from_:
                    if d.item(source) is None:
                        retired.setdefault(source, d.version)
