"""Which reminders are due today, and their wording. Pure: the command that sends them comes later.

Each kind of reminder has a schedule of steps, each starting on a date relative to a deadline
(14 and 3 days before a campaign closes; 30 days before a follow-up is due, on the due date,
then weekly while it is overdue). The command runs daily and may miss days, so the rules are:

- **Catching up**: a step is due on its start date *or any later day*, so a missed run does not
  lose the reminder.
- **Superseding**: only the latest step that has started is due. If the command did not run
  between 14 and 3 days before closing, the 14-day reminder is never sent: on day 2 people get
  the 3-day one only. Two reminders at once would only confuse.
- **At most once**: each reminder has a ``unique_key`` built from its kind, target, deadline and
  step. The command queues a reminder only if its key has not been queued before, so running it
  any number of times a day sends each step at most once. A changed deadline (a resubmitted
  return moves its follow-up) gives new keys, so the new schedule is followed from the start.
- **Nothing after the work is in**: no reminder once a follow-up or an evidence challenge is
  submitted, and the caller passes only organisations that have not submitted their return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from audit_portal.followups.rules import FollowUpState, FollowUpStatus
from audit_portal.wording import long_date

WEEKLY_LIMIT = 6

_SUBMITTED = frozenset(
    {
        FollowUpStatus.SUBMITTED,
        FollowUpStatus.MORE_INFORMATION_REQUESTED,
        FollowUpStatus.ACCEPTED,
    }
)


class ReminderKind(StrEnum):
    CAMPAIGN_CLOSING = "campaign-closing"
    FOLLOW_UP = "follow-up"
    CHALLENGE_DEADLINE = "challenge-deadline"


@dataclass(frozen=True)
class Reminder:
    """One reminder to queue.

    ``target_key`` names what it is about and must be unique across the portal (e.g.
    ``"return:42"``, ``"follow-up:7"``); ``recipients_key`` names whose people receive it, for
    the sender to resolve (by default the target's organisation). ``due_on`` is the deadline
    the reminder is about; ``step`` is its place in the schedule (e.g. ``"overdue-2"``).
    """

    kind: ReminderKind
    target_key: str
    due_on: date
    step: str
    recipients_key: str

    @property
    def unique_key(self) -> str:
        """The same reminder always has the same key; any other reminder a different one."""
        return f"{self.kind}:{self.target_key}:{self.due_on.isoformat()}:{self.step}"


@dataclass(frozen=True)
class Step:
    name: str
    starts_on: date


def current_step(steps: Sequence[Step], today: date, last_day: date | None = None) -> Step | None:
    """The latest step that has started by ``today``; None before the first or after last_day."""
    if last_day is not None and today > last_day:
        return None
    started = [s for s in steps if s.starts_on <= today]
    return max(started, key=lambda s: s.starts_on) if started else None


def campaign_closing_steps(closes_on: date) -> list[Step]:
    return [
        Step("14-days-before", closes_on - timedelta(days=14)),
        Step("3-days-before", closes_on - timedelta(days=3)),
    ]


def campaign_closing_reminders(
    closes_on: date, today: date, organisations_not_submitted: Iterable[str]
) -> list[Reminder]:
    """One reminder per organisation that has not submitted, while the campaign is closing.

    ``organisations_not_submitted`` are target keys unique across campaigns (the return of each
    organisation, e.g. ``"return:42"``). Reminders run until the closing day itself, which is
    still on time; chasing late returns is a different message.
    """
    step = current_step(campaign_closing_steps(closes_on), today, last_day=closes_on)
    if step is None:
        return []
    keys = dict.fromkeys(organisations_not_submitted)  # once each, in the order given
    return [Reminder(ReminderKind.CAMPAIGN_CLOSING, key, closes_on, step.name, key) for key in keys]


def follow_up_steps(due_on: date, weekly_limit: int = WEEKLY_LIMIT) -> list[Step]:
    return [
        Step("30-days-before", due_on - timedelta(days=30)),
        Step("due-date", due_on),
        *(Step(f"overdue-{n}", due_on + timedelta(weeks=n)) for n in range(1, weekly_limit + 1)),
    ]


def follow_up_reminders(
    due_on: date,
    today: date,
    state: FollowUpState | FollowUpStatus,
    *,
    target_key: str,
    recipients_key: str | None = None,
    weekly_limit: int = WEEKLY_LIMIT,
) -> list[Reminder]:
    """The follow-up reminder due today, if any: 30 days before, on the due date, then weekly.

    Weekly reminders while overdue are steps ``overdue-1`` (a week after the due date) to
    ``overdue-{weekly_limit}``; after the last one, no more (the QA sub-group chases by other
    means). None once the follow-up is submitted, sent back for more information, or accepted.
    """
    status = state.status if isinstance(state, FollowUpState) else FollowUpStatus(state)
    if status in _SUBMITTED:
        return []
    step = current_step(follow_up_steps(due_on, weekly_limit), today)
    if step is None:
        return []
    return [
        Reminder(
            ReminderKind.FOLLOW_UP, target_key, due_on, step.name, recipients_key or target_key
        )
    ]


def challenge_deadline_steps(due_on: date) -> list[Step]:
    return [Step("7-days-before", due_on - timedelta(days=7)), Step("due-date", due_on)]


def challenge_deadline_reminders(
    due_on: date,
    today: date,
    submitted: bool,
    *,
    target_key: str,
    recipients_key: str | None = None,
) -> list[Reminder]:
    """The evidence-challenge reminder due today, if any: 7 days before and on the deadline."""
    if submitted:
        return []
    step = current_step(challenge_deadline_steps(due_on), today, last_day=due_on)
    if step is None:
        return []
    return [
        Reminder(
            ReminderKind.CHALLENGE_DEADLINE,
            target_key,
            due_on,
            step.name,
            recipients_key or target_key,
        )
    ]


def reminder_subject(organisation: str, what: str, due_on: date, today: date) -> str:
    """The subject line. ``what`` is a noun phrase without article: "six-month follow-up".

    The wording follows the dates on the day it is sent, not the step, because a reminder that
    caught up on a missed day must still tell the truth.
    """
    thing = f"the {what} for {organisation}"
    if today < due_on:
        return f"Reminder: {thing} is due by {long_date(due_on)}"
    if today == due_on:
        return f"Reminder: {thing} is due today"
    return f"Overdue: {thing} was due on {long_date(due_on)}"


def reminder_body(organisation: str, what: str, due_on: date, today: date, link: str) -> str:
    """The plain-text body: what is due and when, a direct link, and what to do if done."""
    thing = f"The {what} for {organisation}"
    if today < due_on:
        when = f"{thing} is due by {long_date(due_on)}."
    elif today == due_on:
        when = f"{thing} is due today, {long_date(due_on)}."
    else:
        when = f"{thing} was due on {long_date(due_on)} and is now overdue."
    return (
        f"{when}\n\n"
        f"You can complete it here (you will need to sign in):\n{link}\n\n"
        "If it has been submitted since this email was sent, you do not need to do anything.\n"
    )
