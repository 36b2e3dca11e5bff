"""Campaigns and returns in the database: open, save answers safely, submit, amend, accept.

Every function takes the caller's session and writes its audit events there. Saves use the
answer's version number for optimistic concurrency: a save that was based on an older version
than the one stored is a conflict, returned to the caller with both values, never applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.models import (
    Action,
    Answer,
    Campaign,
    CampaignStatus,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    utcnow,
)
from audit_portal.questionnaires.model import Definition
from audit_portal.returns.answers import REASON_MAX, AnswerData
from audit_portal.returns.readiness import Readiness, assess
from audit_portal.vocabulary import OrganisationProfile, matches


class ReturnError(ValueError):
    """The change cannot be made (closed campaign, frozen return...); the message says why."""


def profile_of(org: Organisation) -> OrganisationProfile:
    return OrganisationProfile(
        duty_type=org.duty_type,
        sector=org.sector,
        phase=org.phase,
        features=frozenset(org.features),
    )


# --- campaigns ---------------------------------------------------------------------------------


def invitation_list(db: Session, definition: Definition, selection: dict) -> list[Organisation]:
    """Active organisations the questionnaire's audience and the campaign's selection both admit.

    ``selection`` may hold duty_types, sectors, phases, features (as in questionnaire
    audiences), districts, flags (organisations with a current intelligence flag of that type)
    and organisation_ids (an explicit list, which replaces the other criteria).
    """
    from audit_portal.organisations import current_flags

    orgs = db.exec(
        select(Organisation).where(Organisation.status == "active").order_by(Organisation.name)
    ).all()
    audience = definition.audience.as_dict()
    chosen = []
    explicit = set(selection.get("organisation_ids") or [])
    for org in orgs:
        profile = profile_of(org)
        if not matches(audience, profile):
            continue
        if explicit:
            if org.id in explicit:
                chosen.append(org)
            continue
        conditions = {
            k: selection.get(k) or [] for k in ("duty_types", "sectors", "phases", "features")
        }
        if not matches(conditions, profile):
            continue
        if selection.get("districts") and org.district not in selection["districts"]:
            continue
        if selection.get("flags"):
            flags = {f.flag for f in current_flags(db, org.id)}
            if not flags & set(selection["flags"]):
                continue
        chosen.append(org)
    return chosen


def open_campaign(
    db: Session, ctx: AuditContext, campaign: Campaign, organisations: list[Organisation]
) -> int:
    """Create a draft return per invited organisation; returns how many were created."""
    if campaign.status == CampaignStatus.CLOSED:
        raise ReturnError("This campaign is closed")
    existing = {
        r.organisation_id
        for r in db.exec(select(Return).where(Return.campaign_id == campaign.id)).all()
    }
    created = [org for org in organisations if org.id not in existing]
    for org in created:
        db.add(Return(campaign_id=campaign.id, organisation_id=org.id))
    if campaign.status == CampaignStatus.DRAFT:
        campaign.status, campaign.opened_at = CampaignStatus.OPEN.value, utcnow()
        db.add(campaign)
    db.flush()
    record(
        db,
        ctx,
        "campaign.open",
        object_type="campaign",
        object_id=campaign.id,
        new={"organisation_ids": [o.id for o in created], "status": campaign.status},
    )
    return created


def close_campaign(db: Session, ctx: AuditContext, campaign: Campaign) -> None:
    campaign.status, campaign.closed_at = CampaignStatus.CLOSED.value, utcnow()
    db.add(campaign)
    record(
        db,
        ctx,
        "campaign.close",
        object_type="campaign",
        object_id=campaign.id,
        new={"status": "closed"},
    )


# --- answers ----------------------------------------------------------------------------------


def lock_return(db: Session, ret: Return) -> Return:
    """Lock the return's row for this transaction and re-read it.

    Every change to a return starts here, so all writers to one return take their locks in the
    same order (the return, then its answers or actions) and queue instead of deadlocking on
    PostgreSQL; and the status checked next is the current one, not a stale copy.
    """
    return db.exec(
        select(Return)
        .where(Return.id == ret.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_for_edit(db: Session, ret: Return, campaign: Campaign) -> None:
    """Lock the return, then refuse if it can no longer be changed."""
    lock_return(db, ret)
    editable_or_refuse(ret, campaign)


def editable_or_refuse(ret: Return, campaign: Campaign) -> None:
    status = ReturnStatus(ret.status)
    if not status.editable:
        raise ReturnError(
            "This return has been submitted and is now a frozen record: it cannot be changed. "
            "Ask the partnership to return it for amendment if something needs correcting."
        )
    if campaign.status == CampaignStatus.CLOSED and status is not ReturnStatus.RETURNED:
        raise ReturnError("This campaign has closed, so returns can no longer be changed.")


def answers_of(db: Session, return_id: int) -> dict[str, Answer]:
    return {
        a.item_id: a for a in db.exec(select(Answer).where(Answer.return_id == return_id)).all()
    }


def as_data(answer: Answer) -> AnswerData:
    return AnswerData(
        value=answer.value.get("v"),
        not_applicable=answer.not_applicable,
        na_reason=answer.na_reason,
        narrative=answer.narrative,
        evidence=answer.evidence,
    )


@dataclass(frozen=True)
class SaveResult:
    saved: bool
    answer: Answer | None  # the stored answer after the save, or the newer one that conflicts
    conflict: bool = False


def _locked_answer(db: Session, return_id: int, item_id: str) -> Answer | None:
    """The stored answer, locked until this transaction ends.

    On PostgreSQL two saves of the same answer then queue: the second reads the first's
    version and is refused as a conflict instead of silently overwriting it. (SQLite write
    transactions already begin IMMEDIATE, which queues them.)
    """
    return db.exec(
        select(Answer)
        .where(Answer.return_id == return_id, Answer.item_id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _refusal(current: Answer, data: AnswerData, based_on: int | None) -> SaveResult | None:
    """Why a save based on ``based_on`` may not overwrite ``current`` (None: it may)."""
    if based_on is not None and current.version != based_on:
        if as_data(current) == data:
            return SaveResult(True, current)  # the same answer arrived twice (e.g. a retry)
        return SaveResult(False, current, conflict=True)
    if based_on is None and as_data(current) != data:
        return SaveResult(False, current, conflict=True)
    return None


def _insert_first(db: Session, return_id: int, item_id: str) -> Answer | None:
    """Create the answer row; None if a colleague's save created it a moment ago."""
    answer = Answer(return_id=return_id, item_id=item_id)
    try:
        with db.begin_nested():
            db.add(answer)
            db.flush()
    except IntegrityError:
        return None
    return answer


def save_answer(
    db: Session,
    ctx: AuditContext,
    ret: Return,
    campaign: Campaign,
    item_id: str,
    data: AnswerData,
    based_on: int | None,
) -> SaveResult:
    """Save one answer. ``based_on`` is the version the person started from (None: new)."""
    lock_for_edit(db, ret, campaign)
    current = _locked_answer(db, ret.id, item_id)
    created = False
    if current is None:
        current = _insert_first(db, ret.id, item_id)
        created = current is not None
        if current is None:  # lost the race to create it: judge this save against theirs
            current = _locked_answer(db, ret.id, item_id)
            assert current is not None
    old = None if created else as_data(current).__dict__
    if not created:
        refusal = _refusal(current, data, based_on)
        if refusal is not None:
            return refusal
        if as_data(current) == data and not current.carried_forward:
            return SaveResult(True, current)
        current.version += 1
    current.value = {"v": data.value}
    current.not_applicable, current.na_reason = data.not_applicable, data.na_reason
    current.narrative, current.evidence = data.narrative, data.evidence
    current.carried_forward, current.carry_note = False, ""
    current.updated_by, current.updated_at = ctx.actor_id, utcnow()
    db.add(current)
    if ReturnStatus(ret.status) is ReturnStatus.NOT_STARTED:
        ret.status = ReturnStatus.IN_PROGRESS.value
    ret.updated_at = utcnow()
    db.add(ret)
    db.flush()
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
    return SaveResult(True, current)


def add_action(
    db: Session,
    ctx: AuditContext,
    ret: Return,
    campaign: Campaign,
    item_id: str,
    what: str,
    owner: str,
    target_date: date,
) -> Action:
    lock_for_edit(db, ret, campaign)
    action = Action(
        return_id=ret.id,
        item_id=item_id,
        what=what,
        owner=owner,
        target_date=target_date,
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
        new={"item_id": item_id, "what": what, "owner": owner, "target_date": target_date},
    )
    return action


def remove_action(
    db: Session, ctx: AuditContext, ret: Return, campaign: Campaign, action: Action
) -> None:
    lock_for_edit(db, ret, campaign)
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


def assess_return(
    definition: Definition, org: Organisation, answers: dict[str, Answer], actions: list[Action]
) -> Readiness:
    """Readiness of a return from its stored rows: the one place that adapts them for ``assess``."""
    counts = Counter(action.item_id for action in actions)
    carried = [k for k, a in answers.items() if a.carried_forward]
    data = {k: as_data(a) for k, a in answers.items()}
    return assess(definition, profile_of(org), data, counts, carried)


def actions_of(db: Session, return_id: int) -> list[Action]:
    return list(
        db.exec(select(Action).where(Action.return_id == return_id).order_by(col(Action.id))).all()
    )


# --- submission, amendment, acceptance --------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    name: str
    role: str
    signed_on: date


def submit_return(
    db: Session,
    ctx: AuditContext,
    ret: Return,
    campaign: Campaign,
    definition: Definition,
    questionnaire_hash: str,
    declaration: Declaration,
) -> Submission:
    """Freeze the current revision exactly as signed; refuse if anything is still missing."""
    lock_for_edit(db, ret, campaign)
    org = db.get(Organisation, ret.organisation_id)
    assert org is not None
    answers = answers_of(db, ret.id)
    actions = actions_of(db, ret.id)
    readiness = assess_return(definition, org, answers, actions)
    if not readiness.ready:
        raise ReturnError(
            f"The return is not ready to submit: {len(readiness.problems)} things "
            "still need attention."
        )
    content = {
        "organisation": {"id": org.id, "name": org.name, "duty_type": org.duty_type},
        "campaign": {
            "id": campaign.id,
            "title": campaign.title,
            "follow_up_months": campaign.follow_up_months,
        },
        "answers": {
            k: {**as_data(a).__dict__, "version": a.version} for k, a in sorted(answers.items())
        },
        "actions": [
            {
                "item_id": a.item_id,
                "what": a.what,
                "owner": a.owner,
                "target_date": a.target_date.isoformat(),
            }
            for a in actions
        ],
        "score": {
            "items": dict(readiness.score.items),
            "sections": dict(readiness.score.sections),
            "overall": readiness.score.overall,
            "less_effective": list(readiness.score.less_effective),
        },
    }
    submission = Submission(
        return_id=ret.id,
        revision=ret.revision,
        submitted_by=ctx.actor_id,
        declaration_name=declaration.name,
        declaration_role=declaration.role,
        declaration_date=declaration.signed_on,
        questionnaire_key=definition.key,
        questionnaire_version=definition.version,
        questionnaire_hash=questionnaire_hash,
        content=content,
    )
    db.add(submission)
    ret.status, ret.submitted_at, ret.updated_at = ReturnStatus.SUBMITTED.value, utcnow(), utcnow()
    db.add(ret)
    db.flush()
    record(
        db,
        ctx,
        "return.submit",
        object_type="return",
        object_id=ret.id,
        organisation_id=org.id,
        new={
            "revision": ret.revision,
            "overall": readiness.score.overall,
            "declaration": f"{declaration.name}, {declaration.role}",
        },
    )
    return submission


def return_for_amendment(db: Session, ctx: AuditContext, ret: Return, reason: str) -> None:
    lock_return(db, ret)
    if ReturnStatus(ret.status) not in {ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED}:
        raise ReturnError("Only a submitted return can be returned for amendment.")
    if not reason.strip():
        raise ReturnError("Say what needs to be amended")
    if len(reason.strip()) > REASON_MAX:
        raise ReturnError(f"The reason must be {REASON_MAX:,} characters or fewer")
    old = {"status": ret.status, "revision": ret.revision}
    ret.status, ret.revision, ret.returned_reason = (
        ReturnStatus.RETURNED.value,
        ret.revision + 1,
        reason.strip(),
    )
    ret.updated_at = utcnow()
    db.add(ret)
    record(
        db,
        ctx,
        "return.amend",
        object_type="return",
        object_id=ret.id,
        organisation_id=ret.organisation_id,
        old=old,
        new={"status": ret.status, "revision": ret.revision, "reason": ret.returned_reason},
    )


def accept_return(db: Session, ctx: AuditContext, ret: Return) -> None:
    lock_return(db, ret)
    if ReturnStatus(ret.status) is not ReturnStatus.SUBMITTED:
        raise ReturnError("Only a submitted return can be accepted.")
    ret.status, ret.accepted_at = ReturnStatus.ACCEPTED.value, utcnow()
    db.add(ret)
    record(
        db,
        ctx,
        "return.accept",
        object_type="return",
        object_id=ret.id,
        organisation_id=ret.organisation_id,
        old={"status": "submitted"},
        new={"status": "accepted"},
    )


def submissions_of(db: Session, return_id: int) -> list[Submission]:
    return list(
        db.exec(
            select(Submission)
            .where(Submission.return_id == return_id)
            .order_by(col(Submission.revision))
        ).all()
    )
