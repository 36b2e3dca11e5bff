"""Signing a return (a frozen submission), returning it for amendment, and accepting it.

A submission is exactly what the signatory signed: its content is copied into a row the
database refuses to change, with the questionnaire version and the hash of its file, so it can
be read and downloaded unchanged however the live answers or the questionnaire files move on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.config import Settings
from audit_portal.followups.records import freeze_actions, open_or_redate
from audit_portal.models import (
    AuditEvent,
    Campaign,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    saved_id,
    utcnow,
)
from audit_portal.questionnaires.model import Definition
from audit_portal.returns import notices
from audit_portal.returns.answers import REASON_MAX
from audit_portal.returns.editing import (
    ReturnError,
    actions_of,
    answers_of,
    as_data,
    assess_return,
    lock_for_edit,
    lock_return,
)
from audit_portal.returns.reading import long_date
from audit_portal.returns.typed_answers import write_answer_rows

DECLARATION_MAX = 200


@dataclass(frozen=True)
class Declaration:
    name: str
    role: str
    signed_on: date


def declaration_problems(name: str, role: str, confirmed: bool) -> dict[str, str]:
    """GOV.UK messages, by field, for a declaration that cannot be signed as it is."""
    problems = {}
    if not name:
        problems["name"] = "Enter your full name"
    elif len(name) > DECLARATION_MAX:
        problems["name"] = f"Your name must be {DECLARATION_MAX} characters or fewer"
    if not role:
        problems["role"] = "Enter your role, for example Headteacher or Chair of governors"
    elif len(role) > DECLARATION_MAX:
        problems["role"] = f"Your role must be {DECLARATION_MAX} characters or fewer"
    if not confirmed:
        problems["confirm"] = "Confirm the declaration to submit the return"
    return problems


def submit_return(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    return_id: int,
    definition: Definition,
    questionnaire_hash: str,
    declaration: Declaration,
) -> Submission:
    """Freeze the current revision exactly as signed; refuse if anything is still missing."""
    ret = lock_for_edit(db, return_id)
    org = db.get(Organisation, ret.organisation_id)
    campaign = db.get(Campaign, ret.campaign_id)
    assert org is not None and campaign is not None
    answers = answers_of(db, return_id)
    actions = actions_of(db, return_id)
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
                "id": a.id,
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
        return_id=saved_id(ret),
        revision=ret.revision,
        submitted_by=ctx.actor_id,
        declaration_name=declaration.name,
        declaration_role=declaration.role,
        declaration_date=declaration.signed_on,
        questionnaire_key=definition.key,
        questionnaire_version=definition.version,
        questionnaire_hash=questionnaire_hash,
        overall_rag=readiness.score.overall,
        content=content,
    )
    db.add(submission)
    ret.status, ret.submitted_at, ret.updated_at = ReturnStatus.SUBMITTED.value, utcnow(), utcnow()
    db.add(ret)
    db.flush()
    write_answer_rows(db, ret, submission)
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
    freeze_actions(db, saved_id(ret), ret.revision)
    follow_up = open_or_redate(db, ctx, ret, campaign, submissions_of(db, saved_id(ret)))
    due = long_date(follow_up.due_on) if follow_up else None
    notices.submitted(db, settings, ret, org, campaign, declaration.name, due)
    return submission


def submission_document(return_id: int, submission: Submission) -> dict[str, Any]:
    """The frozen submission as the JSON people download: what was signed, and against what."""
    return {
        "return_id": return_id,
        "revision": submission.revision,
        "submitted_at": submission.submitted_at.isoformat(),
        "declaration": {
            "name": submission.declaration_name,
            "role": submission.declaration_role,
            "date": submission.declaration_date.isoformat(),
        },
        "questionnaire": {
            "key": submission.questionnaire_key,
            "version": submission.questionnaire_version,
            "sha256": submission.questionnaire_hash,
        },
        **submission.content,
    }


def amendment_problem(reason: str) -> str | None:
    if not reason.strip():
        return "Say what needs to be amended"
    if len(reason.strip()) > REASON_MAX:
        return f"The reason must be {REASON_MAX:,} characters or fewer"
    return None


def return_for_amendment(
    db: Session, settings: Settings, ctx: AuditContext, return_id: int, reason: str
) -> None:
    ret, _ = lock_return(db, return_id)
    if ReturnStatus(ret.status) not in {ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED}:
        raise ReturnError("Only a submitted return can be returned for amendment.")
    problem = amendment_problem(reason)
    if problem:
        raise ReturnError(problem)
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
    org, campaign = _organisation_and_campaign(db, ret)
    notices.returned_for_amendment(db, settings, ret, org, campaign, ret.returned_reason)


def accept_return(db: Session, settings: Settings, ctx: AuditContext, return_id: int) -> None:
    ret, _ = lock_return(db, return_id)
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
    org, campaign = _organisation_and_campaign(db, ret)
    db.flush()
    open_or_redate(db, ctx, ret, campaign, submissions_of(db, saved_id(ret)))
    notices.accepted(db, settings, ret, org, campaign)


def _organisation_and_campaign(db: Session, ret: Return) -> tuple[Organisation, Campaign]:
    org, campaign = db.get(Organisation, ret.organisation_id), db.get(Campaign, ret.campaign_id)
    assert org is not None and campaign is not None
    return org, campaign


def ask_to_sign(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    return_id: int,
    definition: Definition,
    by_name: str,
) -> int:
    """A respondent tells the signatories a complete return is waiting; how many were told."""
    ret = lock_for_edit(db, return_id)
    org, campaign = _organisation_and_campaign(db, ret)
    readiness = assess_return(definition, org, answers_of(db, return_id), actions_of(db, return_id))
    if not readiness.ready:
        raise ReturnError("The return is not ready to sign yet: check your answers first.")
    record(
        db,
        ctx,
        "return.ready_to_sign",
        object_type="return",
        object_id=ret.id,
        organisation_id=ret.organisation_id,
    )
    return notices.ready_to_sign(db, settings, ret, org, campaign, by_name)


def amendment_history(db: Session, return_id: int) -> list[AuditEvent]:
    """Every return for amendment of this return, oldest first, with who asked and why."""
    return list(
        db.exec(
            select(AuditEvent)
            .where(
                AuditEvent.action == "return.amend",
                AuditEvent.object_type == "return",
                AuditEvent.object_id == str(return_id),
            )
            .order_by(col(AuditEvent.id))
        ).all()
    )


def submissions_of(db: Session, return_id: int) -> list[Submission]:
    return list(
        db.exec(
            select(Submission)
            .where(Submission.return_id == return_id)
            .order_by(col(Submission.revision))
        ).all()
    )


def latest_submission(db: Session, ret: Return) -> Submission | None:
    found = submissions_of(db, ret.id)  # type: ignore[arg-type]
    return found[-1] if found else None
