"""Carry-forward: start this year's return from last year's submission, by the lineage map.

Answers to items whose ids persist are copied in as "carried forward, please confirm";
reworded and split items are copied with a note saying what changed; merged and new items start
blank. If the rating scale itself changed, ratings are not copied at all (they would not mean
the same thing), only the narratives. The source is the frozen submission, not the live answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from audit_portal.audit import AuditContext, record
from audit_portal.models import (
    Answer,
    Campaign,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    saved_id,
)
from audit_portal.questionnaires import Catalogue, Definition, carry_forward_plan
from audit_portal.returns.editing import ReturnError, lock_for_edit, profile_of
from audit_portal.scoring import applies

NOTES = {
    "same": "",
    "reworded": "The wording of this question has changed since last year: "
    "check your answer still fits.",
    "split": "Last year this was part of a broader question ({sources}): "
    "check your answer fits this part.",
}


@dataclass(frozen=True)
class Previous:
    ret: Return
    campaign: Campaign
    submission: Submission


def previous_submission(db: Session, ret: Return, campaign: Campaign) -> Previous | None:
    """The organisation's latest submitted return of the same questionnaire, in another campaign."""
    rows = db.exec(
        select(Return, Campaign, Submission)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .join(Submission, col(Submission.return_id) == Return.id)
        .where(
            Return.organisation_id == ret.organisation_id,
            Return.id != ret.id,
            Campaign.questionnaire_key == campaign.questionnaire_key,
            col(Return.status).in_([ReturnStatus.SUBMITTED.value, ReturnStatus.ACCEPTED.value]),
        )
        .order_by(col(Submission.submitted_at).desc())
    ).first()
    return Previous(*rows) if rows else None


def carry_forward(
    db: Session,
    ctx: AuditContext,
    return_id: int,
    definition: Definition,
    catalogue: Catalogue,
) -> int:
    """Copy last year's answers in; returns how many were copied."""
    ret = lock_for_edit(db, return_id)
    campaign = db.get(Campaign, ret.campaign_id)
    assert campaign is not None
    if db.exec(select(Answer).where(Answer.return_id == ret.id)).first() is not None:
        raise ReturnError(
            "You have already started this return, so last year's answers cannot be copied in."
        )
    previous = previous_submission(db, ret, campaign)
    if previous is None:
        raise ReturnError("There is no earlier submitted return to start from.")
    old = catalogue.get(
        previous.submission.questionnaire_key, previous.submission.questionnaire_version
    )
    if old is None:
        raise ReturnError("Last year's questionnaire version can no longer be found.")
    profile = profile_of(db.get(Organisation, ret.organisation_id))  # type: ignore[arg-type]
    scale_changed = old.rating_scale != definition.rating_scale
    stored = previous.submission.content.get("answers", {})
    copied = 0
    for item_id, carry in carry_forward_plan(old, definition).items():
        item = definition.item(item_id)
        if item is None or not carry.copies_answer or not applies(item, profile):
            continue
        source = stored.get(carry.sources[0]) if carry.sources else None
        if not source:
            continue
        note = NOTES[carry.change].format(sources=", ".join(carry.sources))
        value, not_applicable = source.get("value"), bool(source.get("not_applicable"))
        if scale_changed and item.kind == "rating":
            value, not_applicable = None, False
            note = (
                note + " " if note else ""
            ) + "The rating scale has changed: choose a rating again."
        db.add(
            Answer(
                return_id=saved_id(ret),
                item_id=item_id,
                value={"v": value},
                not_applicable=not_applicable,
                na_reason=source.get("na_reason", ""),
                narrative=source.get("narrative", ""),
                evidence=source.get("evidence", ""),
                carried_forward=True,
                carry_note=note[:500],
                updated_by=ctx.actor_id,
            )
        )
        copied += 1
    ret.carried_from_id = previous.ret.id
    if ReturnStatus(ret.status) is ReturnStatus.NOT_STARTED:
        ret.status = ReturnStatus.IN_PROGRESS.value
    db.add(ret)
    db.flush()
    record(
        db,
        ctx,
        "return.carry_forward",
        object_type="return",
        object_id=ret.id,
        organisation_id=ret.organisation_id,
        new={"from_return": previous.ret.id, "from_version": old.version, "answers_copied": copied},
    )
    return copied
