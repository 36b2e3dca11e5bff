"""Dip samples: a pure, seeded, repeatable choice of returns for the QA sub-group to challenge.

A selection must be defensible: the same population, parameters and seed give the same sample
on every machine, whatever order the population arrives in. So:

- the population is sorted by each candidate's stable key before anything random happens;
- the only source of chance is ``random.Random(seed).random()``, one draw per candidate of the
  whole population in key order. Python promises that ``random()`` keeps its sequence for a
  given seed across versions; it promises nothing for ``sample()``, ``choices()`` or
  ``shuffle()``, so those are never used;
- every method ranks candidates by a key built from their draw (Efraimidis-Spirakis
  ``u ** (1 / weight)``; weight 1 for plain random sampling) and takes the highest, which is
  sampling without replacement. Because every candidate's draw depends only on the seed and the
  population, excluding one organisation or narrowing a filter does not reshuffle the others.

Everything needed to repeat and explain a selection is in the returned ``Sample``; the
parameters round-trip through JSON with ``spec_to_dict`` and ``spec_from_dict``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Literal, get_args

from audit_portal.wording import long_date

Method = Literal["simple", "stratified", "risk"]
Dimension = Literal["kind", "sector", "phase", "district"]
ChallengeMode = Literal["green_in_standards", "random"]

METHODS: tuple[str, ...] = get_args(Method)
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
RAGS: frozenset[str | None] = frozenset({"green", "amber", "red", None})

# How a flag reads in a rationale; the keys are the intelligence flag types of the register.
FLAG_LABELS: Mapping[str, str] = {
    "ofsted-judgement": "Ofsted judgement",
    "safeguarding-concern": "Safeguarding concern",
    "serious-incident": "Serious incident",
    "lado-referral": "LADO referral",
    "other": "Other intelligence",
}
MIN_WEIGHT, MAX_WEIGHT = 1, 100
MIN_SEED, MAX_SEED = 1, 999_999_999
SPEC_FORMAT = 1  # bump when spec_to_dict changes shape; spec_from_dict refuses what it cannot read


class SampleError(ValueError):
    """Parameters a person set that cannot give a sample; the message says what to change."""


@dataclass(frozen=True)
class Flag:
    """One current intelligence flag on an organisation (superseded flags are left out)."""

    category: str  # a key of FLAG_LABELS
    value: str = ""  # e.g. the Ofsted judgement
    noted_on: date | None = None


@dataclass(frozen=True)
class Candidate:
    """One submitted return that may be sampled, with what filters, strata and weights need."""

    key: str  # stable and unique: the organisation's identifier or zero-padded id
    return_id: int
    organisation_id: int
    name: str
    kind: str
    sector: str | None
    phase: str | None
    district: str
    overall_rag: str | None  # green, amber, red, or None when unrated
    green_without_evidence: bool = False  # rated green with no evidence described
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Narrow the population before sampling. An empty set means 'any'."""

    kinds: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    overall_rags: frozenset[str | None] = frozenset()  # None in the set means unrated
    green_without_evidence_only: bool = False

    def __post_init__(self) -> None:
        for name in ("kinds", "districts", "overall_rags"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))

    def admit(self, candidate: Candidate) -> bool:
        return (
            (not self.kinds or candidate.kind in self.kinds)
            and (not self.districts or candidate.district in self.districts)
            and (not self.overall_rags or candidate.overall_rag in self.overall_rags)
            and (not self.green_without_evidence_only or candidate.green_without_evidence)
        )


@dataclass(frozen=True)
class SampleSpec:
    """What the QA member asked for. Exactly one of size and percent."""

    method: Method
    size: int | None = None
    percent: float | None = None  # of the filtered population, rounded half up
    stratify_by: Dimension | None = None  # stratified only
    min_per_stratum: int = 0  # stratified only
    # risk only: flag category, or "category=value" (value case-insensitive), to a weight 1..100
    weights: Mapping[str, float] = field(default_factory=dict, hash=False)
    include: frozenset[str] = frozenset()  # keys always chosen (they count towards the size)
    exclude: frozenset[str] = frozenset()  # keys never chosen; exclusion beats inclusion
    filters: Filters = Filters()

    def __post_init__(self) -> None:
        # Copies, so changing the caller's dict or set later cannot change this spec. (A plain
        # dict, not a read-only proxy: the proxy breaks copy.deepcopy and dataclasses.asdict.)
        object.__setattr__(self, "weights", dict(self.weights))
        object.__setattr__(self, "include", frozenset(self.include))
        object.__setattr__(self, "exclude", frozenset(self.exclude))


@dataclass(frozen=True)
class Chosen:
    candidate: Candidate
    rationale: str  # why it was chosen, as a person reads it in the preview


@dataclass(frozen=True)
class Sample:
    """A selection and everything needed to repeat and explain it."""

    spec: SampleSpec
    seed: int
    population_size: int  # candidates given
    filtered_size: int  # after filters, before exclusions
    population_keys: tuple[str, ...]  # the filtered population, sorted
    requested_size: int  # the size asked for (a percentage turned into a number)
    chosen: tuple[Chosen, ...]  # in key order
    notes: tuple[str, ...]

    @property
    def chosen_keys(self) -> tuple[str, ...]:
        return tuple(c.candidate.key for c in self.chosen)


@dataclass(frozen=True)
class ItemRating:
    """One item of a sampled return, as the challenge picker needs it."""

    item_id: str
    section_id: str
    rag: str | None
    applicable: bool


# ---------------------------------------------------------------------------------------------
# Seeds


def new_seed() -> int:
    """A fresh seed of 6 to 9 digits: unpredictable, yet short enough to read out and type."""
    return 100_000 + secrets.randbelow(MAX_SEED - 100_000 + 1)


def parse_seed(text: str) -> int:
    """A seed a person typed: ASCII digits only (no signs, no '²'), 1 to 999999999."""
    text = text.strip()
    if not text:
        raise SampleError("Enter the seed")
    if not (text.isascii() and text.isdigit()):
        raise SampleError("Enter the seed as a number, for example 482913")
    if len(text.lstrip("0")) > len(str(MAX_SEED)) or not MIN_SEED <= int(text) <= MAX_SEED:
        raise SampleError(f"The seed must be a number between {MIN_SEED} and {MAX_SEED}")
    return int(text)


# ---------------------------------------------------------------------------------------------
# Validation


def validate_spec(spec: SampleSpec) -> None:
    """Raise SampleError, with a message for the person who set it, if spec cannot be used."""
    if spec.method not in METHODS:
        raise SampleError("Choose how to select the sample")
    _validate_size(spec)
    if spec.method == "stratified":
        if spec.stratify_by not in DIMENSIONS:
            raise SampleError("Choose what to divide the population by")
        if not _is_int(spec.min_per_stratum) or spec.min_per_stratum < 0:
            raise SampleError("The minimum for each group must be 0 or more")
    elif spec.stratify_by is not None or spec.min_per_stratum != 0:
        raise SampleError("Only a stratified sample divides the population into groups")
    if spec.method == "risk":
        if not spec.weights:
            raise SampleError("Set a weight for at least one type of intelligence")
        _normalised_weights(spec.weights)
    elif spec.weights:
        raise SampleError("Only a risk-weighted sample uses weights")
    for keys in (spec.include, spec.exclude):
        if not all(isinstance(k, str) and k for k in keys):
            raise SampleError("Organisations to include or exclude must be named by their key")
    if not spec.filters.overall_rags <= RAGS:
        raise SampleError("Filter the overall rating by green, amber, red or not rated")


def _validate_size(spec: SampleSpec) -> None:
    if spec.size is None and spec.percent is None:
        raise SampleError("Enter how many returns to sample, as a number or a percentage")
    if spec.size is not None and spec.percent is not None:
        raise SampleError("Enter either a number of returns or a percentage, not both")
    if spec.size is not None and (not _is_int(spec.size) or spec.size < 1):
        raise SampleError("The number of returns to sample must be a whole number, 1 or more")
    if spec.percent is not None and not (
        _is_number(spec.percent) and 0 < spec.percent <= 100  # NaN fails both comparisons
    ):
        raise SampleError("The percentage must be more than 0 and no more than 100")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _normalised_weights(weights: Mapping[str, float]) -> dict[tuple[str, str | None], float]:
    """(category, casefolded value or None) to weight; raise SampleError on anything odd."""
    result: dict[tuple[str, str | None], float] = {}
    for raw_key, weight in weights.items():
        if not isinstance(raw_key, str):
            raise SampleError("Weights must be set for a type of intelligence")
        category, has_value, value = raw_key.partition("=")
        category = category.strip()
        if category not in FLAG_LABELS:
            raise SampleError(f"‘{category}’ is not a type of intelligence")
        value = value.strip()
        if has_value and not value:
            raise SampleError(f"Enter the value the weight for {FLAG_LABELS[category]} applies to")
        described = f"{FLAG_LABELS[category]} {value}".strip()
        if not _is_number(weight) or not MIN_WEIGHT <= weight <= MAX_WEIGHT:
            raise SampleError(
                f"The weight for {described} must be a number between {MIN_WEIGHT} and {MAX_WEIGHT}"
            )
        normal = (category, value.casefold() if has_value else None)
        if normal in result:
            raise SampleError(f"The weight for {described} is set twice")
        result[normal] = weight
    return result


def _validate_seed(seed: int) -> None:
    if not _is_int(seed) or not MIN_SEED <= seed <= MAX_SEED:
        raise SampleError(f"The seed must be a number between {MIN_SEED} and {MAX_SEED}")


# ---------------------------------------------------------------------------------------------
# Selection


def select_sample(population: Iterable[Candidate], spec: SampleSpec, seed: int) -> Sample:
    """Choose a dip sample from the population as spec says, repeatably for the seed."""
    validate_spec(spec)
    _validate_seed(seed)
    everyone = sorted(population, key=lambda c: c.key)
    _check_unique(everyone)
    rng = random.Random(seed)  # noqa: S311 - repeatability is the point; nothing secret here
    draws = {c.key: rng.random() for c in everyone}
    filtered = [c for c in everyone if spec.filters.admit(c)]
    notes: list[str] = []
    requested = requested_size(spec, len(filtered))
    if spec.percent is not None:
        notes.append(
            f"{_number(spec.percent)}% of {_returns(len(filtered))}, rounded, is {requested}."
        )
    eligible, forced = _eligible_and_forced(everyone, filtered, spec, notes)
    target = min(requested, len(eligible))
    if not eligible and requested:
        notes.append("No returns are left after the filters and exclusions, so none were chosen.")
    elif target < requested:
        notes.append(
            f"Only {_returns(len(eligible))} could be chosen, fewer than the {requested} asked "
            "for, so all were chosen."
        )
    if len(forced) > target:
        notes.append(
            f"{len(forced)} organisations are always included, more than the {target} asked "
            f"for, so all {len(forced)} were chosen."
        )
    if spec.method == "stratified":
        chosen = _stratified(eligible, forced, draws, spec, target, notes)
    else:
        chosen = _ranked(eligible, forced, draws, spec, target)
    return Sample(
        spec=spec,
        seed=seed,
        population_size=len(everyone),
        filtered_size=len(filtered),
        population_keys=tuple(c.key for c in filtered),
        requested_size=requested,
        chosen=tuple(sorted(chosen, key=lambda c: c.candidate.key)),
        notes=tuple(notes),
    )


def requested_size(spec: SampleSpec, filtered_size: int) -> int:
    """The number asked for: the size, or the percentage of the filtered population rounded
    half up (from the percentage as written, so 2.5% of 100 is 3), at least 1 if any."""
    if spec.size is not None:
        return spec.size
    assert spec.percent is not None  # validate_spec guarantees one of them
    exact = Fraction(repr(float(spec.percent))) * filtered_size / 100
    rounded = math.floor(exact + Fraction(1, 2))
    return max(rounded, 1) if filtered_size else 0


def _check_unique(everyone: Sequence[Candidate]) -> None:
    for before, after in itertools.pairwise(everyone):
        if before.key == after.key:
            raise SampleError(f"Two returns share the key {before.key}")


def _eligible_and_forced(
    everyone: Sequence[Candidate],
    filtered: Sequence[Candidate],
    spec: SampleSpec,
    notes: list[str],
) -> tuple[list[Candidate], list[Candidate]]:
    """Who may be chosen (filtered, not excluded) and who must be (included, eligible)."""
    by_key = {c.key: c for c in everyone}
    in_filter = {c.key for c in filtered}
    both = sorted(spec.include & spec.exclude)
    if both:
        notes.append(
            "Excluded, although also marked to always include: " + _names(both, by_key) + "."
        )
    filtered_out = sorted(
        k for k in spec.include - spec.exclude if k in by_key and k not in in_filter
    )
    if filtered_out:
        notes.append(
            "Marked to always include but left out by the filters, so not chosen: "
            + _names(filtered_out, by_key)
            + "."
        )
    missing = sorted(k for k in spec.include - spec.exclude if k not in by_key)
    if missing:
        notes.append(
            "Marked to always include but not in the population: " + ", ".join(missing) + "."
        )
    eligible = [c for c in filtered if c.key not in spec.exclude]
    forced = [c for c in eligible if c.key in spec.include]
    return eligible, forced


def _names(keys: Iterable[str], by_key: Mapping[str, Candidate]) -> str:
    return ", ".join(by_key[k].name if k in by_key else k for k in keys)


def _ranked(
    eligible: Sequence[Candidate],
    forced: Sequence[Candidate],
    draws: Mapping[str, float],
    spec: SampleSpec,
    target: int,
) -> list[Chosen]:
    """Simple and risk-weighted: the included, then the highest-ranked of the rest."""
    chosen = [Chosen(c, "always included") for c in forced]
    forced_keys = {c.key for c in forced}
    rest = [c for c in eligible if c.key not in forced_keys]
    if spec.method == "risk":
        weights = _normalised_weights(spec.weights)
        weighed = {c.key: candidate_weight(c, weights) for c in rest}
        ranked = _top(
            rest, draws, max(target - len(forced), 0), {k: w for k, (w, _) in weighed.items()}
        )
        chosen += [Chosen(c, _risk_rationale(*weighed[c.key])) for c in ranked]
    else:
        ranked = _top(rest, draws, max(target - len(forced), 0))
        chosen += [Chosen(c, "random selection") for c in ranked]
    return chosen


def _top(
    candidates: Sequence[Candidate],
    draws: Mapping[str, float],
    count: int,
    weights: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """The count candidates with the largest Efraimidis-Spirakis keys u ** (1 / w).

    Taking the largest keys is weighted sampling without replacement: the chance of being
    taken first is w / (sum of w). Ties (vanishingly rare) go to the earlier stable key.
    """

    def rank(c: Candidate) -> tuple[float, str]:
        weight = weights[c.key] if weights else 1.0
        return (-(draws[c.key] ** (1 / weight)), c.key)

    return sorted(candidates, key=rank)[:count]


# ---------------------------------------------------------------------------------------------
# Risk weights


def candidate_weight(
    candidate: Candidate, weights: Mapping[tuple[str, str | None], float]
) -> tuple[float, tuple[Flag, ...]]:
    """The largest weight among the candidate's flags (1 without any), and the flags that
    carry it, most recent first. A "category=value" weight beats the bare category's."""
    weighed: list[tuple[float, Flag]] = []
    for flag in candidate.flags:
        specific = weights.get((flag.category, flag.value.strip().casefold()))
        weight = specific if specific is not None else weights.get((flag.category, None))
        if weight is not None:
            weighed.append((weight, flag))
    best = max((w for w, _ in weighed), default=1)
    if best <= 1:
        return 1, ()
    carrying = sorted(
        (f for w, f in weighed if w == best),
        key=lambda f: (f.noted_on is not None, f.noted_on or date.min, f.category, f.value),
        reverse=True,
    )
    return best, tuple(carrying)


def _risk_rationale(weight: float, flags: Sequence[Flag]) -> str:
    if not flags:
        return "weight 1: no weighted intelligence"
    return f"weight {_number(weight)}: " + "; ".join(describe_flag(f) for f in flags)


def describe_flag(flag: Flag) -> str:
    """'Ofsted judgement Inadequate, 12 June 2025' and the like."""
    text = f"{FLAG_LABELS.get(flag.category, flag.category)} {flag.value.strip()}".strip()
    return f"{text}, {long_date(flag.noted_on)}" if flag.noted_on else text


def _returns(count: int) -> str:
    return f"{count} return" if count == 1 else f"{count} returns"


def _number(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------------------------------------
# Stratified


def _stratified(
    eligible: Sequence[Candidate],
    forced: Sequence[Candidate],
    draws: Mapping[str, float],
    spec: SampleSpec,
    target: int,
    notes: list[str],
) -> list[Chosen]:
    dimension = spec.stratify_by
    assert dimension is not None  # validate_spec guarantees it
    strata: dict[str | None, list[Candidate]] = {}
    for c in eligible:
        strata.setdefault(stratum_of(c, dimension), []).append(c)
    forced_keys = {c.key for c in forced}
    sizes = {s: len(members) for s, members in strata.items()}
    floors = {
        s: max(min(spec.min_per_stratum, len(members)), sum(c.key in forced_keys for c in members))
        for s, members in strata.items()
    }
    allocation = allocate(sizes, target, floors)
    total = sum(allocation.values())
    if total > max(target, len(forced)):
        notes.append(
            f"The minimum of {spec.min_per_stratum} for each {dimension} needs {total} returns, "
            f"more than the {target} asked for, so {total} were chosen."
        )
    chosen: list[Chosen] = []
    for stratum, members in strata.items():
        label = stratum_label(stratum, dimension)
        reason = f"stratum: {label} ({allocation[stratum]} of {len(members)} chosen)"
        musts = [c for c in members if c.key in forced_keys]
        chosen += [Chosen(c, "always included") for c in musts]
        rest = [c for c in members if c.key not in forced_keys]
        chosen += [Chosen(c, reason) for c in _top(rest, draws, allocation[stratum] - len(musts))]
    return chosen


def stratum_of(candidate: Candidate, dimension: str) -> str | None:
    """The candidate's value for the dimension; None (not an empty string) when unrecorded."""
    value: str | None = getattr(candidate, dimension)
    return value or None


def stratum_label(stratum: str | None, dimension: str) -> str:
    return stratum if stratum is not None else f"no {dimension} recorded"


def _stratum_order(stratum: str | None) -> tuple[bool, str]:
    return (stratum is None, stratum or "")


def allocate(
    sizes: Mapping[str | None, int], total: int, floors: Mapping[str | None, int] | None = None
) -> dict[str | None, int]:
    """Share total among strata in proportion to their sizes, by the largest-remainder method,
    giving each stratum at least its floor.

    Strata whose proportional share falls below their floor are set to the floor and the rest
    of the total is shared afresh among the others, until every share meets its floor. The
    total is kept unless the floors alone exceed it: then the floors win. Never more than a
    stratum's size, provided total <= sum of sizes and every floor <= its size.
    """
    floors = floors or {}
    fixed: dict[str | None, int] = {}
    while True:
        free = {s: n for s, n in sizes.items() if s not in fixed}
        shares = largest_remainder(free, max(total - sum(fixed.values()), 0))
        below = {s for s, share in shares.items() if share < floors.get(s, 0)}
        if not below:
            return {s: fixed.get(s, shares.get(s, 0)) for s in sizes}
        fixed.update({s: floors[s] for s in below})


def largest_remainder(sizes: Mapping[str | None, int], total: int) -> dict[str | None, int]:
    """Hamilton's method: whole parts of the exact quotas, then one more each to the largest
    remainders; ties go to the larger stratum, then in alphabetical order (no group last)."""
    whole = sum(sizes.values())
    if not whole:
        return dict.fromkeys(sizes, 0)
    shares = {s: total * n // whole for s, n in sizes.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(
        sizes, key=lambda s: (-(total * sizes[s] % whole), -sizes[s], _stratum_order(s))
    )
    for s in by_remainder[:left]:
        shares[s] += 1
    return shares


# ---------------------------------------------------------------------------------------------
# Storing parameters


def spec_to_dict(spec: SampleSpec) -> dict[str, Any]:
    """JSON-safe parameters in a fixed key order, to store with a confirmed sample."""
    filters = spec.filters
    return {
        "format": SPEC_FORMAT,
        "method": spec.method,
        "size": spec.size,
        "percent": spec.percent,
        "stratify_by": spec.stratify_by,
        "min_per_stratum": spec.min_per_stratum,
        "weights": {k: spec.weights[k] for k in sorted(spec.weights)},
        "include": sorted(spec.include),
        "exclude": sorted(spec.exclude),
        "filters": {
            "kinds": sorted(filters.kinds),
            "districts": sorted(filters.districts),
            "overall_rags": sorted(filters.overall_rags, key=_stratum_order),
            "green_without_evidence_only": filters.green_without_evidence_only,
        },
    }


def spec_from_dict(data: Mapping[str, Any]) -> SampleSpec:
    """The spec spec_to_dict stored, validated; SampleError if it cannot be read."""
    try:
        if data["format"] != SPEC_FORMAT:
            raise SampleError(f"Sample parameters in format {data['format']!r} cannot be read")
        filters = data["filters"]
        spec = SampleSpec(
            method=data["method"],
            size=data["size"],
            percent=data["percent"],
            stratify_by=data["stratify_by"],
            min_per_stratum=data["min_per_stratum"],
            weights=dict(data["weights"]),
            include=frozenset(_strings(data["include"])),
            exclude=frozenset(_strings(data["exclude"])),
            filters=Filters(
                kinds=frozenset(_strings(filters["kinds"])),
                districts=frozenset(_strings(filters["districts"])),
                overall_rags=frozenset(filters["overall_rags"]),
                green_without_evidence_only=filters["green_without_evidence_only"] is True,
            ),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise SampleError(f"The stored sample parameters cannot be read ({error})") from error
    validate_spec(spec)
    return spec


def _strings(values: Iterable[Any]) -> list[str]:
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise TypeError("expected a list of strings")
    return list(values)


# ---------------------------------------------------------------------------------------------
# Evidence challenge items


def default_challenge_items(
    items: Sequence[ItemRating],
    *,
    mode: ChallengeMode,
    standards: Collection[str] = (),
    count: int = 0,
    seed: int,
    return_key: str,
) -> list[str]:
    """Which items of one sampled return to challenge by default, in questionnaire order.

    "green_in_standards": every applicable item self-rated green in the chosen standards.
    "random": count applicable items (all of them if fewer), chosen repeatably from the
    sample's seed and the return's key, so each return in a sample gets its own choice.
    """
    if mode == "green_in_standards":
        if not standards:
            raise SampleError("Choose at least one standard")
        wanted = set(standards)
        return [
            i.item_id for i in items if i.applicable and i.rag == "green" and i.section_id in wanted
        ]
    if mode != "random":
        raise SampleError("Choose which items to challenge")
    if not _is_int(count) or count < 1:
        raise SampleError("Enter how many items to challenge, 1 or more")
    applicable = [i for i in items if i.applicable]
    rng = random.Random(_return_seed(seed, return_key))  # noqa: S311 - repeatable on purpose
    draws = {i.item_id: rng.random() for i in sorted(applicable, key=lambda i: i.item_id)}
    picked = set(sorted(draws, key=lambda k: (-draws[k], k))[:count])
    return [i.item_id for i in applicable if i.item_id in picked]


def _return_seed(seed: int, return_key: str) -> int:
    """A seed for one return from the sample's seed: SHA-256, not hash(), which is salted
    per process and would give a different choice on every run."""
    digest = hashlib.sha256(f"{seed}\x1f{return_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
