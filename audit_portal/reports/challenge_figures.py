"""What evidence challenges found, as report figures: plain data in, plain data out.

Two questions, each answered by standard (the questionnaire's section) and by kind of
organisation:

- **Outcomes**: of the challenged items QA has reviewed, what share was substantiated, partly
  substantiated and not substantiated. Each share states its numerator and denominator, and the
  three always add up to the items reviewed.
- **Rating gap**: how optimistic self-assessment was. For each reviewed item with a self-rating
  and a moderated rating on the scale, the gap is how many scale steps the moderated rating sits
  below the self-rating (positive: the organisation rated itself too well; negative: too
  harshly; zero: QA agreed). Counted as lower / same / higher, with the mean gap.

The rating scale's order comes from the questionnaire definition (best first) as plain data;
the rows come from ``challenge_queries.challenge_data``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Generic, Literal, TypeVar

from audit_portal.models import Outcome
from audit_portal.reports.figures import NOT_RECORDED, Share

Breakdown = Literal["standard", "kind"]
ALL = "all"  # the group key of the figure over every row
OUTCOMES = frozenset(o.value for o in Outcome)
T = TypeVar("T")


@dataclass(frozen=True)
class ChallengedRow:
    """One challenged item of one organisation's frozen submission, and what QA decided."""

    organisation_id: int
    kind: str  # the organisation's kind: school, early-years, agency
    standard: str  # the id of the item's section; "" when the item is not in the questionnaire
    item_id: str
    outcome: str | None  # an Outcome value; None while QA has not reviewed it
    self_rating: int | None  # the value as submitted; None when not rated (not applicable)
    moderated_rating: int | None  # None while not reviewed


@dataclass(frozen=True)
class RatingOrder:
    """The rating scale's values, best first, as the questionnaire lists them."""

    values: tuple[int, ...]

    def step(self, value: int | None) -> int | None:
        """How many steps below the best point ``value`` sits; None when it is not on the scale."""
        if value is None or value not in self.values:
            return None
        return self.values.index(value)


@dataclass(frozen=True)
class ChallengeData:
    """Everything the figures need about one campaign, read once from the database."""

    rows: tuple[ChallengedRow, ...]
    scale: RatingOrder
    standards: Mapping[str, str] = field(default_factory=dict)  # id -> title, in order
    kinds: Mapping[str, str] = field(default_factory=dict)  # kind -> label, in order


@dataclass(frozen=True)
class OutcomeShares:
    """For one group of challenged items: how many were reviewed and what QA found."""

    key: str
    label: str
    challenged: int  # every challenged item in the group
    substantiated: Share
    partly: Share
    not_substantiated: Share

    @property
    def reviewed(self) -> int:
        return self.substantiated.denominator

    @property
    def awaiting_review(self) -> int:
        return self.challenged - self.reviewed


@dataclass(frozen=True)
class RatingGap:
    """For one group: how the moderated ratings compare with the self-ratings."""

    key: str
    label: str
    lower: int  # moderated below the self-rating: self-assessment was optimistic
    same: int
    higher: int  # moderated above: self-assessment was harsh
    total_steps: int  # the sum of the gaps (moderated steps below self), signed
    not_compared: int  # reviewed, but a rating is missing or not on the scale

    @property
    def compared(self) -> int:
        return self.lower + self.same + self.higher

    @property
    def lower_share(self) -> Share:
        return Share(self.lower, self.compared)

    @property
    def same_share(self) -> Share:
        return Share(self.same, self.compared)

    @property
    def higher_share(self) -> Share:
        return Share(self.higher, self.compared)

    @property
    def mean_gap(self) -> Fraction | None:
        """The mean number of steps the moderated rating sits below the self-rating."""
        return Fraction(self.total_steps, self.compared) if self.compared else None

    @property
    def mean_gap_text(self) -> str:
        mean = self.mean_gap
        if mean is None:
            return "No figure (nothing compared)"
        shown = (Decimal(mean.numerator) / Decimal(mean.denominator)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if shown == 0:
            return "0.0 steps: moderated ratings matched on average"
        direction = "below" if shown > 0 else "above"
        return f"{abs(shown)} steps {direction} the self-rating on average"


@dataclass(frozen=True)
class Figures(Generic[T]):
    """One figure over every row, and the same figure for each group."""

    overall: T
    groups: tuple[T, ...]


# ---------------------------------------------------------------------------------------------
# Grouping


def _key_of(by: Breakdown) -> Callable[[ChallengedRow], str]:
    if by == "standard":
        return lambda row: row.standard
    if by == "kind":
        return lambda row: row.kind
    raise ValueError(f"cannot break down by {by!r}")


def _grouped(
    rows: Iterable[ChallengedRow], by: Breakdown, order: Mapping[str, str]
) -> list[tuple[str, str, list[ChallengedRow]]]:
    """Rows by group: groups named in ``order`` first, in its order; then the rest by key."""
    key = _key_of(by)
    found: dict[str, list[ChallengedRow]] = {}
    for row in rows:
        found.setdefault(key(row), []).append(row)
    known = list(order)
    ranked = sorted(found, key=lambda k: (k not in order, known.index(k) if k in order else 0, k))
    return [(k, order.get(k) or k or NOT_RECORDED, found[k]) for k in ranked]


# ---------------------------------------------------------------------------------------------
# Outcomes


def _outcomes(key: str, label: str, rows: Sequence[ChallengedRow]) -> OutcomeShares:
    reviewed = [r for r in rows if r.outcome in OUTCOMES]
    count = {o: sum(1 for r in reviewed if r.outcome == o.value) for o in Outcome}
    total = len(reviewed)
    return OutcomeShares(
        key=key,
        label=label,
        challenged=len(rows),
        substantiated=Share(count[Outcome.SUBSTANTIATED], total),
        partly=Share(count[Outcome.PARTLY], total),
        not_substantiated=Share(count[Outcome.NOT], total),
    )


def outcome_shares(
    rows: Sequence[ChallengedRow], by: Breakdown, order: Mapping[str, str] | None = None
) -> Figures[OutcomeShares]:
    """The share of reviewed challenged items substantiated, partly and not, overall and by
    standard or kind. An outcome that is not one of the three counts as not yet reviewed."""
    groups = _grouped(rows, by, order or {})
    return Figures(
        overall=_outcomes(ALL, "All challenged items", rows),
        groups=tuple(_outcomes(k, label, found) for k, label, found in groups),
    )


# ---------------------------------------------------------------------------------------------
# The gap between self-rating and moderated rating


def gap_in_steps(scale: RatingOrder, self_rating: int | None, moderated: int | None) -> int | None:
    """Steps the moderated rating sits below the self-rating (negative: above); None when
    either is missing or not on the scale."""
    own, theirs = scale.step(self_rating), scale.step(moderated)
    if own is None or theirs is None:
        return None
    return theirs - own


def _gap(key: str, label: str, rows: Sequence[ChallengedRow], scale: RatingOrder) -> RatingGap:
    lower = same = higher = total = missing = 0
    for row in rows:
        if row.outcome not in OUTCOMES:
            continue  # not reviewed yet: no moderated rating to compare
        gap = gap_in_steps(scale, row.self_rating, row.moderated_rating)
        if gap is None:
            missing += 1
            continue
        total += gap
        if gap > 0:
            lower += 1
        elif gap < 0:
            higher += 1
        else:
            same += 1
    return RatingGap(key, label, lower, same, higher, total, missing)


def rating_gaps(
    rows: Sequence[ChallengedRow],
    scale: RatingOrder,
    by: Breakdown,
    order: Mapping[str, str] | None = None,
) -> Figures[RatingGap]:
    """How the moderated ratings compare with the self-ratings, overall and by standard or
    kind: counts lower / same / higher and the mean gap in scale steps."""
    groups = _grouped(rows, by, order or {})
    return Figures(
        overall=_gap(ALL, "All reviewed items", rows, scale),
        groups=tuple(_gap(k, label, found, scale) for k, label, found in groups),
    )


@dataclass(frozen=True)
class ChallengeReport:
    """Every challenge figure of a campaign, ready for a page, a PDF or a download."""

    outcomes_by_standard: Figures[OutcomeShares]
    outcomes_by_kind: Figures[OutcomeShares]
    gaps_by_standard: Figures[RatingGap]
    gaps_by_kind: Figures[RatingGap]


def challenge_report(data: ChallengeData) -> ChallengeReport:
    return ChallengeReport(
        outcomes_by_standard=outcome_shares(data.rows, "standard", data.standards),
        outcomes_by_kind=outcome_shares(data.rows, "kind", data.kinds),
        gaps_by_standard=rating_gaps(data.rows, data.scale, "standard", data.standards),
        gaps_by_kind=rating_gaps(data.rows, data.scale, "kind", data.kinds),
    )
