"""The state of a six-month follow-up, when one is needed and due, and checks on action updates.

Every organisation that rated itself less than effective on any item must report, within the
campaign's ``follow_up_months``, what it has done about each action. A respondent fills the
follow-up, a signatory submits it, the QA sub-group accepts it or asks for more information,
and the organisation resubmits. Everything here is a pure function of plain data and ``today``,
so the dashboard, the lists of overdue follow-ups and the reminders always agree.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from audit_portal.followups.dates import follow_up_due

DUE_SOON_DAYS = 30
NARRATIVE_MAX_LENGTH = 5000


class FollowUpStage(StrEnum):
    """Where a follow-up is in its own life, as stored (dates play no part)."""

    OPEN = "open"  # nothing saved yet
    DRAFT = "draft"  # saved, not submitted
    SUBMITTED = "submitted"
    INFORMATION_REQUESTED = "information_requested"
    ACCEPTED = "accepted"


class FollowUpStatus(StrEnum):
    """What a person is shown: the stage combined with the due date and today."""

    NOT_YET_DUE = "not_yet_due"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    MORE_INFORMATION_REQUESTED = "more_information_requested"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def tag_class(self) -> str:
        """The GOV.UK tag modifier for this status."""
        return _STATUS_TAGS[self]


_STATUS_LABELS = {
    FollowUpStatus.NOT_YET_DUE: "Not yet due",
    FollowUpStatus.DUE_SOON: "Due soon",
    FollowUpStatus.OVERDUE: "Overdue",
    FollowUpStatus.IN_PROGRESS: "In progress",
    FollowUpStatus.SUBMITTED: "Submitted",
    FollowUpStatus.MORE_INFORMATION_REQUESTED: "More information requested",
    FollowUpStatus.ACCEPTED: "Accepted",
}
_STATUS_TAGS = {
    FollowUpStatus.NOT_YET_DUE: "govuk-tag--grey",
    FollowUpStatus.DUE_SOON: "govuk-tag--yellow",
    FollowUpStatus.OVERDUE: "govuk-tag--red",
    FollowUpStatus.IN_PROGRESS: "govuk-tag--blue",
    FollowUpStatus.SUBMITTED: "govuk-tag--purple",
    FollowUpStatus.MORE_INFORMATION_REQUESTED: "govuk-tag--orange",
    FollowUpStatus.ACCEPTED: "govuk-tag--green",
}

# Once submitted, the deadline has been met: nothing is overdue or due any more.
SUBMITTED_STAGES = frozenset(
    {FollowUpStage.SUBMITTED, FollowUpStage.INFORMATION_REQUESTED, FollowUpStage.ACCEPTED}
)


@dataclass(frozen=True)
class FollowUpRecord:
    """What the state needs to know about one follow-up (plain data, as the store holds it)."""

    due_on: date
    stage: FollowUpStage

    def __post_init__(self) -> None:
        # The store holds the stage as text: accept it, and refuse anything off the list.
        object.__setattr__(self, "stage", FollowUpStage(self.stage))


@dataclass(frozen=True)
class FollowUpState:
    """The status to show, with the day counts behind it.

    ``days_overdue`` is more than 0 only when the status is overdue; ``days_until_due`` is the
    days left (0 on the due date) while the follow-up is not submitted and not past due. Both
    are 0 once the follow-up has been submitted, because the deadline no longer applies.
    ``has_draft`` lets a page say "Overdue (in progress)" for an overdue draft.
    """

    status: FollowUpStatus
    days_overdue: int
    days_until_due: int
    has_draft: bool = False

    @property
    def label(self) -> str:
        if self.status is FollowUpStatus.OVERDUE and self.has_draft:
            return "Overdue (in progress)"
        return self.status.label


def follow_up_state(
    record: FollowUpRecord, today: date, due_soon_days: int = DUE_SOON_DAYS
) -> FollowUpState:
    """The one status for a follow-up on ``today``.

    Precedence, first match wins:

    1. accepted;
    2. submitted;
    3. more information requested (the QA sub-group has it back with the organisation; it was
       submitted on time, so it is not "overdue" against the original due date);
    4. overdue: past the due date and not submitted, *even when a draft exists*, so the list
       of overdue follow-ups includes drafts (``has_draft`` tells them apart);
    5. in progress: a draft, not past due;
    6. due soon: nothing saved, due within ``due_soon_days`` (inclusive: 30 days before, and
       the due date itself, count);
    7. not yet due.
    """
    stage = record.stage
    has_draft = stage is FollowUpStage.DRAFT
    if stage is FollowUpStage.ACCEPTED:
        return FollowUpState(FollowUpStatus.ACCEPTED, 0, 0)
    if stage is FollowUpStage.SUBMITTED:
        return FollowUpState(FollowUpStatus.SUBMITTED, 0, 0)
    if stage is FollowUpStage.INFORMATION_REQUESTED:
        return FollowUpState(FollowUpStatus.MORE_INFORMATION_REQUESTED, 0, 0)
    days_left = (record.due_on - today).days
    if days_left < 0:
        return FollowUpState(FollowUpStatus.OVERDUE, -days_left, 0, has_draft)
    if has_draft:
        return FollowUpState(FollowUpStatus.IN_PROGRESS, 0, days_left, has_draft)
    if days_left <= due_soon_days:
        return FollowUpState(FollowUpStatus.DUE_SOON, 0, days_left)
    return FollowUpState(FollowUpStatus.NOT_YET_DUE, 0, days_left)


def needs_follow_up(less_effective_item_ids: Collection[str], action_count: int) -> bool:
    """A submitted return needs a follow-up if it has any action or any less-effective item.

    Either is enough: an action on an effective item still deserves an update, and a
    less-effective item must be reported on even if (on an older return) it has no action.
    """
    return action_count > 0 or len(less_effective_item_ids) > 0


def follow_up_due_from(
    submission_dates: Sequence[date], accepted_on: date | None, months: int
) -> date | None:
    """The due date of a return's one follow-up, ``months`` after the submission that counts.

    A return has one follow-up however often it is submitted. The clock starts from the
    submission the partnership accepted: the latest submission on or before ``accepted_on``.
    While none is accepted it runs from the latest submission. Why:

    - the actions being followed up are those of the version the partnership agreed, so that
      is the version the six months are about;
    - a return sent back for amendment and resubmitted weeks later should not lose those weeks
      from its window, which counting from the first submission would do.

    None when the return has never been submitted. A ``ValueError`` when it was accepted but
    no submission is dated on or before the acceptance (the data contradict each other).
    """
    if not submission_dates:
        return None
    if accepted_on is None:
        counted = max(submission_dates)
    else:
        before = [d for d in submission_dates if d <= accepted_on]
        if not before:
            raise ValueError(f"No submission on or before the acceptance on {accepted_on}")
        counted = max(before)
    return follow_up_due(counted, months)


class ActionProgress(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started",
            "in_progress": "In progress",
            "complete": "Complete",
        }[self.value]


def validate_action_update(
    progress: ActionProgress | str | None,
    narrative: str,
    revised_rating: int | None,
    allowed_ratings: Collection[int],
    new_target_date: date | None,
    today: date,
    *,
    final: bool,
) -> dict[str, str]:
    """Problems with one action's update, as field name -> GOV.UK error message.

    Saving a draft (``final=False``) checks only that what was entered is well formed, so a
    respondent can save half an answer and come back. Submitting (``final=True``) also needs
    it complete: progress, an update, a revised rating, and a new target date unless the
    action is complete. A target date is ignored when the action is complete (the page hides
    it; the store should not keep it), and a missing one is not reported while the progress
    itself is missing (only the progress error is shown). Today counts as "not in the past".

    Field names: ``progress``, ``narrative``, ``revised_rating``, ``new_target_date``.
    """
    errors: dict[str, str] = {}
    chosen = _progress(progress)
    if chosen is None and (final or progress not in (None, "")):
        errors["progress"] = "Choose the progress of this action"

    if len(narrative) > NARRATIVE_MAX_LENGTH:
        errors["narrative"] = "The update must be 5,000 characters or less"
    elif final and not narrative.strip():
        errors["narrative"] = "Enter an update on this action"

    if revised_rating is not None and revised_rating not in allowed_ratings:
        errors["revised_rating"] = "Choose a rating from the list"
    elif final and revised_rating is None:
        errors["revised_rating"] = "Choose a revised rating for this item"

    if chosen is not ActionProgress.COMPLETE:
        if new_target_date is not None and new_target_date < today:
            errors["new_target_date"] = "Enter a new target date in the future"
        elif final and new_target_date is None and chosen is not None:
            errors["new_target_date"] = "Enter a new target date"
    return errors


def _progress(value: ActionProgress | str | None) -> ActionProgress | None:
    try:
        return ActionProgress(value) if value else None
    except ValueError:
        return None
