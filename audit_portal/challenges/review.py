"""The QA sub-group reviews submitted evidence: an outcome and a moderated rating per item.

Each challenged item gets one ``ItemOutcome`` that points at the frozen submission and the
item (the submission itself never changes); reviewing it again replaces the outcome, with the
old and new values in the audit trail. A not-substantiated or partly-substantiated outcome can
add a required action, which joins the organisation's six-month follow-up exactly as an
action the partnership adds to a submitted return does; it is added once, however often the
item is reviewed. When every item has an outcome the challenge is reviewed and the
organisation is emailed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.challenges import notices
from audit_portal.challenges.issuing import (
    ChallengeError,
    challenged_items,
    load_challenge,
    lock_challenge,
    rating_label,
)
from audit_portal.challenges.responding import ItemNotChallenged
from audit_portal.config import Settings
from audit_portal.followups.records import add_partnership_action
from audit_portal.models import (
    Action,
    ActionSource,
    ChallengedItem,
    EvidenceChallenge,
    ItemOutcome,
    Outcome,
    saved_id,
    utcnow,
)
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.questionnaires.model import Definition, RatingScale
from audit_portal.reports.organisation_summary import OutcomeLine
from audit_portal.returns.answers import ActionDraft, field_prefix, parse_action

MAX_COMMENT = 2000
REVIEWABLE = frozenset({ChallengeStage.SUBMITTED.value, ChallengeStage.REVIEWED.value})
ACTION_OUTCOMES = frozenset({Outcome.PARTLY, Outcome.NOT})


def review_refused(challenge: EvidenceChallenge) -> str | None:
    """Why the evidence cannot be reviewed now, or None when it can."""
    if challenge.stage in REVIEWABLE:
        return None
    if challenge.stage == ChallengeStage.DRAFT.value:
        return "This challenge has not been issued yet, so there is no evidence to review."
    return (
        "The organisation has not submitted its evidence yet. You can review it once it has "
        "been submitted."
    )


# --- reading what QA typed (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class ReviewDraft:
    """One item's review as typed, and what it means once it has no errors."""

    outcome: Outcome | None
    rating: int | None
    comment: str
    action: ActionDraft | None  # only when "Add a required action" was ticked
    typed: Mapping[str, str] = field(default_factory=dict)  # to show again after an error


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip().replace("\r\n", "\n") if isinstance(value, str) else ""


def parse_review(
    form: Mapping[str, Any], item_id: str, scale: RatingScale, today: date
) -> tuple[ReviewDraft, dict[str, str]]:
    """An item's review from ``item-<id>-outcome|rating|comment|add-action`` and the action's
    ``item-<id>-action-what|owner|target-*`` fields; GOV.UK messages by field (``outcome``,
    ``rating``, ``comment``, ``add_action``, ``what``, ``owner``, ``target``)."""
    prefix = field_prefix(item_id)
    typed = {
        name: _text(form, f"{prefix}-{name}")[: MAX_COMMENT * 2]
        for name in ("outcome", "rating", "comment", "add-action")
    }
    errors: dict[str, str] = {}
    outcome = next((o for o in Outcome if o.value == typed["outcome"]), None)
    if outcome is None:
        errors["outcome"] = "Choose whether the evidence substantiates the rating"
    values = {str(p.value): p.value for p in scale.points}
    rating = values.get(typed["rating"])
    if rating is None:
        errors["rating"] = "Choose a moderated rating from the questionnaire's scale"
    if len(typed["comment"]) > MAX_COMMENT:
        errors["comment"] = f"The comment must be {MAX_COMMENT:,} characters or fewer"
    action = None
    if typed["add-action"] == "yes":
        if outcome is Outcome.SUBSTANTIATED:
            errors["add_action"] = (
                "A required action can only be added when the evidence is not, or only partly, "
                "substantiated"
            )
        draft, problems = parse_action(form, item_id, today)
        typed |= {f"action-{k}": v[: MAX_COMMENT * 2] for k, v in draft.typed.items()}
        errors |= problems
        action = draft
    return ReviewDraft(outcome, rating, typed["comment"], action, typed), errors


# --- recording an outcome -------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    outcome: ItemOutcome
    changed: bool  # False: the same outcome was saved again
    action: Action | None  # the required action added by this review, if any
    completed: bool  # this review gave the last item its outcome: the challenge is reviewed


def _snapshot(row: ItemOutcome) -> dict[str, Any]:
    return {
        "outcome": row.outcome,
        "moderated_rating": row.moderated_rating,
        "moderated_rag": row.moderated_rag,
        "comment": row.comment,
        "action_id": row.action_id,
    }


def _outcome_of(db: Session, challenged_item_id: int) -> ItemOutcome | None:
    return db.exec(
        select(ItemOutcome)
        .where(ItemOutcome.challenged_item_id == challenged_item_id)
        .execution_options(populate_existing=True)
    ).first()


def record_outcome(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    challenge_id: int,
    definition: Definition,
    item_id: str,
    draft: ReviewDraft,
) -> Recorded:
    """Record (or replace) one challenged item's outcome and moderated rating.

    ChallengeError when the evidence has not been submitted, the outcome or rating is not one
    offered, the comment is too long, or an action is asked for a substantiated outcome;
    ItemNotChallenged for an item that is not one of the challenge's.
    """
    challenge = lock_challenge(db, challenge_id)
    refused = review_refused(challenge)
    if refused:
        raise ChallengeError(refused)
    item = db.exec(
        select(ChallengedItem).where(
            ChallengedItem.challenge_id == challenge_id, ChallengedItem.item_id == item_id
        )
    ).first()
    if item is None:
        raise ItemNotChallenged(f"Item {item_id!r} is not challenged")
    point = definition.rating_scale.point(draft.rating)
    if draft.outcome is None or point is None:
        raise ChallengeError("Choose an outcome and a moderated rating from the scale")
    if len(draft.comment) > MAX_COMMENT:
        raise ChallengeError(f"The comment must be {MAX_COMMENT:,} characters or fewer")
    if draft.action is not None and draft.outcome not in ACTION_OUTCOMES:
        raise ChallengeError(
            "A required action can only be added when the evidence is not, or only partly, "
            "substantiated"
        )
    existing = _outcome_of(db, saved_id(item))
    old = _snapshot(existing) if existing is not None else None
    if existing is not None:
        row = existing
    else:
        row = ItemOutcome(
            challenged_item_id=saved_id(item),
            submission_id=challenge.submission_id,
            item_id=item.item_id,
            outcome=draft.outcome.value,
            moderated_rating=str(point.value),
        )
    row.outcome, row.moderated_rating = draft.outcome.value, str(point.value)
    row.moderated_rag, row.comment = point.rag, draft.comment
    action = None
    if draft.action is not None and row.action_id is None:
        action = add_partnership_action(
            db,
            settings,
            ctx,
            challenge.return_id,
            item.item_id,
            draft.action,
            ActionSource.CHALLENGE,
        )
        row.action_id = action.id
    new = _snapshot(row)
    changed = old != new
    if changed:
        row.reviewed_by, row.reviewed_at = ctx.actor_id, utcnow()
        db.add(row)
        db.flush()
        record(
            db,
            ctx,
            "challenge.outcome_changed" if old is not None else "challenge.outcome_recorded",
            object_type="item_outcome",
            object_id=saved_id(row),
            organisation_id=challenge.organisation_id,
            old=old,
            new={"challenge": challenge_id, "item_id": item.item_id, **new},
        )
    completed = _complete_if_all_reviewed(db, settings, ctx, challenge)
    return Recorded(row, changed, action, completed)


def _complete_if_all_reviewed(
    db: Session, settings: Settings, ctx: AuditContext, challenge: EvidenceChallenge
) -> bool:
    """Mark the challenge reviewed (and email the organisation) once every item has an outcome."""
    if challenge.stage != ChallengeStage.SUBMITTED.value:
        return False
    challenge_id = saved_id(challenge)
    outcomes = outcomes_by_item(db, challenge_id)
    items = challenged_items(db, challenge_id)
    if not items or any(saved_id(i) not in outcomes for i in items):
        return False
    challenge.stage, challenge.reviewed_at = ChallengeStage.REVIEWED.value, utcnow()
    db.add(challenge)
    db.flush()
    record(
        db,
        ctx,
        "challenge.reviewed",
        object_type="evidence_challenge",
        object_id=challenge_id,
        organisation_id=challenge.organisation_id,
        old={"stage": ChallengeStage.SUBMITTED.value},
        new={
            "stage": ChallengeStage.REVIEWED.value,
            "outcomes": {o.item_id: o.outcome for o in outcomes.values()},
        },
    )
    found = load_challenge(db, challenge_id)
    notices.evidence_reviewed(
        db,
        settings,
        challenge_id,
        found.organisation,
        found.campaign,
        [Outcome(o.outcome) for o in outcomes.values()],
        sum(1 for o in outcomes.values() if o.action_id is not None),
    )
    return True


# --- reading outcomes -----------------------------------------------------------------------


def outcomes_by_item(db: Session, challenge_id: int) -> dict[int, ItemOutcome]:
    """The challenge's outcomes, by challenged item id."""
    rows = db.exec(
        select(ItemOutcome)
        .join(ChallengedItem, col(ChallengedItem.id) == ItemOutcome.challenged_item_id)
        .where(ChallengedItem.challenge_id == challenge_id)
        .execution_options(populate_existing=True)
    ).all()
    return {r.challenged_item_id: r for r in rows}


def actions_by_id(db: Session, ids: Sequence[int]) -> dict[int, Action]:
    if not ids:
        return {}
    rows = db.exec(select(Action).where(col(Action.id).in_(list(ids)))).all()
    return {saved_id(a): a for a in rows}


@dataclass(frozen=True)
class ChallengeOutcomes:
    """A challenge's outcomes with the actions they added, as every page reads them."""

    outcomes: dict[int, ItemOutcome]  # by challenged item id
    actions: dict[int, Action]  # by action id


def challenge_outcomes(db: Session, challenge_id: int) -> ChallengeOutcomes:
    outcomes = outcomes_by_item(db, challenge_id)
    ids = [o.action_id for o in outcomes.values() if o.action_id is not None]
    return ChallengeOutcomes(outcomes, actions_by_id(db, ids))


def reviewed_outcomes(
    db: Session, return_id: int
) -> list[tuple[ChallengedItem, ItemOutcome, Action | None]]:
    """The outcomes the organisation may read: those of the return's reviewed challenges, in
    the order the items were challenged."""
    rows = db.exec(
        select(ChallengedItem, ItemOutcome, Action)
        .join(ItemOutcome, col(ItemOutcome.challenged_item_id) == ChallengedItem.id)
        .join(EvidenceChallenge, col(EvidenceChallenge.id) == ChallengedItem.challenge_id)
        .outerjoin(Action, col(Action.id) == ItemOutcome.action_id)
        .where(
            EvidenceChallenge.return_id == return_id,
            EvidenceChallenge.stage == ChallengeStage.REVIEWED.value,
        )
        .order_by(col(EvidenceChallenge.id), col(ChallengedItem.id))
    ).all()
    return [(c, o, a) for c, o, a in rows]


def outcome_line(
    definition: Definition | None,
    challenged: ChallengedItem,
    outcome: ItemOutcome,
    action: Action | None,
) -> OutcomeLine:
    """One item's outcome as people read it (labels from the questionnaire's scale)."""
    item = definition.item(challenged.item_id) if definition is not None else None
    return OutcomeLine(
        item_id=challenged.item_id,
        prompt=item.prompt if item is not None else "",
        self_rating=rating_label(definition, challenged.self_rating),
        self_rag=challenged.self_rag,
        moderated_rating=rating_label(definition, outcome.moderated_rating),
        moderated_rag=outcome.moderated_rag,
        outcome=Outcome(outcome.outcome).label,
        comment=outcome.comment,
        action=action.what if action is not None else "",
    )


def outcome_lines(
    definition: Definition | None,
    rows: Sequence[tuple[ChallengedItem, ItemOutcome, Action | None]],
) -> list[OutcomeLine]:
    return [outcome_line(definition, c, o, a) for c, o, a in rows]
