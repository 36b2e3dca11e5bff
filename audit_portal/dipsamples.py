"""Dip samples over the database: who may be sampled, a preview, confirming, later changes.

The choice itself is the pure, seeded ``sampling.select_sample``; this module builds its
population from a campaign's submitted (or accepted) returns, stores a confirmed sample with
everything needed to repeat and explain it, and records every later change with its reason.
No HTTP here: functions receive the session and never open one; every change writes its
audit event in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.campaigns import get_campaign
from audit_portal.errors import NotFound
from audit_portal.models import (
    Campaign,
    DipSample,
    EvidenceChallenge,
    IntelligenceFlag,
    Organisation,
    Return,
    SampleChange,
    SampleChangeKind,
    SampledReturn,
    Submission,
    SubmittedAnswer,
    saved_id,
    utcnow,
)
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.models.organisations import KINDS
from audit_portal.policy import Actor
from audit_portal.reports.queries import ReportFilters, counted_submissions
from audit_portal.sampling import (
    FLAG_LABELS,
    Candidate,
    Flag,
    Sample,
    SampleError,
    SampleSpec,
    select_sample,
    spec_from_dict,
    spec_to_dict,
)

MAX_REASON = 1000
METHOD_LABELS: Mapping[str, str] = {
    "simple": "Simple random",
    "stratified": "Stratified",
    "risk": "Risk-weighted",
}
DIMENSION_LABELS: Mapping[str, str] = {
    "kind": "kind of organisation",
    "sector": "sector",
    "phase": "phase",
    "district": "district",
}
RAG_LABELS: Mapping[str | None, str] = {
    "green": "Green",
    "amber": "Amber",
    "red": "Red",
    None: "Not rated",
}


class SampleNotFound(NotFound):
    """No dip sample has that id."""


class SampleChanged(SampleError):
    """The population changed between the preview and the confirmation."""


class UnknownOrganisation(SampleError):
    """An organisation to include or exclude that has no submitted return in the campaign."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SampleChangeError(ValueError):
    """A change to a confirmed sample that cannot be made; ``field`` is the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# The population


@dataclass(frozen=True)
class Member:
    """One submitted return that may be sampled, with what the pages and the store need."""

    candidate: Candidate
    submission_id: int  # the return's latest frozen submission
    identifier: str  # the organisation's official identifier, or ""

    @property
    def return_id(self) -> int:
        return self.candidate.return_id

    @property
    def organisation_id(self) -> int:
        return self.candidate.organisation_id


def organisation_key(org: Organisation) -> str:
    """A stable key: the official identifier (with its scheme), else the zero-padded id.

    Never the bare database id when there is an identifier: ids differ between databases and
    installations, identifiers do not, and the draws follow the keys' order.
    """
    if org.identifier:
        return f"{org.identifier_scheme or 'id'}:{org.identifier}"
    return f"org:{saved_id(org):010d}"


def population(db: Session, campaign_id: int) -> list[Member]:
    """Every submitted or accepted return of the campaign, as sampling candidates, by key."""
    get_campaign(db, campaign_id)
    latest = counted_submissions(campaign_id, ReportFilters()).subquery()
    rows = db.exec(
        select(Submission, Return, Organisation)
        .join(latest, latest.c.id == Submission.id)
        .join(Return, col(Return.id) == Submission.return_id)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
    ).all()
    organisation_ids = [saved_id(org) for _, _, org in rows]
    flags = _current_flags(db, organisation_ids)
    unevidenced = _green_without_evidence(db, campaign_id, [saved_id(s) for s, _, _ in rows])
    members = []
    for submission, ret, org in rows:
        candidate = Candidate(
            key=organisation_key(org),
            return_id=saved_id(ret),
            organisation_id=saved_id(org),
            name=org.name,
            kind=org.kind,
            sector=org.sector or None,
            phase=org.phase or None,
            district=org.district,
            overall_rag=submission.overall_rag or None,
            green_without_evidence=saved_id(submission) in unevidenced,
            flags=tuple(flags.get(saved_id(org), ())),
        )
        members.append(Member(candidate, saved_id(submission), org.identifier))
    return sorted(members, key=lambda m: m.candidate.key)


def _current_flags(db: Session, organisation_ids: Sequence[int]) -> dict[int, list[Flag]]:
    found: dict[int, list[Flag]] = {}
    if not organisation_ids:
        return found
    rows = db.exec(
        select(IntelligenceFlag)
        .where(
            col(IntelligenceFlag.organisation_id).in_(organisation_ids),
            col(IntelligenceFlag.superseded_at).is_(None),
        )
        .order_by(col(IntelligenceFlag.organisation_id), col(IntelligenceFlag.id))
    ).all()
    for flag in rows:
        found.setdefault(flag.organisation_id, []).append(
            Flag(category=flag.flag, value=flag.value, noted_on=flag.noted_on)
        )
    return found


def _green_without_evidence(
    db: Session, campaign_id: int, submission_ids: Sequence[int]
) -> set[int]:
    """Submissions with an applicable item rated green and nothing written under evidence
    (read from the typed rows written from each frozen submission's content)."""
    if not submission_ids:
        return set()
    rows = db.exec(
        select(SubmittedAnswer.submission_id)
        .distinct()
        .where(
            SubmittedAnswer.campaign_id == campaign_id,
            col(SubmittedAnswer.submission_id).in_(submission_ids),
            SubmittedAnswer.rag == "green",
            col(SubmittedAnswer.not_applicable).is_(False),
            col(SubmittedAnswer.evidence_described).is_(False),
        )
    ).all()
    return set(rows)


# ---------------------------------------------------------------------------------------------
# Preview and confirm


@dataclass(frozen=True)
class Preview:
    campaign: Campaign
    members: list[Member]  # the whole population, by key
    sample: Sample

    @property
    def by_key(self) -> dict[str, Member]:
        return {m.candidate.key: m for m in self.members}

    @property
    def digest(self) -> str:
        """What was previewed, to check a confirmation against: the same organisations."""
        return sample_digest(self.sample)


def sample_digest(sample: Sample) -> str:
    text = "\n".join(sample.chosen_keys) + f"\n{sample.seed}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def selection_choices(db: Session, campaign_id: int) -> tuple[Campaign, list[Member]]:
    """The campaign and who may be sampled, for the selection form's choices."""
    return get_campaign(db, campaign_id), population(db, campaign_id)


def _keys_for(
    members: Sequence[Member], organisation_ids: Collection[int], field: str
) -> frozenset[str]:
    by_id = {m.organisation_id: m.candidate.key for m in members}
    unknown = sorted(set(organisation_ids) - by_id.keys())
    if unknown:
        raise UnknownOrganisation(
            field,
            "Choose organisations from the list: organisation "
            + ", ".join(str(i) for i in unknown[:5])
            + " has no submitted return in this campaign",
        )
    return frozenset(by_id[i] for i in organisation_ids)


def preview(
    db: Session,
    campaign_id: int,
    spec: SampleSpec,
    seed: int,
    *,
    include_ids: Collection[int] = (),
    exclude_ids: Collection[int] = (),
) -> Preview:
    """The sample the spec and seed give now, without storing anything. Organisations to
    include or exclude may be named by id (they become keys in the spec); SampleError if the
    parameters cannot give a sample."""
    campaign, members = selection_choices(db, campaign_id)
    if include_ids or exclude_ids:
        spec = replace(
            spec,
            include=spec.include | _keys_for(members, include_ids, "include"),
            exclude=spec.exclude | _keys_for(members, exclude_ids, "exclude"),
        )
    sample = select_sample([m.candidate for m in members], spec, seed)
    return Preview(campaign, members, sample)


def confirm_sample(
    db: Session,
    ctx: AuditContext,
    campaign_id: int,
    spec: SampleSpec,
    seed: int,
    actor: Actor,
    previewed: str | None = None,
    *,
    include_ids: Collection[int] = (),
    exclude_ids: Collection[int] = (),
) -> DipSample:
    """Choose again and store the sample: its parameters, seed, population and each chosen
    return with its rationale, plus a draft evidence challenge for each.

    ``previewed`` is the digest of the preview the person saw; when what would be stored
    differs (the choices or the submitted returns changed since), SampleChanged is raised and
    nothing is stored. None skips the check (a selection repeated from the command line).
    """
    shown = preview(db, campaign_id, spec, seed, include_ids=include_ids, exclude_ids=exclude_ids)
    sample = shown.sample
    spec = sample.spec
    if previewed is not None and previewed != shown.digest:
        raise SampleChanged(
            "This sample is not the one you previewed: the choices or the submitted returns "
            "have changed since. Check the sample below, then confirm it."
        )
    if not sample.chosen:
        raise SampleError("No returns were chosen, so there is no sample to confirm")
    by_key = shown.by_key
    stored = DipSample(
        campaign_id=campaign_id,
        method=spec.method,
        spec=spec_to_dict(spec),
        seed=seed,
        population_size=sample.population_size,
        filtered_size=sample.filtered_size,
        requested_size=sample.requested_size,
        population_keys=list(sample.population_keys),
        notes=list(sample.notes),
        chosen_by=actor.user_id,
        chosen_by_name=actor.full_name[:200],
    )
    db.add(stored)
    db.flush()
    sample_id = saved_id(stored)
    for chosen in sample.chosen:
        member = by_key[chosen.candidate.key]
        _add_sampled(db, sample_id, member, chosen.rationale[:300], drawn=True)
    record(
        db,
        ctx,
        "dip_sample.confirm",
        object_type="dip_sample",
        object_id=sample_id,
        new={
            "campaign_id": campaign_id,
            "method": spec.method,
            "spec": stored.spec,
            "seed": seed,
            "population_size": sample.population_size,
            "chosen": list(sample.chosen_keys),
        },
    )
    return stored


def _add_sampled(
    db: Session, sample_id: int, member: Member, rationale: str, *, drawn: bool
) -> SampledReturn:
    sampled = SampledReturn(
        dip_sample_id=sample_id,
        return_id=member.return_id,
        organisation_id=member.organisation_id,
        rationale=rationale,
        drawn=drawn,
    )
    db.add(sampled)
    db.flush()
    db.add(
        EvidenceChallenge(
            sampled_return_id=saved_id(sampled),
            return_id=member.return_id,
            organisation_id=member.organisation_id,
            submission_id=member.submission_id,
            stage=ChallengeStage.DRAFT.value,
        )
    )
    return sampled


# ---------------------------------------------------------------------------------------------
# Later changes


def _lock_sample(db: Session, sample_id: int) -> DipSample:
    found = db.exec(
        select(DipSample)
        .where(DipSample.id == sample_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise SampleNotFound(sample_id)
    return found


def _clean_reason(reason: str, change: str) -> str:
    text = reason.strip()
    if not text:
        raise SampleChangeError("reason", f"Enter the reason for {change} the organisation")
    if len(text) > MAX_REASON:
        raise SampleChangeError("reason", f"The reason must be {MAX_REASON} characters or fewer")
    return text


def add_to_sample(
    db: Session, ctx: AuditContext, sample_id: int, return_id: int | None, reason: str, actor: Actor
) -> SampledReturn:
    """Add a submitted return of the sample's campaign by hand, with a reason."""
    sample = _lock_sample(db, sample_id)
    text = _clean_reason(reason, "adding")
    if return_id is None:
        raise SampleChangeError("return_id", "Choose the organisation to add")
    member = next((m for m in population(db, sample.campaign_id) if m.return_id == return_id), None)
    if member is None:
        raise SampleChangeError(
            "return_id", "Choose an organisation with a submitted return in this campaign"
        )
    existing = db.exec(
        select(SampledReturn).where(
            SampledReturn.dip_sample_id == sample_id, SampledReturn.return_id == return_id
        )
    ).first()
    if existing is not None and existing.removed_at is None:
        raise SampleChangeError("return_id", f"{member.candidate.name} is already in the sample")
    if existing is not None:  # removed earlier, now back: the same row and challenge
        existing.removed_at = None
        db.add(existing)
        sampled = existing
        has_challenge = db.exec(
            select(EvidenceChallenge.id).where(
                EvidenceChallenge.sampled_return_id == saved_id(existing)
            )
        ).first()
        if has_challenge is None:
            db.add(
                EvidenceChallenge(
                    sampled_return_id=saved_id(existing),
                    return_id=member.return_id,
                    organisation_id=member.organisation_id,
                    submission_id=member.submission_id,
                )
            )
    else:
        sampled = _add_sampled(db, sample_id, member, "added by hand", drawn=False)
    _record_change(db, ctx, sample, member.return_id, member.organisation_id, "added", text, actor)
    return sampled


def remove_from_sample(
    db: Session, ctx: AuditContext, sample_id: int, return_id: int | None, reason: str, actor: Actor
) -> SampledReturn:
    """Mark a return removed from the sample, with a reason (the row stays, as does history)."""
    sample = _lock_sample(db, sample_id)
    text = _clean_reason(reason, "removing")
    if return_id is None:
        raise SampleChangeError("return_id", "Choose the organisation to remove")
    sampled = db.exec(
        select(SampledReturn).where(
            SampledReturn.dip_sample_id == sample_id,
            SampledReturn.return_id == return_id,
            col(SampledReturn.removed_at).is_(None),
        )
    ).first()
    if sampled is None:
        raise SampleChangeError("return_id", "Choose an organisation that is in the sample")
    stage = db.exec(
        select(EvidenceChallenge.stage).where(
            EvidenceChallenge.sampled_return_id == saved_id(sampled)
        )
    ).first()
    if stage is not None and stage != ChallengeStage.DRAFT.value:
        raise SampleChangeError(
            "return_id",
            "The evidence challenge has already been issued to this organisation, so it stays "
            "in the sample",
        )
    sampled.removed_at = utcnow()
    db.add(sampled)
    _record_change(
        db, ctx, sample, sampled.return_id, sampled.organisation_id, "removed", text, actor
    )
    return sampled


def _record_change(
    db: Session,
    ctx: AuditContext,
    sample: DipSample,
    return_id: int,
    organisation_id: int,
    change: str,
    reason: str,
    actor: Actor,
) -> None:
    kind = SampleChangeKind(change)
    db.add(
        SampleChange(
            dip_sample_id=saved_id(sample),
            return_id=return_id,
            change=kind.value,
            reason=reason,
            changed_by=actor.user_id,
            changed_by_name=actor.full_name[:200],
        )
    )
    record(
        db,
        ctx,
        f"dip_sample.{'add' if kind is SampleChangeKind.ADDED else 'remove'}",
        object_type="dip_sample",
        object_id=saved_id(sample),
        organisation_id=organisation_id,
        new={"return_id": return_id, "reason": reason},
    )


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class SampleLine:
    sampled: SampledReturn
    organisation: Organisation
    challenge_id: int | None
    challenge_stage: ChallengeStage | None
    removal_reason: str  # the reason of the latest removal, for a removed line

    @property
    def removed(self) -> bool:
        return self.sampled.removed_at is not None


@dataclass(frozen=True)
class ChangeLine:
    change: SampleChange
    organisation_name: str

    @property
    def label(self) -> str:
        return "Added" if self.change.change == SampleChangeKind.ADDED.value else "Removed"


@dataclass(frozen=True)
class SampleView:
    sample: DipSample
    campaign: Campaign
    spec: SampleSpec | None  # None if the stored parameters cannot be read
    parameters: list[tuple[str, str]]  # (what, in words)
    lines: list[SampleLine]
    changes: list[ChangeLine]
    addable: list[tuple[int, str]]  # (return id, organisation) not currently in the sample

    @property
    def current(self) -> list[SampleLine]:
        return [line for line in self.lines if not line.removed]

    @property
    def removed(self) -> list[SampleLine]:
        return [line for line in self.lines if line.removed]


def load_sample(db: Session, sample_id: int, *, with_addable: bool = False) -> SampleView:
    sample = db.get(DipSample, sample_id)
    if sample is None:
        raise SampleNotFound(sample_id)
    campaign = get_campaign(db, sample.campaign_id)
    rows = db.exec(
        select(SampledReturn, Organisation, EvidenceChallenge)
        .join(Organisation, col(Organisation.id) == SampledReturn.organisation_id)
        .join(
            EvidenceChallenge,
            col(EvidenceChallenge.sampled_return_id) == SampledReturn.id,
            isouter=True,
        )
        .where(SampledReturn.dip_sample_id == sample_id)
        .order_by(col(Organisation.name), col(SampledReturn.id))
    ).all()
    change_rows = db.exec(
        select(SampleChange, Organisation.name)
        .join(Return, col(Return.id) == SampleChange.return_id)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(SampleChange.dip_sample_id == sample_id)
        .order_by(col(SampleChange.changed_at), col(SampleChange.id))
    ).all()
    removal_reasons = {
        c.return_id: c.reason for c, _ in change_rows if c.change == SampleChangeKind.REMOVED
    }
    lines = [
        SampleLine(
            sampled=sampled,
            organisation=org,
            challenge_id=challenge.id if challenge else None,
            challenge_stage=ChallengeStage(challenge.stage) if challenge else None,
            removal_reason=removal_reasons.get(sampled.return_id, "") if sampled.removed_at else "",
        )
        for sampled, org, challenge in rows
    ]
    try:
        spec: SampleSpec | None = spec_from_dict(sample.spec)
    except SampleError:
        spec = None
    names = _names_by_key(db, spec)
    addable: list[tuple[int, str]] = []
    if with_addable:
        current = {line.sampled.return_id for line in lines if not line.removed}
        addable = sorted(
            (
                (m.return_id, m.candidate.name)
                for m in population(db, sample.campaign_id)
                if m.return_id not in current
            ),
            key=lambda pair: (pair[1].casefold(), pair[0]),
        )
    return SampleView(
        sample=sample,
        campaign=campaign,
        spec=spec,
        parameters=describe_spec(spec, sample.seed, names) if spec else [],
        lines=lines,
        changes=[ChangeLine(c, name) for c, name in change_rows],
        addable=addable,
    )


def _names_by_key(db: Session, spec: SampleSpec | None) -> dict[str, str]:
    """Organisation names for the keys a spec includes or excludes."""
    if spec is None or not (spec.include | spec.exclude):
        return {}
    wanted = spec.include | spec.exclude
    found = {}
    identifiers = {k.partition(":")[2] for k in wanted}
    for org in db.exec(
        select(Organisation).where(col(Organisation.identifier).in_(sorted(identifiers)))
    ).all():
        found[organisation_key(org)] = org.name
    ids = [int(k[4:]) for k in wanted if k.startswith("org:") and k[4:].isdigit()]
    if ids:
        for org in db.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all():
            found[organisation_key(org)] = org.name
    return found


@dataclass(frozen=True)
class SampleSummary:
    sample: DipSample
    in_sample: int
    removed: int


def list_samples(db: Session, campaign_id: int) -> tuple[Campaign, list[SampleSummary]]:
    campaign = get_campaign(db, campaign_id)
    samples = db.exec(
        select(DipSample)
        .where(DipSample.campaign_id == campaign_id)
        .order_by(col(DipSample.created_at).desc(), col(DipSample.id).desc())
    ).all()
    counts: dict[int, list[int]] = {saved_id(s): [0, 0] for s in samples}
    if samples:
        for sample_id, removed_at in db.exec(
            select(SampledReturn.dip_sample_id, SampledReturn.removed_at).where(
                col(SampledReturn.dip_sample_id).in_(list(counts))
            )
        ).all():
            counts[sample_id][1 if removed_at else 0] += 1
    return campaign, [SampleSummary(s, *counts[saved_id(s)]) for s in samples]


# ---------------------------------------------------------------------------------------------
# In words


def describe_spec(spec: SampleSpec, seed: int, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """A stored sample's parameters as a person reads them."""
    rows = [("Method", METHOD_LABELS.get(spec.method, spec.method))]
    if spec.size is not None:
        rows.append(("Size", f"{spec.size} return{'s' if spec.size != 1 else ''}"))
    else:
        rows.append(("Size", f"{spec.percent:g}% of the returns left after the filters"))
    if spec.method == "stratified" and spec.stratify_by:
        divided = f"By {DIMENSION_LABELS.get(spec.stratify_by, spec.stratify_by)}"
        if spec.min_per_stratum:
            divided += f", at least {spec.min_per_stratum} from each group"
        rows.append(("Divided", divided))
    if spec.method == "risk":
        rows.append(("Weights", weights_in_words(spec.weights)))
    rows.append(("Filters", filters_in_words(spec)))
    rows.append(("Always included", _named(spec.include, names)))
    rows.append(("Always excluded", _named(spec.exclude, names)))
    rows.append(("Seed", str(seed)))
    return rows


def weights_in_words(weights: Mapping[str, float]) -> str:
    parts = []
    for key in sorted(weights):
        category, _, value = key.partition("=")
        label = f"{FLAG_LABELS.get(category, category)} {value}".strip()
        parts.append(f"{label}: {weights[key]:g}")
    return "; ".join(parts) + " (1 for everyone else)" if parts else "None"


def filters_in_words(spec: SampleSpec) -> str:
    f = spec.filters
    parts = []
    if f.kinds:
        parts.append("kind: " + ", ".join(KINDS.get(k, k) for k in sorted(f.kinds)))
    if f.districts:
        parts.append("district: " + ", ".join(sorted(f.districts)))
    if f.overall_rags:
        ordered = [r for r in ("green", "amber", "red", None) if r in f.overall_rags]
        parts.append("overall rating: " + ", ".join(RAG_LABELS[r] for r in ordered))
    if f.green_without_evidence_only:
        parts.append("only returns with a question rated green and no evidence described")
    return "; ".join(parts).capitalize() if parts else "None: every submitted return"


def _named(keys: Iterable[str], names: Mapping[str, str]) -> str:
    listed = sorted(names.get(k, k) for k in keys)
    return ", ".join(listed) if listed else "None"


__all__ = [
    "MAX_REASON",
    "ChangeLine",
    "Member",
    "Preview",
    "SampleChangeError",
    "SampleChanged",
    "SampleLine",
    "SampleNotFound",
    "SampleSummary",
    "SampleView",
    "UnknownOrganisation",
    "add_to_sample",
    "confirm_sample",
    "describe_spec",
    "list_samples",
    "load_sample",
    "organisation_key",
    "population",
    "preview",
    "remove_from_sample",
    "sample_digest",
    "selection_choices",
]
