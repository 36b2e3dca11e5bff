"""How a campaign's figures were made, in words: who was invited and how each dip sample was
drawn. The report page and the scrutineer's pack print these, so a reader can judge (and
repeat) what the numbers rest on.

Samples are described by their parameters and seed, enough to draw them again. The
organisations a QA member always included or excluded are counted, not named: the pack may be
published, and naming an organisation picked out because of intelligence would say more than
the partnership means to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from audit_portal.dipsamples import describe_spec
from audit_portal.models import DipSample, SampledReturn, saved_id
from audit_portal.models.organisations import FLAG_TYPES
from audit_portal.sampling import SampleError, spec_from_dict
from audit_portal.vocabulary import DIMENSIONS

SELECTION_LABELS = {
    "duty_types": "statutory duty",
    "sectors": "sector",
    "phases": "phase",
    "features": "characteristics",
    "districts": "district",
    "flags": "a current intelligence flag",
}
NAMED_ROWS = ("Always included", "Always excluded")


@dataclass(frozen=True)
class SampleMethod:
    """One confirmed dip sample of the campaign, as the methodology describes it."""

    chosen_on: date
    chosen_by: str
    in_sample: int  # returns in the sample now (removed ones left out)
    seed: int
    parameters: list[tuple[str, str]]  # (what, in words), the seed among them


def invitation_in_words(selection: Mapping[str, object], invited: int) -> str:
    """Who the campaign invited: "32 organisations: every active organisation the
    questionnaire is for, with sector Police or Health and district North"."""
    people = f"{invited} organisation{'s' if invited != 1 else ''}"
    explicit = selection.get("organisation_ids")
    if explicit and isinstance(explicit, list):
        return f"{people}: a list of {len(explicit)} named by the partnership"
    parts = []
    for name, label in SELECTION_LABELS.items():
        values = selection.get(name)
        if not values or not isinstance(values, list):
            continue
        words = DIMENSIONS.get(name, FLAG_TYPES if name == "flags" else {})
        parts.append(f"{label} {' or '.join(str(words.get(v, v)) for v in values)}")
    criteria = f", with {' and '.join(parts)}" if parts else ""
    return f"{people}: every active organisation the questionnaire is for{criteria}"


def sample_methods(db: Session, campaign_id: int) -> list[SampleMethod]:
    """The campaign's dip samples, oldest first (two queries however many there are)."""
    samples = db.exec(
        select(DipSample)
        .where(DipSample.campaign_id == campaign_id)
        .order_by(col(DipSample.created_at), col(DipSample.id))
    ).all()
    if not samples:
        return []
    counts = dict(
        db.exec(
            select(SampledReturn.dip_sample_id, func.count())
            .where(
                col(SampledReturn.dip_sample_id).in_([saved_id(s) for s in samples]),
                col(SampledReturn.removed_at).is_(None),
            )
            .group_by(col(SampledReturn.dip_sample_id))
        ).all()
    )
    return [
        SampleMethod(
            chosen_on=s.created_at.date(),
            chosen_by=s.chosen_by_name,
            in_sample=counts.get(saved_id(s), 0),
            seed=s.seed,
            parameters=_parameters(s),
        )
        for s in samples
    ]


def _parameters(sample: DipSample) -> list[tuple[str, str]]:
    try:
        spec = spec_from_dict(sample.spec)
    except SampleError:
        return [("Parameters", "The stored parameters cannot be read"), ("Seed", str(sample.seed))]
    counted = {"Always included": len(spec.include), "Always excluded": len(spec.exclude)}
    return [
        (what, _organisations(counted[what]) if what in NAMED_ROWS else words)
        for what, words in describe_spec(spec, sample.seed, {})
    ]


def _organisations(n: int) -> str:
    return "None" if n == 0 else f"{n} organisation{'s' if n != 1 else ''} chosen by QA"
