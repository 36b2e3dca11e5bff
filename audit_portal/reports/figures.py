"""The numbers in a campaign report: shares, item rankings and response rates.

Plain data in, plain data out: the queries that count answers live elsewhere and hand these
functions integers. Every percentage the portal shows is a ``Share`` so that it always states its
numerator and denominator ("80% (8 of 10)"), and every rounding happens in one place, on exact
fractions, so the page, the PDF and the downloads never disagree by a point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Literal

from audit_portal.models import ReturnStatus

NOT_RECORDED = "Not recorded"
BREAKDOWNS = ("kind", "sector", "phase", "district")


@dataclass(frozen=True)
class Share:
    """``numerator`` of ``denominator``: a count and what it is a count of."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.denominator < 0 or not 0 <= self.numerator <= max(self.denominator, 0):
            raise ValueError(f"{self.numerator} of {self.denominator} is not a share")

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.numerator, self.denominator) if self.denominator else None

    @property
    def percent(self) -> int | None:
        """Whole percent, halves rounded up (12.5% shows as 13%), not Python's banker's rounding."""
        if not self.denominator:
            return None
        return (200 * self.numerator + self.denominator) // (2 * self.denominator)

    @property
    def text(self) -> str:
        if self.percent is None:
            return f"No figure ({self.numerator} of {self.denominator})"
        return f"{self.percent}% ({self.numerator} of {self.denominator})"


def percentage_points(current: Share, previous: Share) -> Decimal | None:
    """current percent minus previous percent, from the exact fractions, to one decimal place.

    Halves round away from zero, so a rise and an equal fall show the same size. None when
    either share has nothing to count.
    """
    if current.fraction is None or previous.fraction is None:
        return None
    tenths = (current.fraction - previous.fraction) * 1000
    rounded = floor(abs(tenths) + Fraction(1, 2))
    return Decimal(rounded if tenths >= 0 else -rounded).scaleb(-1)


def change_text(points: Decimal | None) -> str:
    """A change for a table cell: "Up 12.5 percentage points", "Down 3.0 ...", "No change"."""
    if points is None:
        return "Cannot be compared"
    if points == 0:
        return "No change"
    direction = "Up" if points > 0 else "Down"
    return f"{direction} {abs(points)} percentage points"


# --- items: common weaknesses and strengths --------------------------------------------------


@dataclass(frozen=True)
class ItemFigure:
    """How the submitted returns answered one rating item.

    ``answered`` counts every return that answered the item, not applicable included;
    ``not_applicable`` of them said it does not apply, and they are left out of every share, so
    the denominator is ``rated`` = answered - not_applicable. ``counts`` maps each scale value to
    the number of returns that chose it; ``effective`` and ``less_effective`` split the same
    rated answers by the scale's less-effective flag.
    """

    item_id: str
    section_id: str
    prompt: str
    answered: int
    not_applicable: int
    counts: Mapping[int, int]
    effective: int
    less_effective: int

    def __post_init__(self) -> None:
        if not 0 <= self.not_applicable <= self.answered:
            raise ValueError(f"{self.item_id}: more not applicable answers than answers")
        if self.effective + self.less_effective != self.rated:
            raise ValueError(f"{self.item_id}: effective and less effective do not add up")
        if sum(self.counts.values()) != self.rated:
            raise ValueError(f"{self.item_id}: the counts at each rating do not add up")

    @property
    def rated(self) -> int:
        return self.answered - self.not_applicable

    @property
    def effective_share(self) -> Share:
        return Share(self.effective, self.rated)

    @property
    def less_effective_share(self) -> Share:
        return Share(self.less_effective, self.rated)

    def share_at(self, value: int) -> Share:
        """The share of rated answers at one scale value."""
        return Share(self.counts.get(value, 0), self.rated)


@dataclass(frozen=True)
class RankedItem:
    rank: int  # 1, 2, 3... with no shared places: ties are broken as rank_items says
    item: ItemFigure
    share: Share


def rank_items(
    rows: Iterable[ItemFigure],
    by: Literal["less_effective", "effective"],
    limit: int | None = 10,
) -> list[RankedItem]:
    """Common weaknesses (``by="less_effective"``) or strengths (``by="effective"``).

    Highest share first. A tie goes to the item more returns rated (a share of 40 is firmer
    than a share of 4), then to questionnaire order, which is the order of ``rows``: pass them
    as the definition lists them. Items nobody rated, or nobody rated that way, are not
    weaknesses or strengths at all, so they are never ranked.
    """
    if limit is not None and limit < 0:
        raise ValueError("limit cannot be negative")
    candidates = []
    for position, row in enumerate(rows):
        share = row.less_effective_share if by == "less_effective" else row.effective_share
        if share.fraction:  # None (nothing rated) and 0 are both left out
            candidates.append((-share.fraction, -share.denominator, position, row, share))
    candidates.sort(key=lambda c: c[:3])
    chosen = candidates if limit is None else candidates[:limit]
    return [RankedItem(n, row, share) for n, (*_, row, share) in enumerate(chosen, start=1)]


# --- response rates --------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitedReturn:
    """One invited organisation's return in a campaign, with what the breakdowns need."""

    kind: str
    sector: str
    phase: str
    district: str
    status: ReturnStatus


SUBMITTED = frozenset({ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED})


@dataclass(frozen=True)
class ResponseRate:
    """Each stage as a share of the organisations invited. Stages nest: accepted returns were
    also submitted, and submitted ones were started. A return handed back for amendment counts as
    started, not submitted, as on the progress page."""

    invited: int
    started: Share
    submitted: Share
    accepted: Share


@dataclass(frozen=True)
class ResponseRates:
    overall: ResponseRate
    by: Mapping[str, Mapping[str, ResponseRate]]  # breakdown -> value -> rate; values sorted


def response_rates(rows: Iterable[InvitedReturn]) -> ResponseRates:
    """Response rates overall and by kind, sector, phase and district ("Not recorded" last)."""
    overall: Counter[str] = Counter()
    by: dict[str, dict[str, Counter[str]]] = {name: {} for name in BREAKDOWNS}
    for row in rows:
        stages = _stages(row.status)
        overall.update(stages)
        for name in BREAKDOWNS:
            value = getattr(row, name) or NOT_RECORDED
            by[name].setdefault(value, Counter()).update(stages)
    return ResponseRates(
        overall=_rate(overall),
        by={
            name: {value: _rate(values[value]) for value in sorted(values, key=_value_order)}
            for name, values in by.items()
        },
    )


def overall_response_rate(rows: Iterable[InvitedReturn]) -> ResponseRate:
    """The overall figures of ``response_rates`` alone: one count per status, not per row and
    breakdown (a national campaign invites tens of thousands of organisations)."""
    overall: Counter[str] = Counter()
    for status, n in Counter(row.status for row in rows).items():
        for stage in _stages(status):
            overall[stage] += n
    return _rate(overall)


def _stages(status: ReturnStatus) -> list[str]:
    stages = ["invited"]
    if status is not ReturnStatus.NOT_STARTED:
        stages.append("started")
    if status in SUBMITTED:
        stages.append("submitted")
    if status is ReturnStatus.ACCEPTED:
        stages.append("accepted")
    return stages


def _rate(counts: Counter[str]) -> ResponseRate:
    invited = counts["invited"]
    return ResponseRate(
        invited=invited,
        started=Share(counts["started"], invited),
        submitted=Share(counts["submitted"], invited),
        accepted=Share(counts["accepted"], invited),
    )


def _value_order(value: str) -> tuple[bool, str]:
    return (value == NOT_RECORDED, value.casefold())


def returned_comparison(
    returned: int, previous_returned: int | None, *, previous: str = "last year"
) -> str:
    """ "324 returned, against 49 last year"; ``previous`` names the earlier campaign."""
    if previous_returned is None:
        return "No earlier campaign of this questionnaire to compare with"
    return f"{returned} returned, against {previous_returned} {previous}"
