"""Feedback letters in the database: the facts a first draft is written from, saving a draft,
sending it through the outbox, and reading what was sent.

A letter is written for a return that is submitted or accepted, from its latest frozen
submission. Drafts can be saved any number of times (each save names the version it was
based on, so two people editing at once get a conflict, never a silent overwrite); sending
emails the saved text to the organisation's respondents and signatories and freezes it. A
second send (a double click, a second tab) finds the letter already sent and sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from audit_portal.accounts.users import people_at
from audit_portal.audit import AuditContext, record
from audit_portal.challenges.issuing import challenge_for_return
from audit_portal.challenges.notices import ORGANISATION_PEOPLE
from audit_portal.challenges.review import outcome_lines, reviewed_outcomes
from audit_portal.config import Settings
from audit_portal.errors import NotFound
from audit_portal.feedback.letter import (
    ChallengeState,
    Comparison,
    FollowUpFacts,
    ItemToWorkOn,
    LetterFacts,
    StandardResult,
)
from audit_portal.followups.records import follow_up_for, state_of
from audit_portal.mail import send_email
from audit_portal.models import (
    Campaign,
    FeedbackLetter,
    LetterStatus,
    Organisation,
    Return,
    ReturnStatus,
    Submission,
    SubmittedAnswer,
    User,
    saved_id,
    utcnow,
)
from audit_portal.models.dipsamples import ChallengeStage
from audit_portal.models.feedback import MAX_LETTER
from audit_portal.questionnaires.model import Definition
from audit_portal.reports.figures import SUBMITTED, Share
from audit_portal.reports.queries import ReportFilters, counted_submissions
from audit_portal.returns.editing import lock_return
from audit_portal.returns.submitting import submissions_of


class LetterError(ValueError):
    """Why a letter cannot be written, saved or sent now, in words for the person asking."""


class LetterConflict(LetterError):
    """The draft was saved by someone else since this person opened it."""

    def __init__(self, current: FeedbackLetter) -> None:
        super().__init__(
            f"{current.drafted_by_name or 'Someone'} saved this letter after you opened it. "
            "Their text is shown below: make your changes to it, then save again."
        )
        self.current = current


class LetterAlreadySent(LetterError):
    def __init__(self, letter: FeedbackLetter) -> None:
        super().__init__("This letter has already been sent, so it can no longer be changed.")
        self.letter = letter


def not_ready(ret: Return, submission: Submission | None) -> str | None:
    """Why no letter can be written for this return yet, or None when one can."""
    if ReturnStatus(ret.status) not in SUBMITTED or submission is None:
        return (
            "A feedback letter can only be written once the return has been submitted. "
            f"This return is {ReturnStatus(ret.status).label.lower()}."
        )
    return None


def body_problem(body: str) -> str | None:
    """The GOV.UK message for letter text that cannot be saved, or None."""
    if not body.strip():
        return "Enter the text of the letter"
    if len(body) > MAX_LETTER:
        return f"The letter must be {MAX_LETTER:,} characters or fewer"
    return None


def clean_body(text: str) -> str:
    """The letter as stored: Windows line endings made plain, no trailing spaces at the end."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


# --- what a page needs ------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterSubject:
    """A return, its latest submission and its letter (if any), and who the letter goes to."""

    ret: Return
    organisation: Organisation
    campaign: Campaign
    submission: Submission | None
    letter: FeedbackLetter | None
    recipients: list[User]

    @property
    def problem(self) -> str | None:
        return not_ready(self.ret, self.submission)


def letter_of(db: Session, return_id: int) -> FeedbackLetter | None:
    return db.exec(
        select(FeedbackLetter)
        .where(FeedbackLetter.return_id == return_id)
        .execution_options(populate_existing=True)
    ).first()


def sent_letter(db: Session, return_id: int) -> FeedbackLetter | None:
    """The letter the organisation may read: only ever a sent one, never a draft."""
    letter = letter_of(db, return_id)
    return letter if letter is not None and letter.status == LetterStatus.SENT.value else None


def load_subject(db: Session, return_id: int) -> LetterSubject:
    ret = db.get(Return, return_id)
    if ret is None:
        raise NotFound(f"No return {return_id}")
    organisation = db.get(Organisation, ret.organisation_id)
    campaign = db.get(Campaign, ret.campaign_id)
    assert organisation is not None and campaign is not None
    submissions = submissions_of(db, return_id)
    return LetterSubject(
        ret=ret,
        organisation=organisation,
        campaign=campaign,
        submission=submissions[-1] if submissions else None,
        letter=letter_of(db, return_id),
        recipients=people_at(db, ret.organisation_id, ORGANISATION_PEOPLE),
    )


# --- the facts a first draft is written from ---------------------------------------------------


@dataclass(frozen=True)
class Rated:
    """One item's rated answers (not applicable left out): how many, how many effective, and
    from how many organisations."""

    organisations: int
    rated: int
    effective: int


def rated_by_item(
    db: Session, campaign_id: int, item_ids: Sequence[str], *conditions: Any
) -> dict[str, Rated]:
    """Rated answers per item from the typed rows (one GROUP BY), narrowed by ``conditions``."""
    rows = db.execute(
        sa_select(
            col(SubmittedAnswer.item_id),
            func.count(func.distinct(SubmittedAnswer.organisation_id)),
            func.count(),
            func.sum(case((col(SubmittedAnswer.less_effective), 0), else_=1)),
        )
        .where(
            col(SubmittedAnswer.campaign_id) == campaign_id,
            col(SubmittedAnswer.item_id).in_(list(item_ids)),
            col(SubmittedAnswer.rating).is_not(None),
            col(SubmittedAnswer.not_applicable).is_(False),
            *conditions,
        )
        .group_by(col(SubmittedAnswer.item_id))
    ).all()
    return {item_id: Rated(orgs, rated, int(eff or 0)) for item_id, orgs, rated, eff in rows}


def peers_submitted(db: Session, ret: Return, kind: str) -> int:
    """How many other organisations of the kind have a submitted return in the campaign."""
    counted = counted_submissions(ret.campaign_id, ReportFilters(kind=kind))
    return db.exec(
        select(func.count())
        .select_from(Submission)
        .where(col(Submission.id).in_(counted), Submission.return_id != ret.id)
    ).one()


def letter_facts(
    db: Session,
    definition: Definition,
    subject: LetterSubject,
    settings: Settings,
    today: date,
) -> LetterFacts:
    """Everything the first draft says, read from the frozen submission and the typed rows."""
    ret, submission, kind = subject.ret, subject.submission, subject.organisation.kind
    if submission is None or subject.problem:
        raise LetterError(subject.problem or "The return has not been submitted.")
    rating_ids = [i.id for i in definition.items() if i.kind == "rating"]
    own = rated_by_item(
        db, ret.campaign_id, rating_ids, col(SubmittedAnswer.submission_id) == submission.id
    )
    others = rated_by_item(
        db,
        ret.campaign_id,
        rating_ids,
        col(SubmittedAnswer.submission_id).in_(
            counted_submissions(ret.campaign_id, ReportFilters(kind=kind))
        ),
        col(SubmittedAnswer.return_id) != ret.id,
    )
    return_id = saved_id(ret)
    challenge = challenge_for_return(db, return_id)
    outcomes = outcome_lines(definition, reviewed_outcomes(db, return_id))
    follow_up = follow_up_for(db, return_id)
    return LetterFacts(
        organisation=subject.organisation.name,
        partnership=settings.partnership_name,
        campaign=subject.campaign.title,
        signed_by=f"{submission.declaration_name}, {submission.declaration_role}",
        signed_on=submission.declaration_date,
        overall=(submission.content.get("score") or {}).get("overall"),
        standards=standard_results(definition, submission.content, own, others),
        comparison=Comparison(
            kind, peers_submitted(db, ret, kind), settings.report_suppression_threshold
        ),
        challenge=_challenge_state(challenge.stage if challenge else None, bool(outcomes)),
        outcomes=tuple(outcomes),
        follow_up=(
            FollowUpFacts(follow_up.due_on, state_of(follow_up, today).status)
            if follow_up is not None
            else None
        ),
    )


def _challenge_state(stage: str | None, has_outcomes: bool) -> ChallengeState:
    if stage is None:
        return "none"
    if stage == ChallengeStage.REVIEWED.value and has_outcomes:
        return "reviewed"
    return "waiting"


def standard_results(
    definition: Definition,
    content: Mapping[str, Any],
    own: Mapping[str, Rated],
    others: Mapping[str, Rated],
) -> tuple[StandardResult, ...]:
    """Each standard the organisation answered, with its own and its peers' shares (pure).

    The number of peers who rated a standard is taken as the most who rated any one of its
    items: never more than the true number, so a standard is only compared when it is safe.
    """
    answers: Mapping[str, Any] = content.get("answers") or {}
    score: Mapping[str, Any] = content.get("score") or {}
    sections: Mapping[str, Any] = score.get("sections") or {}
    less_effective = set(score.get("less_effective") or ())
    scale = definition.rating_scale
    results = []
    for section in definition.sections:
        ids = [i.id for i in section.items if i.kind == "rating"]
        if not any(i in answers for i in ids) and sections.get(section.id) is None:
            continue
        weak = []
        for item in (i for i in section.items if i.id in less_effective):
            value = (answers.get(item.id) or {}).get("value")
            point = scale.point(value) if isinstance(value, int) else None
            weak.append(ItemToWorkOn(item.id, item.prompt, point.label if point else "unrated"))
        results.append(
            StandardResult(
                section_id=section.id,
                title=section.title,
                rag=sections.get(section.id),
                own=_total(own, ids),
                others=_total(others, ids),
                others_organisations=max(
                    (others[i].organisations for i in ids if i in others), default=0
                ),
                to_work_on=tuple(weak),
            )
        )
    return tuple(results)


def _total(by_item: Mapping[str, Rated], ids: Sequence[str]) -> Share:
    found = [by_item[i] for i in ids if i in by_item]
    return Share(sum(r.effective for r in found), sum(r.rated for r in found))


# --- saving and sending -----------------------------------------------------------------------


def _lock_subject(db: Session, return_id: int) -> tuple[Return, Submission | None]:
    """The return locked for this transaction (so saves and sends of its letter queue up);
    NotFound (ReturnNotFound) when there is no such return."""
    ret, _ = lock_return(db, return_id)
    submissions = submissions_of(db, return_id)
    return ret, submissions[-1] if submissions else None


def save_draft(
    db: Session, ctx: AuditContext, return_id: int, body: str, based_on: int, by_name: str
) -> FeedbackLetter:
    """Save the draft's text. ``based_on`` is the version the person opened (0: no letter yet).

    LetterError when the return is not submitted or the text is empty or too long;
    LetterConflict when someone saved in between; LetterAlreadySent once it has gone.
    """
    ret, submission = _lock_subject(db, return_id)
    problem = not_ready(ret, submission) or body_problem(body)
    if problem:
        raise LetterError(problem)
    assert submission is not None
    text = clean_body(body)
    letter = letter_of(db, return_id)
    if letter is not None and letter.status == LetterStatus.SENT.value:
        raise LetterAlreadySent(letter)
    if (letter.version if letter is not None else 0) != based_on:
        if letter is None:
            raise LetterError("This letter's draft is no longer there: open it again.")
        raise LetterConflict(letter)
    old = {"body": letter.body, "version": letter.version} if letter is not None else None
    if letter is None:
        letter = FeedbackLetter(
            campaign_id=ret.campaign_id,
            organisation_id=ret.organisation_id,
            return_id=return_id,
            submission_id=saved_id(submission),
            body=text,
            version=0,
        )
    elif letter.body == text and letter.submission_id == submission.id:
        return letter  # nothing changed: no new version, no event
    letter.body, letter.submission_id, letter.version = (
        text,
        saved_id(submission),
        letter.version + 1,
    )
    letter.drafted_by, letter.drafted_by_name, letter.drafted_at = ctx.actor_id, by_name, utcnow()
    db.add(letter)
    db.flush()
    record(
        db,
        ctx,
        "feedback_letter.draft_saved",
        object_type="feedback_letter",
        object_id=saved_id(letter),
        organisation_id=ret.organisation_id,
        old=old,
        new={"body": letter.body, "version": letter.version, "submission_id": submission.id},
    )
    return letter


def send_letter(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    return_id: int,
    based_on: int,
    by_name: str,
) -> FeedbackLetter:
    """Email the saved draft to the organisation's people and keep it, exactly, as sent.

    LetterAlreadySent when it has gone already (nothing is sent again); LetterConflict when
    the draft changed since the person read it; LetterError when there is no draft, the
    return is no longer submitted, the return has been signed again since the draft was
    written, or nobody at the organisation can receive it.
    """
    ret, submission = _lock_subject(db, return_id)
    letter = letter_of(db, return_id)
    if letter is None:
        raise LetterError("Save the draft letter before you send it.")
    if letter.status == LetterStatus.SENT.value:
        raise LetterAlreadySent(letter)
    problem = not_ready(ret, submission)
    if problem:
        raise LetterError(problem)
    assert submission is not None
    if letter.version != based_on:
        raise LetterConflict(letter)
    if letter.submission_id != submission.id:
        raise LetterError(
            "The return has been signed again since this draft was written. Read the draft "
            "against the new submission and save it again before you send it."
        )
    organisation = db.get(Organisation, ret.organisation_id)
    campaign = db.get(Campaign, ret.campaign_id)
    assert organisation is not None and campaign is not None
    people = people_at(db, ret.organisation_id, ORGANISATION_PEOPLE)
    if not people:
        raise LetterError(
            f"Nobody at {organisation.name} can receive the letter: invite a respondent or "
            "signatory first."
        )
    subject = f"Feedback on your safeguarding self-assessment: {campaign.title}"
    for person in people:
        send_email(db, settings, person.email, subject, letter.body)
    letter.status, letter.sent_at = LetterStatus.SENT.value, utcnow()
    letter.sent_by, letter.sent_by_name = ctx.actor_id, by_name
    letter.sent_to = [p.email for p in people]
    db.add(letter)
    db.flush()
    record(
        db,
        ctx,
        "feedback_letter.sent",
        object_type="feedback_letter",
        object_id=saved_id(letter),
        organisation_id=ret.organisation_id,
        old={"status": LetterStatus.DRAFT.value},
        new={
            "status": LetterStatus.SENT.value,
            "version": letter.version,
            "sent_to": letter.sent_to,
            "body": letter.body,
        },
    )
    return letter


# --- a campaign's letters ---------------------------------------------------------------------


@dataclass(frozen=True)
class LetterLine:
    return_id: int
    organisation: str
    return_status: ReturnStatus
    letter: FeedbackLetter | None


def campaign_letters(db: Session, campaign_id: int) -> tuple[Campaign, list[LetterLine]]:
    """Every submitted or accepted return of a campaign, by organisation, with its letter."""
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id}")
    rows = db.exec(
        select(Return, Organisation.name, FeedbackLetter)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .outerjoin(FeedbackLetter, col(FeedbackLetter.return_id) == Return.id)
        .where(
            Return.campaign_id == campaign_id,
            col(Return.status).in_([s.value for s in SUBMITTED]),
        )
        .order_by(col(Organisation.name), col(Return.id))
    ).all()
    lines = []
    for ret, name, letter in rows:
        lines.append(LetterLine(saved_id(ret), name, ReturnStatus(ret.status), letter))
    return campaign, lines
