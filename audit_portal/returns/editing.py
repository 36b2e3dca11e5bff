"""Changing a return's answers and actions safely, with one rule for whether it may change.

Every function takes the caller's session and writes its audit events there. Saves use the
answer's version number for optimistic concurrency: a save that was based on an older version
than the one stored is a conflict, returned to the caller with both values, never applied.

Every change starts by locking the return's row (``lock_for_edit``), so all writers to one
return queue in the same order (the return, then its answers or actions) instead of
deadlocking on PostgreSQL, and the status checked is the current one, not a stale copy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.errors import NotFound
from audit_portal.models import (
    Action,
    ActionStatus,
    Answer,
    Campaign,
    CampaignStatus,
    Organisation,
    Return,
    ReturnStatus,
    as_utc,
    saved_id,
    utcnow,
)
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.answers import ActionDraft, AnswerData, ParsedAnswer
from audit_portal.returns.readiness import Readiness, assess
from audit_portal.vocabulary import OrganisationProfile

FROZEN = (
    "This return has been submitted and is now a frozen record: it cannot be changed. "
    "Ask the partnership to return it for amendment if something needs correcting."
)
CLOSED = "This campaign has closed, so returns can no longer be changed."


class ReturnNotFound(NotFound):
    """No return has that id."""


class ReturnError(ValueError):
    """The change cannot be made (closed campaign, frozen return...); the message says why."""


class _Profiled(Protocol):
    """An organisation, or a row of its columns: what decides which questions apply to it."""

    duty_type: str
    sector: str | None
    phase: str | None
    features: list[str]


def profile_of(org: _Profiled) -> OrganisationProfile:
    return OrganisationProfile(
        duty_type=org.duty_type,
        sector=org.sector,
        phase=org.phase,
        features=frozenset(org.features),
    )


def why_not_editable(return_status: str, campaign_status: str) -> str | None:
    """The one rule: a return can change while it is a draft, or returned for amendment (even
    after its campaign closed); never once submitted or accepted. None means it can change."""
    status = ReturnStatus(return_status)
    if not status.editable:
        return FROZEN
    if campaign_status == CampaignStatus.CLOSED and status is not ReturnStatus.RETURNED:
        return CLOSED
    return None


def can_edit(ret: Return, campaign: Campaign) -> bool:
    return why_not_editable(ret.status, campaign.status) is None


# The statements of the autosave path are built once: building costs more than running them.
_LOCK_RETURN = (
    select(Return, Campaign.status)
    .join(Campaign, col(Campaign.id) == Return.campaign_id)
    .where(Return.id == bindparam("return_id"))
    .with_for_update(of=Return)
    .execution_options(populate_existing=True)
)
_LOCK_ANSWER = (
    select(Answer)
    .where(Answer.return_id == bindparam("return_id"), Answer.item_id == bindparam("item_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


def lock_return(db: Session, return_id: int) -> tuple[Return, str]:
    """Lock the return's row for this transaction; re-read it and its campaign's status."""
    row = db.exec(_LOCK_RETURN, params={"return_id": return_id}).first()
    if row is None:
        raise ReturnNotFound(return_id)
    return row[0], row[1]


_RETURNS, _CAMPAIGNS, _ORGANISATIONS, _ACTIONS = (
    Return.__table__,  # type: ignore[attr-defined]
    Campaign.__table__,  # type: ignore[attr-defined]
    Organisation.__table__,  # type: ignore[attr-defined]
    Action.__table__,  # type: ignore[attr-defined]
)
_ITEM_ACTIONS = (
    select(func.count())
    .select_from(_ACTIONS)
    .where(_ACTIONS.c.return_id == _RETURNS.c.id, _ACTIONS.c.item_id == bindparam("item_id"))
    .scalar_subquery()
)
_LOCK_FOR_SAVE = (
    select(  # type: ignore[call-overload]
        _RETURNS.c.status,
        _RETURNS.c.updated_at,
        _RETURNS.c.organisation_id,
        _CAMPAIGNS.c.status.label("campaign_status"),
        _CAMPAIGNS.c.questionnaire_key,
        _CAMPAIGNS.c.questionnaire_version,
        _ORGANISATIONS.c.duty_type,
        _ORGANISATIONS.c.sector,
        _ORGANISATIONS.c.phase,
        _ORGANISATIONS.c.features,
        _ITEM_ACTIONS.label("item_actions"),
    )
    .select_from(_RETURNS)
    .join(_CAMPAIGNS, _CAMPAIGNS.c.id == _RETURNS.c.campaign_id)
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _RETURNS.c.organisation_id)
    .where(_RETURNS.c.id == bindparam("return_id"))
    .with_for_update(of=_RETURNS)
)


@dataclass
class LockedReturn:
    """What saving answers reads of a return locked for this transaction, in one statement:
    its status, owner, questionnaire and organisation's profile, and how many actions the item
    being autosaved has (``item_actions``: what it still needs depends on them). ``problem``
    says why it can no longer change (None: it can); ``status`` follows the save (not started,
    then in progress). Actions change only under the same lock, so the count stays true.
    """

    id: int
    status: str
    updated_at: datetime
    organisation_id: int
    problem: str | None
    questionnaire_key: str
    questionnaire_version: str
    profile: OrganisationProfile
    item_actions: int = 0


def lock_for_save(db: Session, return_id: int, item_id: str = "") -> LockedReturn:
    """Lock the return's row and read what a save needs, as plain values, in the autosave's
    first statement (an ORM object of each of the three rows cost it more than the rest)."""
    row = db.execute(_LOCK_FOR_SAVE, {"return_id": return_id, "item_id": item_id}).first()
    if row is None:
        raise ReturnNotFound(return_id)
    return LockedReturn(
        id=return_id,
        status=row.status,
        updated_at=as_utc(row.updated_at),
        organisation_id=row.organisation_id,
        problem=why_not_editable(row.status, row.campaign_status),
        questionnaire_key=row.questionnaire_key,
        questionnaire_version=row.questionnaire_version,
        profile=profile_of(row),
        item_actions=row.item_actions,
    )


def lock_for_edit(db: Session, return_id: int) -> Return:
    """Lock the return, then refuse if it can no longer be changed."""
    ret, campaign_status = lock_return(db, return_id)
    problem = why_not_editable(ret.status, campaign_status)
    if problem:
        raise ReturnError(problem)
    return ret


def answers_of(
    db: Session, return_id: int, item_ids: Collection[str] | None = None
) -> dict[str, Answer]:
    """The return's answers by item id; only those of ``item_ids`` when given (one standard's
    page need not build a hundred answer objects to show eight)."""
    query = select(Answer).where(Answer.return_id == return_id)
    if item_ids is not None:
        query = query.where(col(Answer.item_id).in_(item_ids))
    return {a.item_id: a for a in db.exec(query).all()}


def actions_of(
    db: Session, return_id: int, item_ids: Collection[str] | None = None
) -> list[Action]:
    """The return's actions in the order they were added; only those of ``item_ids`` when given."""
    query = select(Action).where(Action.return_id == return_id)
    if item_ids is not None:
        query = query.where(col(Action.item_id).in_(item_ids))
    return list(db.exec(query.order_by(col(Action.id))).all())


def as_data(answer: Answer) -> AnswerData:
    return AnswerData(
        value=answer.value.get("v"),
        not_applicable=answer.not_applicable,
        na_reason=answer.na_reason,
        narrative=answer.narrative,
        evidence=answer.evidence,
    )


def assess_return(
    definition: Definition, org: Organisation, answers: Mapping[str, Answer], actions: list[Action]
) -> Readiness:
    """Readiness of a return from its stored rows: the one place that adapts them for ``assess``."""
    counts = Counter(action.item_id for action in actions)
    carried = [k for k, a in answers.items() if a.carried_forward]
    data = {k: as_data(a) for k, a in answers.items()}
    return assess(definition, profile_of(org), data, counts, carried)


# --- saving answers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    answer: Answer | None  # the stored answer after the save, or the newer one that conflicts
    conflict: bool = False


@dataclass
class SaveOutcome:
    """What happened to each item of one save (a section page, or one autosaved item)."""

    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # item id -> field -> message
    conflicts: dict[str, Answer] = field(default_factory=dict)  # item id -> the newer answer
    saved: dict[str, Answer] = field(default_factory=dict)  # item id -> the stored answer

    @property
    def all_saved(self) -> bool:
        return not self.errors and not self.conflicts

    def version(self, item_id: str) -> int | None:
        answer = self.saved.get(item_id) or self.conflicts.get(item_id)
        return answer.version if answer is not None else None


def save_answers(
    db: Session,
    ctx: AuditContext,
    return_id: int,
    parsed: Mapping[str, ParsedAnswer],
    based_on: Mapping[str, int | None],
    locked: LockedReturn | None = None,
) -> SaveOutcome:
    """Save every well-formed answer of one form; report errors and conflicts per item.

    ``based_on`` is the version each answer was edited from (None: it was new to the person).
    An untouched new item is not saved. Raises ReturnError when the return cannot change.
    ``locked``: the return, when the caller has already locked it with ``lock_for_save``.
    """
    outcome = SaveOutcome(errors={k: p.errors for k, p in parsed.items() if p.errors})
    wanted = {k: p.answer for k, p in parsed.items() if p.answer is not None}
    if not wanted:
        return outcome
    ret = locked or lock_for_save(db, return_id)
    if ret.problem:
        raise ReturnError(ret.problem)
    for item_id, data in wanted.items():
        result = save_answer(db, ctx, ret, item_id, data, based_on.get(item_id))
        if result.conflict and result.answer is not None:
            outcome.conflicts[item_id] = result.answer
        elif result.answer is not None:
            outcome.saved[item_id] = result.answer
    return outcome


@dataclass(frozen=True)
class ActionChange:
    """Adding an action to an item (``draft``), removing one not yet signed (``remove_id``),
    or closing a signed one with a reason (``close_id``, ``reason``)."""

    item_id: str
    draft: ActionDraft | None = None
    remove_id: int | None = None
    close_id: int | None = None
    reason: str = ""


def save_section(
    db: Session,
    ctx: AuditContext,
    return_id: int,
    parsed: Mapping[str, ParsedAnswer],
    based_on: Mapping[str, int | None],
    change: ActionChange | None,
) -> SaveOutcome:
    """One 'Save' of a section page: its answers, and the action added or removed with them.

    One transaction, so what the person typed and the action they asked for land together.
    """
    outcome = save_answers(db, ctx, return_id, parsed, based_on)
    if change is None:
        return outcome
    if change.draft is not None:
        add_action(db, ctx, return_id, change.item_id, change.draft)
    elif change.remove_id is not None:
        remove_action(db, ctx, return_id, change.remove_id)
    elif change.close_id is not None:
        close_action(db, ctx, return_id, change.close_id, change.reason)
    return outcome


def _locked_answer(db: Session, return_id: int, item_id: str) -> Answer | None:
    """The stored answer, locked until this transaction ends.

    On PostgreSQL two saves of the same answer then queue: the second reads the first's
    version and is refused as a conflict instead of silently overwriting it. (SQLite write
    transactions already begin IMMEDIATE, which queues them.)
    """
    return db.exec(_LOCK_ANSWER, params={"return_id": return_id, "item_id": item_id}).first()


def _refusal(current: Answer, data: AnswerData, based_on: int | None) -> SaveResult | None:
    """Why a save based on ``based_on`` may not overwrite ``current`` (None: it may)."""
    if based_on is not None and current.version != based_on:
        if as_data(current) == data:
            return SaveResult(True, current)  # the same answer arrived twice (e.g. a retry)
        return SaveResult(False, current, conflict=True)
    if based_on is None and as_data(current) != data:
        return SaveResult(False, current, conflict=True)
    return None


def _columns(data: AnswerData) -> dict[str, object]:
    return {
        "value": {"v": data.value},
        "not_applicable": data.not_applicable,
        "na_reason": data.na_reason,
        "narrative": data.narrative,
        "evidence": data.evidence,
    }


def _insert_first(
    db: Session, ctx: AuditContext, return_id: int, item_id: str, data: AnswerData
) -> Answer | None:
    """Create the answer in one statement; None if a colleague's save created it a moment ago."""
    dialect = db.get_bind().dialect.name
    values = {
        "return_id": return_id,
        "item_id": item_id,
        **_columns(data),
        "carried_forward": False,
        "carry_note": "",
        "version": 1,
        "updated_by": ctx.actor_id,
        "updated_at": utcnow(),
    }
    if dialect == "postgresql":
        statement: Any = pg_insert(Answer).values(**values).on_conflict_do_nothing()
    else:  # SQLite: the only other database the portal runs on
        statement = sqlite_insert(Answer).values(**values).on_conflict_do_nothing()
    new_id = db.exec(statement.returning(col(Answer.id))).first()
    if new_id is None:
        return None
    answer = Answer(id=new_id[0], **values)  # type: ignore[arg-type]
    return answer


def save_answer(
    db: Session,
    ctx: AuditContext,
    ret: LockedReturn,
    item_id: str,
    data: AnswerData,
    based_on: int | None,
) -> SaveResult:
    """Save one answer of a return already locked by ``lock_for_save``.

    ``based_on`` is the version the person started from (None: new to them). An answer new to
    them is most likely new to the return too (each item's first save): it is inserted without
    looking for it first, and only looked for when it turns out to exist.
    """
    first_save = based_on is None and not data.is_empty
    current = None if first_save else _locked_answer(db, ret.id, item_id)
    if current is None:
        if based_on is None and data.is_empty:
            return SaveResult(False, None)  # nothing typed for a new item: nothing to save
        created = _insert_first(db, ctx, ret.id, item_id, data)
        if created is not None:
            _touch(db, ctx, ret, item_id, None, data)
            return SaveResult(True, created)
        current = _locked_answer(db, ret.id, item_id)  # a colleague's, or one not seen yet
        assert current is not None
    refusal = _refusal(current, data, based_on)
    if refusal is not None:
        return refusal
    if as_data(current) == data and not current.carried_forward:
        return SaveResult(True, current)
    old = as_data(current).__dict__
    changes = {
        **_columns(data),
        "carried_forward": False,
        "carry_note": "",
        "version": current.version + 1,
        "updated_by": ctx.actor_id,
        "updated_at": utcnow(),
    }
    _write_through(db, _UPDATE_ANSWER, saved_id(current), current, changes)
    _touch(db, ctx, ret, item_id, old, data)
    return SaveResult(True, current)


def _update_by_id(model: Any, columns: Collection[str]) -> Any:
    """An UPDATE of ``columns`` of one row by id, built once, its values bound as ``new_<name>``."""
    table = model.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns})
    )


_ANSWER_CHANGES = (
    "value",
    "not_applicable",
    "na_reason",
    "narrative",
    "evidence",
    "carried_forward",
    "carry_note",
    "version",
    "updated_by",
    "updated_at",
)
_UPDATE_ANSWER = _update_by_id(Answer, _ANSWER_CHANGES)
_UPDATE_RETURN = _update_by_id(Return, ("status", "updated_at"))
RETURN_TOUCH_EVERY = timedelta(minutes=1)


def _write_through(
    db: Session, statement: Any, row_id: int, loaded: Any, changes: Mapping[str, Any]
) -> None:
    """Write ``changes`` to a row with one prepared UPDATE, and set them as already stored on
    its object if the session has loaded one (``loaded``, or None). Every autosave changes an
    answer and its return: through the session's unit of work that flush cost more than all
    the save's statements together."""
    db.execute(statement, {"row_id": row_id, **{f"new_{k}": v for k, v in changes.items()}})
    if loaded is not None:
        for name, value in changes.items():
            set_committed_value(loaded, name, value)


def _touch(
    db: Session,
    ctx: AuditContext,
    ret: LockedReturn,
    item_id: str,
    old: dict | None,
    data: AnswerData,
) -> None:
    """The return was changed: mark it in progress and updated, and write the audit event.

    Its updated time is kept to the minute, as a session's last use is: the autosaves of a
    person working down a page change it once a minute, not once a save (a statement less on
    most saves). The page's own copy of the return, when the session holds one, follows.
    """
    now = utcnow()
    started = ReturnStatus(ret.status) is ReturnStatus.NOT_STARTED
    if started or now - ret.updated_at >= RETURN_TOUCH_EVERY:
        if started:
            ret.status = ReturnStatus.IN_PROGRESS.value
        ret.updated_at = now
        loaded = db.identity_map.get(identity_key(Return, ret.id))
        changes = {"status": ret.status, "updated_at": now}
        _write_through(db, _UPDATE_RETURN, ret.id, loaded, changes)
    record(
        db,
        ctx,
        "answer.save",
        object_type="answer",
        object_id=f"{ret.id}/{item_id}",
        organisation_id=ret.organisation_id,
        old=old,
        new=data.__dict__,
    )


# --- actions --------------------------------------------------------------------------------------


def add_action(
    db: Session,
    ctx: AuditContext,
    return_id: int,
    item_id: str,
    draft: ActionDraft,
) -> Action:
    """Add an action to an item of an editable return (the draft was checked by the caller)."""
    ret = lock_for_edit(db, return_id)
    assert draft.target_date is not None
    action = Action(
        return_id=saved_id(ret),
        item_id=item_id,
        what=draft.what,
        owner=draft.owner,
        target_date=draft.target_date,
        created_by=ctx.actor_id,
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
        },
    )
    return action


def remove_action(db: Session, ctx: AuditContext, return_id: int, action_id: int) -> str | None:
    """Remove an action of an editable return; its item id, or None if it had already gone."""
    ret = lock_for_edit(db, return_id)
    action = db.get(Action, action_id)
    if action is None or action.return_id != ret.id:
        return None  # a double click, or a colleague removed it a moment ago
    if action.frozen_revision is not None:
        raise ReturnError(
            "This action is part of a signed return, so it cannot be removed. If it is no "
            "longer needed, close it and say why."
        )
    record(
        db,
        ctx,
        "action.delete",
        object_type="action",
        object_id=action.id,
        organisation_id=ret.organisation_id,
        old={"item_id": action.item_id, "what": action.what, "owner": action.owner},
    )
    db.delete(action)
    return action.item_id


CLOSE_REASON_MAX = 500


def close_reason_problem(reason: str) -> str:
    """Why a signed action cannot be closed with this reason, or "" when it can."""
    if not reason.strip():
        return "Say why this action is being closed"
    if len(reason) > CLOSE_REASON_MAX:
        return f"The reason must be {CLOSE_REASON_MAX} characters or fewer"
    return ""


def close_action(
    db: Session, ctx: AuditContext, return_id: int, action_id: int, reason: str
) -> None:
    """Close a signed action that a revision no longer pursues; it stays in the history."""
    ret = lock_for_edit(db, return_id)
    action = db.get(Action, action_id)
    if action is None or action.return_id != ret.id:
        raise ReturnNotFound(action_id)
    reason = reason.strip()
    problem = close_reason_problem(reason)
    if problem:
        raise ReturnError(problem)
    old = {"status": action.status}
    action.status, action.closed_reason = ActionStatus.CLOSED.value, reason
    action.updated_at = utcnow()
    db.add(action)
    record(
        db,
        ctx,
        "action.close",
        object_type="action",
        object_id=action.id,
        organisation_id=ret.organisation_id,
        old=old,
        new={"status": action.status, "reason": reason},
    )
