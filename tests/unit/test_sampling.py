"""Dip-sample selection: worked examples a person can check by hand, then properties that must
hold for every population, method, parameter set and seed."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from datetime import date
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_portal.models import FLAG_TYPES
from audit_portal.sampling import (
    FLAG_LABELS,
    Candidate,
    Filters,
    Flag,
    ItemRating,
    Method,
    Sample,
    SampleError,
    SampleSpec,
    allocate,
    candidate_weight,
    default_challenge_items,
    describe_flag,
    largest_remainder,
    new_seed,
    parse_seed,
    requested_size,
    select_sample,
    spec_from_dict,
    spec_to_dict,
    stratum_of,
    validate_spec,
)

SEED = 482913
INADEQUATE = Flag("ofsted-judgement", "Inadequate", date(2025, 6, 12))


def candidate(number: int, **changes: object) -> Candidate:
    values: dict[str, object] = {
        "key": f"{number:06d}",
        "return_id": 1000 + number,
        "organisation_id": number,
        "name": f"Organisation {number}",
        "kind": "school",
        "sector": None,
        "phase": "primary",
        "district": "North",
        "overall_rag": "green",
    }
    values.update(changes)
    return Candidate(**values)  # type: ignore[arg-type]


def by_key(sample: Sample) -> dict[str, str]:
    return {c.candidate.key: c.rationale for c in sample.chosen}


# ---------------------------------------------------------------------------------------------
# Strategies

candidates = st.builds(
    lambda kind, sector, phase, district, rag, bare, flags: (
        kind,
        sector,
        phase,
        district,
        rag,
        bare,
        flags,
    ),
    st.sampled_from(["school", "early-years", "agency"]),
    st.sampled_from([None, "police", "health"]),
    st.sampled_from([None, "", "primary", "secondary", "nursery"]),
    st.sampled_from(["North", "South", "East", ""]),
    st.sampled_from(["green", "amber", "red", None]),
    st.booleans(),
    st.lists(
        st.builds(
            Flag,
            st.sampled_from(sorted(FLAG_LABELS)),
            st.sampled_from(["", "Inadequate", "Good", "requires improvement"]),
            st.none() | st.dates(date(2020, 1, 1), date(2026, 12, 31)),
        ),
        max_size=3,
    ).map(tuple),
)


@st.composite
def populations(draw: st.DrawFn, min_size: int = 0, max_size: int = 40) -> list[Candidate]:
    rows = draw(st.lists(candidates, min_size=min_size, max_size=max_size))
    return [
        Candidate(
            key=f"K{i:03d}",
            return_id=i,
            organisation_id=i,
            name=f"Organisation {i}",
            kind=kind,
            sector=sector,
            phase=phase,
            district=district,
            overall_rag=rag,
            green_without_evidence=bare,
            flags=flags,
        )
        for i, (kind, sector, phase, district, rag, bare, flags) in enumerate(rows)
    ]


filters = st.builds(
    Filters,
    kinds=st.frozensets(st.sampled_from(["school", "early-years", "agency"]), max_size=2),
    districts=st.frozensets(st.sampled_from(["North", "South", "East", ""]), max_size=2),
    overall_rags=st.frozensets(st.sampled_from(["green", "amber", "red", None]), max_size=3),
    green_without_evidence_only=st.booleans(),
)
weights = st.dictionaries(
    st.sampled_from([*sorted(FLAG_LABELS), "ofsted-judgement=inadequate", "ofsted-judgement=GOOD"]),
    st.integers(1, 100) | st.floats(1, 100),
    min_size=1,
    max_size=4,
)
sizes = st.tuples(st.integers(1, 50), st.none()) | st.tuples(
    st.none(), st.floats(0.01, 100) | st.integers(1, 100)
)
keys = st.frozensets(st.sampled_from([f"K{i:03d}" for i in range(45)]), max_size=6)


@st.composite
def specs(
    draw: st.DrawFn,
    *,
    with_lists: bool = True,
    with_filters: bool = True,
    with_minimum: bool = True,
) -> SampleSpec:
    method: Method = draw(st.sampled_from(["simple", "stratified", "risk"]))
    size, percent = draw(sizes)
    return SampleSpec(
        method=method,
        size=size,
        percent=percent,
        stratify_by=(
            draw(st.sampled_from(["kind", "sector", "phase", "district"]))
            if method == "stratified"
            else None
        ),
        min_per_stratum=draw(st.integers(0, 3)) if method == "stratified" and with_minimum else 0,
        weights=draw(weights) if method == "risk" else {},
        include=draw(keys) if with_lists else frozenset(),
        exclude=draw(keys) if with_lists else frozenset(),
        filters=draw(filters) if with_filters else Filters(),
    )


seeds = st.integers(1, 999_999_999)


def strata_of(sample: Sample, population: list[Candidate]) -> tuple[Counter, Counter]:
    """How many the stratified sample chose from each stratum, and each stratum's size."""
    dimension = sample.spec.stratify_by
    assert dimension is not None
    eligible = [
        c
        for c in population
        if c.key in sample.population_keys and c.key not in sample.spec.exclude
    ]
    size = Counter(stratum_of(c, dimension) for c in eligible)
    chosen = Counter(stratum_of(c.candidate, dimension) for c in sample.chosen)
    return chosen, size


def hamilton(sizes: dict[str | None, int], total: int) -> dict[str | None, int]:
    """Largest remainders written out a second way, over exact fractions."""
    whole = sum(sizes.values())
    quotas = {s: Fraction(total * n, whole) for s, n in sizes.items()}
    shares = {s: int(q) for s, q in quotas.items()}
    order = sorted(sizes, key=lambda s: (shares[s] - quotas[s], -sizes[s], s is None, s or ""))
    for s in order[: total - sum(shares.values())]:
        shares[s] += 1
    return shares


# ---------------------------------------------------------------------------------------------
# Worked examples


def test_simple_random_sample_of_a_number() -> None:
    population = [candidate(n) for n in range(1, 21)]
    sample = select_sample(population, SampleSpec("simple", size=4), SEED)
    assert len(sample.chosen) == 4
    assert set(by_key(sample).values()) == {"random selection"}
    assert sample.population_size == sample.filtered_size == 20
    assert sample.population_keys == tuple(f"{n:06d}" for n in range(1, 21))
    assert sample.requested_size == 4
    assert sample.notes == ()
    assert list(sample.chosen_keys) == sorted(sample.chosen_keys)


def test_the_same_parameters_and_seed_give_the_same_sample_next_year() -> None:
    """Pinned: if this changes, stored samples can no longer be replayed."""
    population = [candidate(n) for n in range(1, 31)]
    sample = select_sample(population, SampleSpec("simple", size=5), SEED)
    assert sample.chosen_keys == ("000003", "000006", "000019", "000022", "000026")
    risky = [candidate(n, flags=(INADEQUATE,) if n % 5 == 0 else ()) for n in range(1, 31)]
    weighted = select_sample(
        risky, SampleSpec("risk", size=5, weights={"ofsted-judgement": 50}), SEED
    )
    assert weighted.chosen_keys == ("000005", "000010", "000019", "000022", "000025")


@pytest.mark.parametrize(
    ("percent", "population", "expected"),
    [
        (10, 43, 4),  # 4.3
        (2.5, 100, 3),  # 2.5 rounds up
        (12.5, 20, 3),  # 2.5 rounds up
        (14.5, 10, 1),  # 1.45
        (9.2, 375, 35),  # 34.5 exactly, though 9.2 * 375 / 100 is 34.4999... in floating point
        (0.1, 10, 1),  # 0.01, but at least one
        (100, 7, 7),
        (50, 0, 0),
    ],
)
def test_a_percentage_is_of_the_filtered_population_rounded_half_up(
    percent: float, population: int, expected: int
) -> None:
    assert requested_size(SampleSpec("simple", percent=percent), population) == expected


def test_a_percentage_applies_after_the_filters_and_is_explained() -> None:
    population = [candidate(n, overall_rag="red" if n <= 30 else "green") for n in range(1, 101)]
    spec = SampleSpec("simple", percent=10, filters=Filters(overall_rags=frozenset({"red"})))
    sample = select_sample(population, spec, SEED)
    assert (sample.population_size, sample.filtered_size, sample.requested_size) == (100, 30, 3)
    assert len(sample.chosen) == 3
    assert all(c.candidate.overall_rag == "red" for c in sample.chosen)
    assert sample.notes == ("10% of 30 returns, rounded, is 3.",)


def test_filters_narrow_the_population_as_documented() -> None:
    population = [
        candidate(1, kind="school", district="North", overall_rag="green"),
        candidate(2, kind="school", district="South", overall_rag=None),
        candidate(3, kind="agency", district="North", overall_rag="red"),
        candidate(
            4, kind="school", district="North", overall_rag="green", green_without_evidence=True
        ),
        candidate(5, kind="early-years", district="East", overall_rag="amber"),
    ]

    def keys_for(f: Filters) -> tuple[str, ...]:
        return select_sample(
            population, SampleSpec("simple", size=1, filters=f), SEED
        ).population_keys

    assert keys_for(Filters()) == ("000001", "000002", "000003", "000004", "000005")
    assert keys_for(Filters(kinds=frozenset({"school"}))) == ("000001", "000002", "000004")
    assert keys_for(Filters(districts=frozenset({"North", "East"}))) == (
        "000001",
        "000003",
        "000004",
        "000005",
    )
    assert keys_for(Filters(overall_rags=frozenset({None}))) == ("000002",)
    assert keys_for(Filters(overall_rags=frozenset({"red", "amber"}))) == ("000003", "000005")
    assert keys_for(Filters(green_without_evidence_only=True)) == ("000004",)
    assert keys_for(
        Filters(kinds=frozenset({"school"}), overall_rags=frozenset({"green", None}))
    ) == ("000001", "000002", "000004")


def test_included_count_towards_the_size_and_excluded_are_never_chosen() -> None:
    population = [candidate(n) for n in range(1, 21)]
    spec = SampleSpec("simple", size=5, include=frozenset({"000007", "000008"}))
    sample = select_sample(population, spec, SEED)
    assert len(sample.chosen) == 5
    assert by_key(sample)["000007"] == by_key(sample)["000008"] == "always included"

    everyone_but_two = SampleSpec("simple", size=20, exclude=frozenset({"000003", "000004"}))
    sample = select_sample(population, everyone_but_two, SEED)
    assert len(sample.chosen) == 18 and {"000003", "000004"}.isdisjoint(sample.chosen_keys)
    assert sample.notes == (
        "Only 18 returns could be chosen, fewer than the 20 asked for, so all were chosen.",
    )


def test_a_single_return_reads_as_one() -> None:
    sample = select_sample([candidate(1)], SampleSpec("simple", size=3), SEED)
    assert sample.notes == (
        "Only 1 return could be chosen, fewer than the 3 asked for, so all were chosen.",
    )


def test_exclusion_wins_over_inclusion_and_says_so() -> None:
    population = [candidate(n) for n in range(1, 11)]
    spec = SampleSpec(
        "simple", size=3, include=frozenset({"000002"}), exclude=frozenset({"000002"})
    )
    sample = select_sample(population, spec, SEED)
    assert "000002" not in sample.chosen_keys and len(sample.chosen) == 3
    assert sample.notes == ("Excluded, although also marked to always include: Organisation 2.",)


def test_more_included_than_the_size_chooses_all_of_them() -> None:
    population = [candidate(n) for n in range(1, 11)]
    spec = SampleSpec(
        "risk", size=2, weights={"other": 2}, include=frozenset({"000001", "000002", "000003"})
    )
    sample = select_sample(population, spec, SEED)
    assert sample.chosen_keys == ("000001", "000002", "000003")
    assert sample.notes == (
        "3 organisations are always included, more than the 2 asked for, so all 3 were chosen.",
    )


def test_included_but_filtered_out_or_unknown_are_not_chosen_and_say_so() -> None:
    population = [candidate(1, district="South"), *(candidate(n) for n in range(2, 6))]
    spec = SampleSpec(
        "simple",
        size=2,
        include=frozenset({"000001", "999999"}),
        filters=Filters(districts=frozenset({"North"})),
    )
    sample = select_sample(population, spec, SEED)
    assert "000001" not in sample.chosen_keys and len(sample.chosen) == 2
    assert sample.notes == (
        "Marked to always include but left out by the filters, so not chosen: Organisation 1.",
        "Marked to always include but not in the population: 999999.",
    )


def test_nothing_left_after_filters_says_so() -> None:
    population = [candidate(n) for n in range(1, 4)]
    spec = SampleSpec("simple", size=2, filters=Filters(kinds=frozenset({"agency"})))
    sample = select_sample(population, spec, SEED)
    assert sample.chosen == () and sample.filtered_size == 0
    assert sample.notes == (
        "No returns are left after the filters and exclusions, so none were chosen.",
    )


def test_stratified_rationale_and_proportional_allocation() -> None:
    # 12 secondary, 6 primary, 2 nursery; 5 of 20: quotas 3, 1.5, 0.5 -> 3, 2 (larger), 0
    phases = ["secondary"] * 12 + ["primary"] * 6 + ["nursery"] * 2
    population = [candidate(n, phase=p) for n, p in enumerate(phases, start=1)]
    sample = select_sample(population, SampleSpec("stratified", size=5, stratify_by="phase"), SEED)
    assert Counter(by_key(sample).values()) == {
        "stratum: secondary (3 of 12 chosen)": 3,
        "stratum: primary (2 of 6 chosen)": 2,
    }
    with_minimum = SampleSpec("stratified", size=5, stratify_by="phase", min_per_stratum=1)
    sample = select_sample(population, with_minimum, SEED)
    # nursery is raised to 1; the other 4 are shared 12:6 -> 2.67, 1.33 -> 3, 1
    assert Counter(by_key(sample).values()) == {
        "stratum: secondary (3 of 12 chosen)": 3,
        "stratum: primary (1 of 6 chosen)": 1,
        "stratum: nursery (1 of 2 chosen)": 1,
    }
    assert sample.notes == ()


def test_a_stratum_with_nothing_recorded_is_named_plainly() -> None:
    population = [candidate(1, sector=None), candidate(2, sector="police")]
    sample = select_sample(
        population,
        SampleSpec("stratified", size=2, stratify_by="sector", min_per_stratum=1),
        SEED,
    )
    assert by_key(sample) == {
        "000001": "stratum: no sector recorded (1 of 1 chosen)",
        "000002": "stratum: police (1 of 1 chosen)",
    }


def test_minimums_win_over_the_size_and_say_so() -> None:
    districts = ["North"] * 3 + ["South"] * 3 + ["East"] * 3 + ["West"] * 3
    population = [candidate(n, district=d) for n, d in enumerate(districts, start=1)]
    spec = SampleSpec("stratified", size=3, stratify_by="district", min_per_stratum=2)
    sample = select_sample(population, spec, SEED)
    assert len(sample.chosen) == 8
    assert sample.notes == (
        "The minimum of 2 for each district needs 8 returns, more than the 3 asked for, "
        "so 8 were chosen.",
    )


def test_allocation_by_largest_remainder() -> None:
    assert largest_remainder({"a": 12, "b": 5, "c": 3}, 7) == {"a": 4, "b": 2, "c": 1}
    # 0.5 each for b and c: the tie goes alphabetically when the strata are the same size
    assert largest_remainder({"a": 90, "c": 5, "b": 5}, 10) == {"a": 9, "b": 1, "c": 0}
    # b and c below the minimum of 2 are raised; the other 6 go to a
    assert allocate({"a": 90, "b": 5, "c": 5}, 10, {"a": 2, "b": 2, "c": 2}) == {
        "a": 6,
        "b": 2,
        "c": 2,
    }
    assert allocate({"a": 3, None: 3}, 1, {"a": 1, None: 1}) == {"a": 1, None: 1}


def test_risk_rationale_names_the_flag_that_weighed() -> None:
    population = [
        candidate(1, flags=(INADEQUATE, Flag("lado-referral", "", date(2025, 3, 3)))),
        candidate(
            2,
            flags=(
                Flag("serious-incident", "", date(2024, 1, 5)),
                Flag("safeguarding-concern", "neglect", date(2025, 2, 1)),
            ),
        ),
        candidate(3, flags=(Flag("other", "Governance", None),)),
    ]
    spec = SampleSpec(
        "risk",
        size=3,
        weights={
            "ofsted-judgement=inadequate": 3,
            "lado-referral": 2,
            "serious-incident": 2.5,
            "safeguarding-concern": 2.5,
        },
    )
    assert by_key(select_sample(population, spec, SEED)) == {
        "000001": "weight 3: Ofsted judgement Inadequate, 12 June 2025",
        "000002": "weight 2.5: Safeguarding concern neglect, 1 February 2025; "
        "Serious incident, 5 January 2024",
        "000003": "weight 1: no weighted intelligence",
    }


def test_a_specific_weight_beats_the_category_and_the_largest_counts() -> None:
    weights = {("ofsted-judgement", None): 2.0, ("ofsted-judgement", "good"): 1.0}
    good = Flag("ofsted-judgement", " Good ", date(2024, 5, 1))
    assert candidate_weight(candidate(1, flags=(good,)), weights) == (1, ())
    assert candidate_weight(candidate(1, flags=(INADEQUATE,)), weights) == (2.0, (INADEQUATE,))
    assert candidate_weight(candidate(1, flags=(good, INADEQUATE)), weights) == (2.0, (INADEQUATE,))
    assert candidate_weight(candidate(1), weights) == (1, ())


def test_flags_read_as_a_person_writes_them() -> None:
    assert describe_flag(INADEQUATE) == "Ofsted judgement Inadequate, 12 June 2025"
    assert describe_flag(Flag("lado-referral", "", date(2025, 11, 1))) == (
        "LADO referral, 1 November 2025"
    )
    assert describe_flag(Flag("other", "Press report", None)) == "Other intelligence Press report"


def test_every_kind_of_intelligence_has_a_label() -> None:
    assert set(FLAG_LABELS) == set(FLAG_TYPES)


def test_weighted_organisations_are_chosen_about_as_often_as_their_weight() -> None:
    """100 organisations, 10 with weight 3, samples of 5 over 3,000 fixed seeds."""
    population = [candidate(n, flags=(INADEQUATE,) if n < 10 else ()) for n in range(100)]
    spec = SampleSpec("risk", size=5, weights={"ofsted-judgement": 3})
    counts = Counter(
        key for seed in range(1, 3001) for key in select_sample(population, spec, seed).chosen_keys
    )
    heavy = sum(counts[f"{n:06d}"] for n in range(10)) / 10
    light = sum(counts[f"{n:06d}"] for n in range(10, 100)) / 90
    assert 2.5 <= heavy / light <= 3.5


def test_different_seeds_give_different_samples() -> None:
    population = [candidate(n) for n in range(1, 51)]
    spec = SampleSpec("simple", size=5)
    samples = {
        select_sample(population, spec, seed).chosen_keys for seed in (1, 2, 3, 482913, 999_999_999)
    }
    assert len(samples) == 5


def test_excluding_a_chosen_organisation_replaces_only_that_one() -> None:
    population = [candidate(n) for n in range(1, 41)]
    first = select_sample(population, SampleSpec("simple", size=6), SEED)
    dropped = first.chosen_keys[2]
    again = select_sample(
        population, SampleSpec("simple", size=6, exclude=frozenset({dropped})), SEED
    )
    assert len(set(again.chosen_keys) - set(first.chosen_keys)) == 1
    assert set(first.chosen_keys) - set(again.chosen_keys) == {dropped}


def test_two_returns_with_one_key_are_refused() -> None:
    with pytest.raises(SampleError, match="Two returns share the key 000001"):
        select_sample([candidate(1), candidate(1)], SampleSpec("simple", size=1), SEED)


# ---------------------------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SampleSpec("simple"), "Enter how many returns to sample, as a number or a percentage"),
        (
            SampleSpec("simple", size=3, percent=10),
            "Enter either a number of returns or a percentage, not both",
        ),
        (
            SampleSpec("simple", size=-1),
            "The number of returns to sample must be a whole number, 1 or more",
        ),
        (
            SampleSpec("simple", size=True),
            "The number of returns to sample must be a whole number, 1 or more",
        ),
        (
            SampleSpec("simple", percent=0),
            "The percentage must be more than 0 and no more than 100",
        ),
        (
            SampleSpec("simple", percent=100.5),
            "The percentage must be more than 0 and no more than 100",
        ),
        (
            SampleSpec("simple", percent=float("nan")),
            "The percentage must be more than 0 and no more than 100",
        ),
        (SampleSpec("stratified", size=3), "Choose what to divide the population by"),
        (
            SampleSpec("stratified", size=3, stratify_by="phase", min_per_stratum=-1),
            "The minimum for each group must be 0 or more",
        ),
        (
            SampleSpec("simple", size=3, stratify_by="phase"),
            "Only a stratified sample divides the population into groups",
        ),
        (SampleSpec("risk", size=3), "Set a weight for at least one type of intelligence"),
        (
            SampleSpec("simple", size=3, weights={"other": 2}),
            "Only a risk-weighted sample uses weights",
        ),
        (
            SampleSpec("risk", size=3, weights={"ofsted-judgement": 0.5}),
            "The weight for Ofsted judgement must be a number between 1 and 100",
        ),
        (
            SampleSpec("risk", size=3, weights={"ofsted-judgement=Inadequate": 101}),
            "The weight for Ofsted judgement Inadequate must be a number between 1 and 100",
        ),
        (
            SampleSpec("risk", size=3, weights={"lado-referral": float("inf")}),
            "The weight for LADO referral must be a number between 1 and 100",
        ),
        (
            SampleSpec("risk", size=3, weights={"lado-referral": "2"}),  # type: ignore[dict-item]
            "The weight for LADO referral must be a number between 1 and 100",
        ),
        (
            SampleSpec("risk", size=3, weights={"rumour": 2}),
            "‘rumour’ is not a type of intelligence",
        ),
        (
            SampleSpec("risk", size=3, weights={"ofsted-judgement=": 2}),
            "Enter the value the weight for Ofsted judgement applies to",
        ),
        (
            SampleSpec(
                "risk", size=3, weights={"ofsted-judgement=Good": 2, "ofsted-judgement=good": 3}
            ),
            "The weight for Ofsted judgement good is set twice",
        ),
        (
            SampleSpec("simple", size=3, filters=Filters(overall_rags=frozenset({"blue"}))),
            "Filter the overall rating by green, amber, red or not rated",
        ),
        (SampleSpec("systematic", size=3), "Choose how to select the sample"),  # type: ignore[arg-type]
    ],
)
def test_parameters_that_cannot_give_a_sample_are_refused(spec: SampleSpec, message: str) -> None:
    with pytest.raises(SampleError) as raised:
        validate_spec(spec)
    assert str(raised.value) == message


@pytest.mark.parametrize("seed", [0, -5, 1_000_000_000, True])
def test_a_seed_out_of_range_is_refused(seed: int) -> None:
    with pytest.raises(SampleError, match="The seed must be a number between 1 and 999999999"):
        select_sample([candidate(1)], SampleSpec("simple", size=1), seed)


# ---------------------------------------------------------------------------------------------
# Seeds


def test_parse_seed_accepts_digits() -> None:
    assert parse_seed("482913") == 482913
    assert parse_seed(" 000123 ") == 123
    assert parse_seed("999999999") == 999_999_999


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the seed"),
        ("  ", "Enter the seed"),
        ("²", "Enter the seed as a number, for example 482913"),
        ("٤٨٢", "Enter the seed as a number, for example 482913"),
        ("-1", "Enter the seed as a number, for example 482913"),
        ("+1", "Enter the seed as a number, for example 482913"),
        ("12a", "Enter the seed as a number, for example 482913"),
        ("4.5", "Enter the seed as a number, for example 482913"),
        ("0", "The seed must be a number between 1 and 999999999"),
        ("9" * 20, "The seed must be a number between 1 and 999999999"),
        ("1000000000", "The seed must be a number between 1 and 999999999"),
    ],
)
def test_parse_seed_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(SampleError) as raised:
        parse_seed(text)
    assert str(raised.value) == message


def test_new_seeds_have_six_to_nine_digits_and_can_be_typed_back() -> None:
    for _ in range(200):
        seed = new_seed()
        assert 6 <= len(str(seed)) <= 9
        assert parse_seed(str(seed)) == seed


# ---------------------------------------------------------------------------------------------
# Storing parameters


def test_a_spec_keeps_its_own_copy_and_can_be_copied_and_hashed() -> None:
    weights = {"other": 2.0}
    spec = SampleSpec("risk", size=3, weights=weights, include={"a"})  # type: ignore[arg-type]
    weights["other"] = 50.0
    assert spec.weights == {"other": 2.0} and spec.include == frozenset({"a"})
    assert copy.deepcopy(spec) == spec and hash(copy.deepcopy(spec)) == hash(spec)


def test_stored_parameters_are_plain_json_in_a_fixed_order() -> None:
    spec = SampleSpec(
        "risk",
        percent=12.5,
        weights={"other": 2, "ofsted-judgement=Inadequate": 3},
        include=frozenset({"b", "a"}),
        filters=Filters(overall_rags=frozenset({"red", None}), kinds=frozenset({"school"})),
    )
    assert json.dumps(spec_to_dict(spec)) == (
        '{"format": 1, "method": "risk", "size": null, "percent": 12.5, "stratify_by": null, '
        '"min_per_stratum": 0, "weights": {"ofsted-judgement=Inadequate": 3, "other": 2}, '
        '"include": ["a", "b"], "exclude": [], "filters": {"kinds": ["school"], '
        '"districts": [], "overall_rags": ["red", null], "green_without_evidence_only": false}}'
    )


@pytest.mark.parametrize(
    "change",
    [
        {"format": 2},
        {"size": "5"},
        {"include": "abc"},
        {"weights": [1, 2]},
        {"filters": {}},
        {"method": "systematic"},
    ],
)
def test_stored_parameters_that_cannot_be_read_are_refused(change: dict) -> None:
    stored = spec_to_dict(SampleSpec("simple", size=5)) | change
    with pytest.raises(SampleError):
        spec_from_dict(stored)


@settings(max_examples=150, deadline=None)
@given(spec=specs())
def test_parameters_survive_a_trip_through_json(spec: SampleSpec) -> None:
    stored = json.loads(json.dumps(spec_to_dict(spec)))
    assert spec_from_dict(stored) == spec
    assert spec_to_dict(spec_from_dict(stored)) == stored


# ---------------------------------------------------------------------------------------------
# Properties of every selection


@settings(max_examples=200, deadline=None)
@given(population=populations(), spec=specs(with_lists=False, with_minimum=False), seed=seeds)
def test_the_sample_is_the_size_asked_or_the_whole_filtered_population(
    population: list[Candidate], spec: SampleSpec, seed: int
) -> None:
    sample = select_sample(population, spec, seed)
    filtered = [c for c in population if spec.filters.admit(c)]
    asked = spec.size if spec.size is not None else requested_size(spec, len(filtered))
    assert len(sample.chosen) == min(asked, len(filtered))
    assert len(set(sample.chosen_keys)) == len(sample.chosen)
    assert set(sample.chosen_keys) <= set(sample.population_keys)
    assert sample.population_size == len(population)
    assert sample.filtered_size == len(filtered)
    assert sample.population_keys == tuple(sorted(c.key for c in filtered))


@settings(max_examples=200, deadline=None)
@given(population=populations(), spec=specs(), seed=seeds)
def test_included_and_excluded_are_honoured_and_the_size_still_holds(
    population: list[Candidate], spec: SampleSpec, seed: int
) -> None:
    sample = select_sample(population, spec, seed)
    chosen = set(sample.chosen_keys)
    assert chosen.isdisjoint(spec.exclude)
    eligible = [c.key for c in population if spec.filters.admit(c) and c.key not in spec.exclude]
    must = (spec.include - spec.exclude) & set(eligible)
    assert must <= chosen
    assert all(by_key(sample)[k] == "always included" for k in must)
    target = min(requested_size(spec, sample.filtered_size), len(eligible))
    if spec.method == "stratified":
        dimension = spec.stratify_by
        assert dimension is not None
        strata = Counter(stratum_of(c, dimension) for c in population if c.key in eligible)
        musts = Counter(stratum_of(c, dimension) for c in population if c.key in must)
        floors = sum(max(min(spec.min_per_stratum, n), musts[s]) for s, n in strata.items())
        assert len(chosen) == max(target, floors)
    else:
        assert len(chosen) == max(target, len(must))
    others = set(by_key(sample).values()) - {"always included"}
    expected_start = {"simple": "random selection", "stratified": "stratum: ", "risk": "weight "}
    assert all(r.startswith(expected_start[spec.method]) for r in others)


@settings(max_examples=200, deadline=None)
@given(population=populations(), spec=specs(), seed=seeds, order=st.randoms(use_true_random=False))
def test_the_order_of_the_population_makes_no_difference(
    population: list[Candidate], spec: SampleSpec, seed: int, order: random.Random
) -> None:
    shuffled = list(population)
    order.shuffle(shuffled)
    assert select_sample(shuffled, spec, seed) == select_sample(population, spec, seed)


@settings(max_examples=200, deadline=None)
@given(
    population=populations(min_size=1),
    dimension=st.sampled_from(["kind", "sector", "phase", "district"]),
    size=st.integers(1, 45),
    minimum=st.integers(0, 4),
    seed=seeds,
)
def test_every_stratum_gets_its_minimum_and_never_more_than_it_has(
    population: list[Candidate], dimension: str, size: int, minimum: int, seed: int
) -> None:
    spec = SampleSpec("stratified", size=size, stratify_by=dimension, min_per_stratum=minimum)  # type: ignore[arg-type]
    sample = select_sample(population, spec, seed)
    chosen, strata = strata_of(sample, population)
    for stratum, n in strata.items():
        assert min(minimum, n) <= chosen[stratum] <= n
    floors = sum(min(minimum, n) for n in strata.values())
    assert len(sample.chosen) == max(min(size, len(population)), floors)
    said = any(note.startswith("The minimum of") for note in sample.notes)
    assert said == (floors > min(size, len(population)))
    for c in sample.chosen:
        stratum = stratum_of(c.candidate, dimension)
        label = stratum if stratum is not None else f"no {dimension} recorded"
        assert c.rationale == f"stratum: {label} ({chosen[stratum]} of {strata[stratum]} chosen)"


@settings(max_examples=200, deadline=None)
@given(
    population=populations(min_size=1),
    dimension=st.sampled_from(["kind", "sector", "phase", "district"]),
    size=st.integers(1, 45),
    seed=seeds,
)
def test_without_a_minimum_strata_are_shared_by_largest_remainder(
    population: list[Candidate], dimension: str, size: int, seed: int
) -> None:
    spec = SampleSpec("stratified", size=size, stratify_by=dimension)  # type: ignore[arg-type]
    chosen, strata = strata_of(select_sample(population, spec, seed), population)
    expected = hamilton(dict(strata), min(size, len(population)))
    assert {s: chosen[s] for s in strata} == expected


@settings(max_examples=300, deadline=None)
@given(
    strata=st.dictionaries(
        st.sampled_from(["a", "b", "c", "d", None]), st.integers(1, 30), min_size=1
    ),
    data=st.data(),
)
def test_allocation_keeps_the_total_unless_floors_exceed_it(
    strata: dict[str | None, int], data: st.DataObject
) -> None:
    total = data.draw(st.integers(0, sum(strata.values())))
    floors = {s: data.draw(st.integers(0, n)) for s, n in strata.items()}
    shares = allocate(strata, total, floors)
    assert all(floors[s] <= shares[s] <= n for s, n in strata.items())
    assert sum(shares.values()) == max(total, sum(floors.values()))
    if sum(floors.values()) > total:
        assert shares == floors


# ---------------------------------------------------------------------------------------------
# Which items to challenge

item_lists = st.lists(
    st.tuples(
        st.sampled_from(["s.1", "s.2", "s.3"]),
        st.sampled_from(["green", "amber", "red", None]),
        st.booleans(),
    ),
    max_size=30,
).map(
    lambda rows: [
        ItemRating(f"{section}.{i}", section, rag, applicable)
        for i, (section, rag, applicable) in enumerate(rows)
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    items=item_lists,
    standards=st.frozensets(st.sampled_from(["s.1", "s.2", "s.3"]), min_size=1),
    seed=seeds,
)
def test_green_items_in_the_chosen_standards(
    items: list[ItemRating], standards: frozenset[str], seed: int
) -> None:
    picked = default_challenge_items(
        items, mode="green_in_standards", standards=standards, seed=seed, return_key="R1"
    )
    assert picked == [
        i.item_id for i in items if i.applicable and i.rag == "green" and i.section_id in standards
    ]


@settings(max_examples=200, deadline=None)
@given(items=item_lists, count=st.integers(1, 35), seed=seeds, key=st.text(max_size=8))
def test_random_items_are_applicable_in_order_and_repeatable(
    items: list[ItemRating], count: int, seed: int, key: str
) -> None:
    picked = default_challenge_items(items, mode="random", count=count, seed=seed, return_key=key)
    applicable = [i.item_id for i in items if i.applicable]
    assert len(picked) == min(count, len(applicable))
    assert picked == [i for i in applicable if i in picked]  # questionnaire order
    again = default_challenge_items(items, mode="random", count=count, seed=seed, return_key=key)
    assert again == picked


def test_random_items_differ_between_returns_and_are_pinned() -> None:
    items = [ItemRating(f"s.{n}", "s", "green", True) for n in range(1, 21)]
    choices = {
        tuple(default_challenge_items(items, mode="random", count=3, seed=SEED, return_key=key))
        for key in ("000001", "000002", "000003", "000004")
    }
    assert len(choices) == 4
    assert default_challenge_items(
        items, mode="random", count=3, seed=SEED, return_key="000001"
    ) == [
        "s.7",
        "s.8",
        "s.16",
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"mode": "green_in_standards"}, "Choose at least one standard"),
        ({"mode": "random", "count": 0}, "Enter how many items to challenge, 1 or more"),
        ({"mode": "everything"}, "Choose which items to challenge"),
    ],
)
def test_challenge_choices_that_cannot_work_are_refused(arguments: dict, message: str) -> None:
    with pytest.raises(SampleError) as raised:
        default_challenge_items([], seed=SEED, return_key="R1", **arguments)
    assert str(raised.value) == message
