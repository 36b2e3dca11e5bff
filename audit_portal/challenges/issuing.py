"""Choosing what to challenge, and issuing the challenge to the organisation.

A confirmed dip sample makes one challenge per sampled return, in stage "draft". The QA
sub-group chooses which items of the frozen submission to challenge (defaults offered by
``sampling.default_challenge_items``) and a due date, then issues it: the challenged items are
written with the self-rating as submitted, and the organisation's respondents and signatories
are emailed through the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from audit_portal.accounts.users import people_at
from audit_portal.audit import AuditContext, record
from audit_portal.config import Settings
from audit_portal.errors import NotFound
from audit_portal.mail import send_email
from audit_portal.models import (
    Campaign,
    ChallengedItem,
    DipSample,
    EvidenceChallenge,
    Organisation,
    Return,
    Role,
    SampledReturn,
    Submission,
    saved_id,
    utcnow,
)
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.questionnaires.model import Definition, Item, Section
from audit_portal.sampling import ChallengeMode, ItemRating, default_challenge_items
from audit_portal.wording import long_date

RECIPIENTS = (Role.RESPONDENT, Role.SIGNATORY)
MAX_DAYS_AHEAD = 366  # a due date further off is almost certainly a typing mistake


class ChallengeNotFound(NotFound):
    """No such evidence challenge (or not one this person may see)."""


class ChallengeError(ValueError):
    """A change to a challenge that cannot be made; the message says why, for people."""


@dataclass(frozen=True)
class ChallengeRecord:
    """A challenge with what every page about it shows."""

    challenge: EvidenceChallenge
    organisation: Organisation
    ret: Return
    campaign: Campaign
    submission: Submission
    sample: DipSample

    @property
    def stage(self) -> ChallengeStage:
        return ChallengeStage(self.challenge.stage)

    @property
    def id(self) -> int:
        return saved_id(self.challenge)


@dataclass(frozen=True)
class Candidate:
    """An item of the frozen submission that can be challenged."""

    item: Item
    section: Section
    value: object
    rating_label: str
    rag: str | None


_RECORD_QUERY = (
    select(EvidenceChallenge, Organisation, Return, Campaign)
    .join(Organisation, col(Organisation.id) == EvidenceChallenge.organisation_id)
    .join(Return, col(Return.id) == EvidenceChallenge.return_id)
    .join(Campaign, col(Campaign.id) == Return.campaign_id)
)
_SAMPLE_QUERY = select(DipSample).join(
    SampledReturn, col(SampledReturn.dip_sample_id) == DipSample.id
)


def challenge_scope(db: Session, challenge_id: int) -> int | None:
    """The organisation a challenge belongs to (None: no such challenge)."""
    found = db.get(EvidenceChallenge, challenge_id)
    if found is None:
        return None
    db.info.setdefault("keep", []).append(found)
    return found.organisation_id


def load_challenge(db: Session, challenge_id: int) -> ChallengeRecord:
    row = db.exec(_RECORD_QUERY.where(EvidenceChallenge.id == challenge_id)).first()
    if row is None:
        raise ChallengeNotFound(f"No evidence challenge {challenge_id}")
    challenge, organisation, ret, campaign = row
    submission = db.get(Submission, challenge.submission_id)
    sample = db.exec(_SAMPLE_QUERY.where(SampledReturn.id == challenge.sampled_return_id)).first()
    if submission is None or sample is None:
        raise ChallengeNotFound(f"Evidence challenge {challenge_id} is incomplete")
    return ChallengeRecord(challenge, organisation, ret, campaign, submission, sample)


def lock_challenge(db: Session, challenge_id: int) -> EvidenceChallenge:
    """The challenge's row, locked for this write transaction and read afresh."""
    found = db.exec(
        select(EvidenceChallenge)
        .where(EvidenceChallenge.id == challenge_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise ChallengeNotFound(f"No evidence challenge {challenge_id}")
    return found


def challenged_items(db: Session, challenge_id: int) -> list[ChallengedItem]:
    return list(
        db.exec(
            select(ChallengedItem)
            .where(ChallengedItem.challenge_id == challenge_id)
            .order_by(col(ChallengedItem.id))
        ).all()
    )


def candidates(definition: Definition, submission: Submission) -> list[Candidate]:
    """Rated items the organisation answered (not 'not applicable'), in questionnaire order."""
    answers = submission.content.get("answers", {}) or {}
    rags = (submission.content.get("score", {}) or {}).get("items", {}) or {}
    scale = definition.rating_scale
    found = []
    for section in definition.sections:
        for item in section.items:
            answer = answers.get(item.id)
            if item.kind != "rating" or not isinstance(answer, dict):
                continue
            value = answer.get("value")
            if answer.get("not_applicable") or value is None:
                continue
            point = scale.point(value) if isinstance(value, int) else None
            label = point.label if point is not None else str(value)
            found.append(Candidate(item, section, value, label, rags.get(item.id)))
    return found


def rating_label(definition: Definition | None, stored: str) -> str:
    """A stored self-rating ('3') as people read it ('In place')."""
    if definition is not None and stored.isdigit():
        point = definition.rating_scale.point(int(stored))
        if point is not None:
            return point.label
    return stored


def sample_return_key(organisation: Organisation) -> str:
    """The return's key within its sample: the organisation's identifier, or its id."""
    return organisation.identifier or f"{saved_id(organisation):08d}"


def offered_items(
    record: ChallengeRecord,
    found: Sequence[Candidate],
    *,
    mode: ChallengeMode,
    standards: Collection[str] = (),
    count: int = 0,
) -> list[str]:
    """The default choice: green items in chosen standards, or ``count`` random items.

    SampleError (a message for people) when the parameters cannot give a choice.
    """
    ratings = [ItemRating(c.item.id, c.section.id, c.rag, True) for c in found]
    return default_challenge_items(
        ratings,
        mode=mode,
        standards=standards,
        count=count,
        seed=record.sample.seed,
        return_key=sample_return_key(record.organisation),
    )


def due_date_problem(due_on: date | None, today: date) -> str | None:
    if due_on is None:
        return "Enter the date the evidence is due"
    if due_on <= today:
        return "The date the evidence is due must be in the future"
    if (due_on - today).days > MAX_DAYS_AHEAD:
        return "The date the evidence is due must be within a year"
    return None


def issue_challenge(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    challenge_id: int,
    definition: Definition,
    item_ids: Collection[str],
    due_on: date,
    today: date,
) -> EvidenceChallenge:
    """Issue a draft challenge on the chosen items; the organisation is emailed.

    ChallengeError when it is no longer a draft, no item or an unknown item is chosen, or the
    due date is not in the future.
    """
    challenge = lock_challenge(db, challenge_id)
    if challenge.stage != ChallengeStage.DRAFT.value:
        raise ChallengeError("This challenge has already been issued")
    problem = due_date_problem(due_on, today)
    if problem:
        raise ChallengeError(problem)
    record_ = load_challenge(db, challenge_id)
    by_id = {c.item.id: c for c in candidates(definition, record_.submission)}
    chosen = [i for i in by_id if i in set(item_ids)]  # questionnaire order
    if not chosen:
        raise ChallengeError("Choose at least one item to challenge")
    if set(item_ids) - set(by_id):
        raise ChallengeError("Choose only items from the organisation's submitted return")
    answers = record_.submission.content.get("answers", {})
    for item_id in chosen:
        c = by_id[item_id]
        db.add(
            ChallengedItem(
                challenge_id=challenge_id,
                item_id=item_id,
                self_rating=str(answers[item_id].get("value"))[:64],
                self_rag=c.rag,
            )
        )
    challenge.stage = ChallengeStage.ISSUED.value
    challenge.due_on = due_on
    challenge.issued_at = utcnow()
    challenge.issued_by = ctx.actor_id
    db.add(challenge)
    db.flush()
    org = record_.organisation
    record(
        db,
        ctx,
        "challenge.issued",
        object_type="evidence_challenge",
        object_id=challenge_id,
        organisation_id=org.id,
        new={"items": chosen, "due_on": due_on},
    )
    subject = f"Evidence requested: {org.name}, {_items(len(chosen))} by {long_date(due_on)}"
    body = issued_body(
        settings, org.name, record_.campaign.title, len(chosen), due_on, challenge_id
    )
    for person in people_at(db, saved_id(org), RECIPIENTS):
        send_email(db, settings, person.email, subject, f"Dear {person.full_name},\n\n{body}")
    return challenge


def issued_body(
    settings: Settings, organisation: str, campaign: str, count: int, due_on: date, cid: int
) -> str:
    return (
        f"The {settings.partnership_name} quality assurance group has chosen {organisation}'s "
        f"return for {campaign} for a closer look, and asks you to show the evidence for "
        f"{_items(count)} on the return.\n\n"
        f"For each item, upload one or more files (for example a policy, a training record "
        f"or minutes), or write an explanation, then submit the evidence by "
        f"{long_date(due_on)}.\n\n"
        f"You can see the items and add your evidence here (you will need to sign in):\n"
        f"{settings.base_url}/challenges/{cid}\n"
    )


def extend_due_date(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    challenge_id: int,
    due_on: date,
    today: date,
) -> EvidenceChallenge:
    """Move an issued challenge's due date later (and into the future); the organisation is
    told."""
    challenge = lock_challenge(db, challenge_id)
    if challenge.stage != ChallengeStage.ISSUED.value:
        raise ChallengeError("The due date can only be changed while the evidence is awaited")
    problem = due_date_problem(due_on, today)
    if problem:
        raise ChallengeError(problem)
    old = challenge.due_on
    if old is not None and due_on <= old:
        raise ChallengeError(
            f"The new due date must be later than the current one, {long_date(old)}"
        )
    challenge.due_on = due_on
    db.add(challenge)
    db.flush()
    org = db.get(Organisation, challenge.organisation_id)
    assert org is not None
    record(
        db,
        ctx,
        "challenge.due_date_extended",
        object_type="evidence_challenge",
        object_id=challenge_id,
        organisation_id=org.id,
        old={"due_on": old},
        new={"due_on": due_on},
    )
    subject = f"More time for evidence: {org.name}, now due by {long_date(due_on)}"
    body = (
        f"The partnership has given {org.name} until {long_date(due_on)} to submit the "
        f"evidence it asked for.\n\nYou can add your evidence here (you will need to sign in):\n"
        f"{settings.base_url}/challenges/{challenge_id}\n"
    )
    for person in people_at(db, saved_id(org), RECIPIENTS):
        send_email(db, settings, person.email, subject, f"Dear {person.full_name},\n\n{body}")
    return challenge


def open_challenges(
    db: Session, organisation_ids: Collection[int]
) -> list[tuple[EvidenceChallenge, Organisation, Campaign]]:
    """Issued challenges awaiting evidence from these organisations, soonest due first."""
    if not organisation_ids:
        return []
    rows = db.exec(
        select(EvidenceChallenge, Organisation, Campaign)
        .join(Organisation, col(Organisation.id) == EvidenceChallenge.organisation_id)
        .join(Return, col(Return.id) == EvidenceChallenge.return_id)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .where(
            col(EvidenceChallenge.organisation_id).in_(list(organisation_ids)),
            EvidenceChallenge.stage == ChallengeStage.ISSUED.value,
        )
        .order_by(col(EvidenceChallenge.due_on), col(EvidenceChallenge.id))
    ).all()
    return [(c, o, k) for c, o, k in rows]


def challenge_for_return(db: Session, return_id: int) -> EvidenceChallenge | None:
    """The return's latest challenge the organisation can see (issued or later), if any."""
    return db.exec(
        select(EvidenceChallenge)
        .where(
            EvidenceChallenge.return_id == return_id,
            EvidenceChallenge.stage != ChallengeStage.DRAFT.value,
        )
        .order_by(col(EvidenceChallenge.id).desc())
    ).first()


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"
