"""Follow-ups in the database: opened when a return is signed, written and signed by the
organisation, reviewed by the partnership. Pure rules live in ``rules.py``; this module applies
them to rows, in the caller's session, with an audit event for every change.

Which date the six months run from: the submission the partnership **accepted**, or while
none is accepted, the latest one (``rules.follow_up_due_from``). A return sent back for
amendment and signed again keeps its one follow-up; acceptance re-dates it from the version
agreed, so a round of amendments never shortens the organisation's six months.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.config import Settings
from audit_portal.errors import NotFound
from audit_portal.followups.rules import (
    ActionProgress,
    FollowUpRecord,
    FollowUpStage,
    FollowUpState,
    FollowUpStatus,
    follow_up_due_from,
    follow_up_state,
    needs_follow_up,
    validate_action_update,
)
from audit_portal.models import (
    Action,
    ActionSource,
    ActionStatus,
    Campaign,
    FollowUp,
    FollowUpReview,
    FollowUpSubmission,
    FollowUpUpdate,
    Organisation,
    Return,
    Submission,
    saved_id,
    utcnow,
)
from audit_portal.questionnaires.model import Definition
from audit_portal.returns import notices
from audit_portal.returns.answers import ActionDraft
from audit_portal.wording import long_date

EDITABLE = (FollowUpStage.OPEN, FollowUpStage.DRAFT, FollowUpStage.INFORMATION_REQUESTED)
COMMENT_MAX = 2000


class FollowUpNotFound(NotFound):
    """No follow-up for that return (nothing was rated less effective), or no such round."""


class FollowUpError(ValueError):
    """The change cannot be made (already submitted, not submitted yet...): says why."""


# --- opening and dating --------------------------------------------------------------------


def follow_up_for(db: Session, return_id: int) -> FollowUp | None:
    return db.exec(select(FollowUp).where(FollowUp.return_id == return_id)).first()


def open_or_redate(
    db: Session, ctx: AuditContext, ret: Return, campaign: Campaign, submissions: list[Submission]
) -> FollowUp | None:
    """After a return is signed or accepted: make sure it has its one follow-up, due six months
    (the campaign's interval) from the accepted submission, or the latest one."""
    latest = submissions[-1]
    content = latest.content
    less_effective = (content.get("score") or {}).get("less_effective") or []
    open_actions = db.exec(
        select(Action).where(Action.return_id == ret.id, Action.status == ActionStatus.OPEN)
    ).all()
    existing = follow_up_for(db, saved_id(ret))
    if existing is None and not needs_follow_up(less_effective, len(open_actions)):
        return None
    accepted_on = ret.accepted_at.date() if ret.accepted_at else None
    signed = [s.declaration_date for s in submissions]
    due = follow_up_due_from(signed, accepted_on, campaign.follow_up_months)
    assert due is not None
    if existing is None:
        existing = FollowUp(return_id=saved_id(ret), due_on=due)
        db.add(existing)
        db.flush()
        record(
            db,
            ctx,
            "follow_up.open",
            object_type="follow_up",
            object_id=existing.id,
            organisation_id=ret.organisation_id,
            new={"due_on": due},
        )
    elif existing.due_on != due:
        record(
            db,
            ctx,
            "follow_up.redate",
            object_type="follow_up",
            object_id=existing.id,
            organisation_id=ret.organisation_id,
            old={"due_on": existing.due_on},
            new={"due_on": due},
        )
        existing.due_on, existing.updated_at = due, utcnow()
        db.add(existing)
    return existing


def freeze_actions(db: Session, return_id: int, revision: int) -> None:
    """Actions a signed revision includes become part of the record: never removed after."""
    for action in db.exec(
        select(Action).where(Action.return_id == return_id, col(Action.frozen_revision).is_(None))
    ).all():
        action.frozen_revision = revision
        db.add(action)


def state_of(follow_up: FollowUp, today: date, due_soon_days: int = 30) -> FollowUpState:
    stage = FollowUpStage(follow_up.stage)
    return follow_up_state(FollowUpRecord(follow_up.due_on, stage), today, due_soon_days)


def follow_up_in_words(follow_up: FollowUp, today: date) -> str:
    """The state for a summary or a PDF: 'overdue by 10 days (due 1 September 2026)'."""
    state = state_of(follow_up, today)
    due = long_date(follow_up.due_on)
    if state.status is FollowUpStatus.OVERDUE:
        days = state.days_overdue
        return f"{state.label.lower()} by {days} day{'s' if days != 1 else ''} (due {due})"
    if follow_up.stage in {FollowUpStage.OPEN, FollowUpStage.DRAFT}:
        return f"{state.label.lower()} (due {due})"
    return state.label.lower()


# --- the organisation's form -----------------------------------------------------------------


@dataclass(frozen=True)
class UpdateData:
    """One action's update as typed (and as stored)."""

    progress: str = ""
    narrative: str = ""
    revised_rating: int | None = None
    evidence: str = ""
    new_target_date: date | None = None


@dataclass(frozen=True)
class ActionLineForFollowUp:
    """What the form shows about one action: the action, the original rating and narrative."""

    action: Action
    prompt: str
    original_rating: int | None
    original_label: str
    original_narrative: str
    update: FollowUpUpdate | None


@dataclass
class FollowUpContext:
    follow_up: FollowUp
    ret: Return
    campaign: Campaign
    organisation: Organisation
    definition: Definition
    lines: list[ActionLineForFollowUp]
    rounds: list[FollowUpSubmission]
    reviews: list[FollowUpReview]

    @property
    def editable(self) -> bool:
        return FollowUpStage(self.follow_up.stage) in EDITABLE

    @property
    def follow_up_id(self) -> int:
        return saved_id(self.follow_up)

    def latest_review(self) -> FollowUpReview | None:
        return self.reviews[-1] if self.reviews else None


_ACTIONS_OF = (
    select(Action, FollowUpUpdate)
    .outerjoin(
        FollowUpUpdate,
        (col(FollowUpUpdate.action_id) == Action.id)
        & (col(FollowUpUpdate.follow_up_id) == bindparam("follow_up_id")),
    )
    .where(Action.return_id == bindparam("return_id"), Action.status != ActionStatus.CLOSED)
    .order_by(col(Action.id))
)


def load_follow_up(db: Session, definition: Definition, return_id: int) -> FollowUpContext:
    """The follow-up of a return with everything its pages show (raises FollowUpNotFound)."""
    follow_up = follow_up_for(db, return_id)
    ret = db.get(Return, return_id)
    if follow_up is None or ret is None:
        raise FollowUpNotFound(return_id)
    campaign, org = db.get(Campaign, ret.campaign_id), db.get(Organisation, ret.organisation_id)
    assert campaign is not None and org is not None
    latest = db.exec(
        select(Submission)
        .where(Submission.return_id == return_id)
        .order_by(col(Submission.revision).desc())
    ).first()
    answers = (latest.content.get("answers") or {}) if latest else {}
    scale = definition.rating_scale
    lines = []
    rows = db.exec(_ACTIONS_OF, params={"follow_up_id": follow_up.id, "return_id": return_id})
    for action, update in rows.all():
        stored = answers.get(action.item_id) or {}
        value = stored.get("value") if isinstance(stored.get("value"), int) else None
        point = scale.point(value) if value is not None else None
        item = definition.item(action.item_id)
        lines.append(
            ActionLineForFollowUp(
                action,
                item.prompt if item else action.item_id,
                value,
                point.label if point else "Not rated",
                str(stored.get("narrative") or ""),
                update,
            )
        )
    rounds = list(
        db.exec(
            select(FollowUpSubmission)
            .where(FollowUpSubmission.follow_up_id == follow_up.id)
            .order_by(col(FollowUpSubmission.round))
        ).all()
    )
    reviews = list(
        db.exec(
            select(FollowUpReview)
            .where(FollowUpReview.follow_up_id == follow_up.id)
            .order_by(col(FollowUpReview.id))
        ).all()
    )
    return FollowUpContext(follow_up, ret, campaign, org, definition, lines, rounds, reviews)


@dataclass
class UpdateOutcome:
    errors: dict[int, dict[str, str]] = field(default_factory=dict)  # action id -> field -> msg
    conflicts: dict[int, FollowUpUpdate] = field(default_factory=dict)
    saved: dict[int, FollowUpUpdate] = field(default_factory=dict)

    @property
    def all_saved(self) -> bool:
        return not self.errors and not self.conflicts


def _lock(db: Session, follow_up_id: int) -> FollowUp:
    found = db.exec(
        select(FollowUp)
        .where(FollowUp.id == follow_up_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise FollowUpNotFound(follow_up_id)
    return found


def _editable_or_refuse(follow_up: FollowUp) -> None:
    stage = FollowUpStage(follow_up.stage)
    if stage not in EDITABLE:
        raise FollowUpError(
            "This follow-up has been submitted, so it cannot be changed now. If the partnership "
            "asks for more information, you will be able to change it again."
            if stage is FollowUpStage.SUBMITTED
            else "This follow-up has been accepted: it is a closed record."
        )


def _as_data(update: FollowUpUpdate) -> UpdateData:
    return UpdateData(
        update.progress,
        update.narrative,
        update.revised_rating,
        update.evidence,
        update.new_target_date,
    )


def save_updates(
    db: Session,
    ctx: AuditContext,
    follow_up_id: int,
    typed: Mapping[int, UpdateData],
    based_on: Mapping[int, int | None],
    allowed_ratings: set[int],
    today: date,
) -> UpdateOutcome:
    """Save the organisation's updates (a whole form, or one action autosaved).

    Well-formed updates are saved even when incomplete (nothing typed is lost); a save based on
    an older version than the one stored is a conflict, returned with theirs, never applied.
    """
    outcome = UpdateOutcome()
    for action_id, data in typed.items():
        problems = validate_action_update(
            data.progress or None,
            data.narrative,
            data.revised_rating,
            allowed_ratings,
            data.new_target_date,
            today,
            final=False,
        )
        if problems:
            outcome.errors[action_id] = problems
    wanted = {k: v for k, v in typed.items() if k not in outcome.errors}
    if not wanted:
        return outcome
    follow_up = _lock(db, follow_up_id)
    _editable_or_refuse(follow_up)
    ret = db.get(Return, follow_up.return_id)
    assert ret is not None
    own = set(db.exec(select(Action.id).where(Action.return_id == follow_up.return_id)).all())
    for action_id, data in wanted.items():
        if action_id not in own:
            raise FollowUpNotFound(action_id)
        _save_one(db, ctx, follow_up, ret, action_id, data, based_on.get(action_id), outcome)
    if FollowUpStage(follow_up.stage) is FollowUpStage.OPEN and outcome.saved:
        follow_up.stage = FollowUpStage.DRAFT.value
    follow_up.updated_at = utcnow()
    db.add(follow_up)
    return outcome


def _save_one(
    db: Session,
    ctx: AuditContext,
    follow_up: FollowUp,
    ret: Return,
    action_id: int,
    data: UpdateData,
    based_on: int | None,
    outcome: UpdateOutcome,
) -> None:
    current = db.exec(
        select(FollowUpUpdate)
        .where(FollowUpUpdate.follow_up_id == follow_up.id, FollowUpUpdate.action_id == action_id)
        .with_for_update()
    ).first()
    if current is None:
        current = FollowUpUpdate(follow_up_id=saved_id(follow_up), action_id=action_id)
        old = None
    else:
        if based_on is not None and current.version != based_on and _as_data(current) != data:
            outcome.conflicts[action_id] = current
            return
        if _as_data(current) == data:
            outcome.saved[action_id] = current
            return
        old = _as_data(current).__dict__
        current.version += 1
    if data.progress == ActionProgress.COMPLETE:
        data = UpdateData(data.progress, data.narrative, data.revised_rating, data.evidence, None)
    current.progress, current.narrative = data.progress, data.narrative
    current.revised_rating, current.evidence = data.revised_rating, data.evidence
    current.new_target_date = data.new_target_date
    current.updated_by, current.updated_at = ctx.actor_id, utcnow()
    db.add(current)
    db.flush()
    outcome.saved[action_id] = current
    record(
        db,
        ctx,
        "follow_up.update",
        object_type="follow_up_update",
        object_id=f"{follow_up.id}/{action_id}",
        organisation_id=ret.organisation_id,
        old=old,
        new=data.__dict__,
    )


def readiness_problems(context: FollowUpContext, today: date) -> dict[int, dict[str, str]]:
    """What is missing before the follow-up can be signed, by action and field."""
    allowed = {p.value for p in context.definition.rating_scale.points}
    problems = {}
    for line in context.lines:
        data = _as_data(line.update) if line.update else UpdateData()
        found = validate_action_update(
            data.progress or None,
            data.narrative,
            data.revised_rating,
            allowed,
            data.new_target_date,
            today,
            final=True,
        )
        if found:
            problems[saved_id(line.action)] = found
    return problems


@dataclass(frozen=True)
class FollowUpDeclaration:
    name: str
    role: str
    signed_on: date


def submit_follow_up(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    context: FollowUpContext,
    declaration: FollowUpDeclaration,
    today: date,
) -> FollowUpSubmission:
    """Sign a round: frozen exactly as signed; each action takes its reported progress."""
    follow_up = _lock(db, context.follow_up_id)
    _editable_or_refuse(follow_up)
    fresh = load_follow_up(db, context.definition, follow_up.return_id)
    problems = readiness_problems(fresh, today)
    if problems:
        raise FollowUpError(
            f"The follow-up is not ready to submit: {len(problems)} actions still need an update."
        )
    content = {
        "actions": [
            {
                "id": line.action.id,
                "item_id": line.action.item_id,
                "what": line.action.what,
                "owner": line.action.owner,
                "target_date": line.action.target_date.isoformat(),
                "original_rating": line.original_rating,
                "original_narrative": line.original_narrative,
                "progress": line.update.progress if line.update else "",
                "narrative": line.update.narrative if line.update else "",
                "revised_rating": line.update.revised_rating if line.update else None,
                "evidence": line.update.evidence if line.update else "",
                "new_target_date": (
                    line.update.new_target_date.isoformat()
                    if line.update and line.update.new_target_date
                    else None
                ),
            }
            for line in fresh.lines
        ]
    }
    submission = FollowUpSubmission(
        follow_up_id=saved_id(follow_up),
        round=follow_up.round,
        submitted_by=ctx.actor_id,
        declaration_name=declaration.name,
        declaration_role=declaration.role,
        declaration_date=declaration.signed_on,
        content=content,
    )
    db.add(submission)
    for line in fresh.lines:
        if line.update is None:
            continue
        line.action.progress = line.update.progress
        if line.update.new_target_date:
            line.action.target_date = line.update.new_target_date
        line.action.updated_at = utcnow()
        db.add(line.action)
    follow_up.stage, follow_up.submitted_at = FollowUpStage.SUBMITTED.value, utcnow()
    follow_up.updated_at = utcnow()
    db.add(follow_up)
    db.flush()
    record(
        db,
        ctx,
        "follow_up.submit",
        object_type="follow_up",
        object_id=follow_up.id,
        organisation_id=fresh.ret.organisation_id,
        new={"round": follow_up.round, "declaration": f"{declaration.name}, {declaration.role}"},
    )
    notices.follow_up_submitted(
        db, settings, fresh.ret, fresh.organisation, fresh.campaign, declaration.name
    )
    return submission


def review_follow_up(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    return_id: int,
    accept: bool,
    comment: str,
) -> None:
    """The partnership accepts a submitted round, or asks for more information (with why)."""
    follow_up = follow_up_for(db, return_id)
    if follow_up is None:
        raise FollowUpNotFound(return_id)
    follow_up = _lock(db, saved_id(follow_up))
    if FollowUpStage(follow_up.stage) is not FollowUpStage.SUBMITTED:
        raise FollowUpError("Only a submitted follow-up can be reviewed.")
    comment = comment.strip()
    if not accept and not comment:
        raise FollowUpError("Say what more information is needed")
    if len(comment) > COMMENT_MAX:
        raise FollowUpError(f"The comment must be {COMMENT_MAX:,} characters or fewer")
    db.add(
        FollowUpReview(
            follow_up_id=saved_id(follow_up),
            round=follow_up.round,
            outcome="accepted" if accept else "more_information",
            comment=comment,
            reviewed_by=ctx.actor_id,
        )
    )
    old = {"stage": follow_up.stage, "round": follow_up.round}
    if accept:
        follow_up.stage, follow_up.accepted_at = FollowUpStage.ACCEPTED.value, utcnow()
        for action in db.exec(
            select(Action).where(
                Action.return_id == return_id, Action.progress == ActionProgress.COMPLETE
            )
        ).all():
            action.status, action.updated_at = ActionStatus.COMPLETE.value, utcnow()
            db.add(action)
    else:
        follow_up.stage = FollowUpStage.INFORMATION_REQUESTED.value
        follow_up.round += 1
    follow_up.updated_at = utcnow()
    db.add(follow_up)
    ret = db.get(Return, return_id)
    assert ret is not None
    record(
        db,
        ctx,
        "follow_up.accept" if accept else "follow_up.more_information",
        object_type="follow_up",
        object_id=follow_up.id,
        organisation_id=ret.organisation_id,
        old=old,
        new={"stage": follow_up.stage, "round": follow_up.round, "comment": comment},
    )
    org, campaign = db.get(Organisation, ret.organisation_id), db.get(Campaign, ret.campaign_id)
    assert org is not None and campaign is not None
    notices.follow_up_reviewed(db, settings, ret, org, campaign, accept, comment)


def add_partnership_action(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    return_id: int,
    item_id: str,
    draft: ActionDraft,
    source: ActionSource = ActionSource.QA,
) -> Action:
    """The partnership adds an action to a submitted return (after an evidence challenge, say):
    it joins the return's follow-up, opening one if there was none, and the organisation is told.
    """
    ret = db.exec(select(Return).where(Return.id == return_id).with_for_update()).first()
    if ret is None:
        raise FollowUpNotFound(return_id)
    submissions = list(
        db.exec(
            select(Submission)
            .where(Submission.return_id == return_id)
            .order_by(col(Submission.revision))
        ).all()
    )
    if not submissions:
        raise FollowUpError("Actions can only be added to a return that has been submitted.")
    assert draft.target_date is not None
    action = Action(
        return_id=return_id,
        item_id=item_id,
        what=draft.what,
        owner=draft.owner,
        target_date=draft.target_date,
        created_by=ctx.actor_id,
        source=source.value,
        frozen_revision=submissions[-1].revision,
    )
    db.add(action)
    db.flush()
    record(
        db,
        ctx,
        "action.create",
        object_type="action",
        object_id=action.id,
        organisation_id=ret.organisation_id,
        new={
            "item_id": item_id,
            "what": draft.what,
            "owner": draft.owner,
            "target_date": draft.target_date,
            "source": source.value,
        },
    )
    campaign = db.get(Campaign, ret.campaign_id)
    org = db.get(Organisation, ret.organisation_id)
    assert campaign is not None and org is not None
    follow_up = open_or_redate(db, ctx, ret, campaign, submissions)
    if follow_up is not None and FollowUpStage(follow_up.stage) is FollowUpStage.ACCEPTED:
        follow_up.stage, follow_up.round = FollowUpStage.OPEN.value, follow_up.round + 1
        follow_up.updated_at = utcnow()
        db.add(follow_up)
    due = long_date(follow_up.due_on) if follow_up else None
    notices.action_added(db, settings, ret, org, campaign, draft.what, due)
    return action
