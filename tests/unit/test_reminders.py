"""Reminder schedules: worked examples, then a year of daily runs collected by unique key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from audit_portal.followups.reminders import (
    Reminder,
    ReminderKind,
    campaign_closing_reminders,
    challenge_deadline_reminders,
    follow_up_reminders,
    long_date,
    reminder_body,
    reminder_subject,
)
from audit_portal.followups.rules import (
    FollowUpRecord,
    FollowUpStage,
    FollowUpStatus,
    follow_up_state,
)

CLOSES = date(2026, 7, 17)
DUE = date(2026, 9, 1)
LINK = "https://audit.example.org/follow-ups/7"

dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=n) for n in range(count)]


def steps(reminders: list[Reminder]) -> list[str]:
    return [r.step for r in reminders]


def follow_up_on(today: date, stage: str = "open", due: date = DUE) -> list[Reminder]:
    state = follow_up_state(FollowUpRecord(due, FollowUpStage(stage)), today)
    return follow_up_reminders(due, today, state, target_key="follow-up:7")


# --- campaign closing -----------------------------------------------------------------------


def test_campaign_closing_steps_by_day() -> None:
    orgs = ["return:1", "return:2"]
    assert campaign_closing_reminders(CLOSES, date(2026, 7, 2), orgs) == []
    on_day_14 = campaign_closing_reminders(CLOSES, date(2026, 7, 3), orgs)
    assert on_day_14 == [
        Reminder(ReminderKind.CAMPAIGN_CLOSING, "return:1", CLOSES, "14-days-before", "return:1"),
        Reminder(ReminderKind.CAMPAIGN_CLOSING, "return:2", CLOSES, "14-days-before", "return:2"),
    ]
    assert (
        steps(campaign_closing_reminders(CLOSES, date(2026, 7, 13), orgs)) == ["14-days-before"] * 2
    )
    assert (
        steps(campaign_closing_reminders(CLOSES, date(2026, 7, 14), orgs)) == ["3-days-before"] * 2
    )
    assert steps(campaign_closing_reminders(CLOSES, CLOSES, orgs)) == ["3-days-before"] * 2
    assert campaign_closing_reminders(CLOSES, date(2026, 7, 18), orgs) == []


def test_a_missed_14_day_reminder_is_not_sent_on_day_2() -> None:
    late = campaign_closing_reminders(CLOSES, CLOSES - timedelta(days=2), ["return:1"])
    assert steps(late) == ["3-days-before"]


def test_each_organisation_once_and_none_when_all_submitted() -> None:
    assert len(campaign_closing_reminders(CLOSES, date(2026, 7, 5), ["return:1"] * 3)) == 1
    assert campaign_closing_reminders(CLOSES, date(2026, 7, 5), []) == []


def test_unique_key_names_kind_target_deadline_and_step() -> None:
    (reminder,) = campaign_closing_reminders(CLOSES, date(2026, 7, 5), ["return:1"])
    assert reminder.unique_key == "campaign-closing:return:1:2026-07-17:14-days-before"


# --- follow-ups -----------------------------------------------------------------------------


def test_follow_up_steps_by_day() -> None:
    assert follow_up_on(date(2026, 8, 1)) == []
    assert follow_up_on(date(2026, 8, 2)) == [
        Reminder(ReminderKind.FOLLOW_UP, "follow-up:7", DUE, "30-days-before", "follow-up:7")
    ]
    assert steps(follow_up_on(date(2026, 8, 31))) == ["30-days-before"]
    assert steps(follow_up_on(DUE)) == ["due-date"]
    assert steps(follow_up_on(date(2026, 9, 7))) == ["due-date"]
    assert steps(follow_up_on(date(2026, 9, 8))) == ["overdue-1"]
    assert steps(follow_up_on(date(2026, 9, 15), "draft")) == ["overdue-2"]
    assert steps(follow_up_on(date(2026, 10, 13))) == ["overdue-6"]
    assert steps(follow_up_on(date(2027, 3, 1))) == ["overdue-6"]  # deduplicated by key


def test_no_follow_up_reminder_once_submitted() -> None:
    for stage in ("submitted", "information_requested", "accepted"):
        for day in (date(2026, 8, 10), DUE, date(2026, 9, 20)):
            assert follow_up_on(day, stage) == []


def test_follow_up_reminders_go_to_the_named_recipients() -> None:
    state = follow_up_state(FollowUpRecord(DUE, FollowUpStage.OPEN), DUE)
    (reminder,) = follow_up_reminders(
        DUE, DUE, state, target_key="follow-up:7", recipients_key="organisation:3"
    )
    assert reminder.recipients_key == "organisation:3"
    assert reminder.unique_key == "follow-up:follow-up:7:2026-09-01:due-date"


def test_weekly_limit() -> None:
    state = follow_up_state(FollowUpRecord(DUE, FollowUpStage.OPEN), date(2026, 12, 1))
    found = {
        r.step
        for day in days(DUE, 120)
        for r in follow_up_reminders(DUE, day, state.status, target_key="f", weekly_limit=2)
    }
    assert found == {"due-date", "overdue-1", "overdue-2"}


# --- evidence challenges --------------------------------------------------------------------


def test_challenge_deadline_steps() -> None:
    due = date(2026, 11, 20)

    def on(day: date, submitted: bool = False) -> list[str]:
        return steps(challenge_deadline_reminders(due, day, submitted, target_key="challenge:4"))

    assert on(date(2026, 11, 12)) == []
    assert on(date(2026, 11, 13)) == ["7-days-before"]
    assert on(date(2026, 11, 19)) == ["7-days-before"]
    assert on(due) == ["due-date"]
    assert on(date(2026, 11, 21)) == []
    assert on(date(2026, 11, 15), submitted=True) == []


# --- wording --------------------------------------------------------------------------------


def test_long_date() -> None:
    assert long_date(date(2026, 9, 1)) == "1 September 2026"
    assert long_date(date(2027, 12, 25)) == "25 December 2027"


def test_subject_follows_the_day_it_is_sent() -> None:
    args = ("Oakfield Primary School", "six-month follow-up", DUE)
    assert (
        reminder_subject(*args, date(2026, 8, 2))
        == "Reminder: the six-month follow-up for Oakfield Primary School is due by 1 September 2026"
    )
    assert (
        reminder_subject(*args, DUE)
        == "Reminder: the six-month follow-up for Oakfield Primary School is due today"
    )
    assert (
        reminder_subject(*args, date(2026, 9, 8))
        == "Overdue: the six-month follow-up for Oakfield Primary School was due on 1 September 2026"
    )


def test_body_text() -> None:
    body = reminder_body(
        "Oakfield Primary School", "six-month follow-up", DUE, date(2026, 9, 8), LINK
    )
    assert body == (
        "The six-month follow-up for Oakfield Primary School was due on 1 September 2026 "
        "and is now overdue.\n\n"
        "You can complete it here (you will need to sign in):\n"
        "https://audit.example.org/follow-ups/7\n\n"
        "If it has been submitted since this email was sent, you do not need to do anything.\n"
    )
    before = reminder_body("Oakfield Primary School", "Section 175 return", DUE, DUE, LINK)
    assert before.startswith(
        "The Section 175 return for Oakfield Primary School is due today, 1 September 2026.\n"
    )


# --- properties: a year of daily runs --------------------------------------------------------

FOLLOW_UP_ORDER = ["30-days-before", "due-date", *(f"overdue-{n}" for n in range(1, 7))]


def run_every_day(
    start: date, schedule: Callable[[date], list[Reminder]]
) -> tuple[list[tuple[date, Reminder]], dict[str, tuple[date, Reminder]]]:
    """Run daily for a year; queue a reminder only if its key is new (as the command will)."""
    emitted: list[tuple[date, Reminder]] = []
    queued: dict[str, tuple[date, Reminder]] = {}
    for day in days(start, 366):
        for reminder in schedule(day):
            emitted.append((day, reminder))
            queued.setdefault(reminder.unique_key, (day, reminder))
    return emitted, queued


def follow_up_step_start(due: date, step: str) -> date:
    if step == "30-days-before":
        return due - timedelta(days=30)
    if step == "due-date":
        return due
    return due + timedelta(weeks=int(step.removeprefix("overdue-")))


@settings(max_examples=40, deadline=None)
@given(
    dates,
    st.integers(min_value=-120, max_value=200),
    st.one_of(st.none(), st.integers(min_value=0, max_value=365)),
    st.frozensets(st.integers(min_value=0, max_value=365)),
)
def test_a_year_of_follow_up_runs_sends_each_step_at_most_once(
    start: date, due_offset: int, submitted_after: int | None, missed: frozenset[int]
) -> None:
    due = start + timedelta(days=due_offset)
    submitted_on = None if submitted_after is None else start + timedelta(days=submitted_after)

    def schedule(day: date) -> list[Reminder]:
        if (day - start).days in missed:
            return []  # the command did not run that day
        saved = "draft" if day >= due - timedelta(days=10) else "open"
        stage = "submitted" if submitted_on is not None and day >= submitted_on else saved
        state = follow_up_state(FollowUpRecord(due, FollowUpStage(stage)), day)
        return follow_up_reminders(due, day, state, target_key="follow-up:1")

    emitted, queued = run_every_day(start, schedule)
    queued_steps = [r.step for _, r in queued.values()]
    # Each step at most once, in schedule order, each on or after the day it starts.
    assert len(queued_steps) == len(set(queued_steps))
    assert queued_steps == sorted(queued_steps, key=FOLLOW_UP_ORDER.index)
    for day, reminder in queued.values():
        assert day >= follow_up_step_start(due, reminder.step)
    # Never a reminder on or after the day it was submitted.
    if submitted_on is not None:
        assert all(day < submitted_on for day, _ in emitted)
    # Without missed days or a submission, a whole schedule in range is sent in full.
    whole_year = (
        due - timedelta(days=30) >= start and due + timedelta(weeks=6) <= days(start, 366)[-1]
    )
    if not missed and submitted_on is None and whole_year:
        assert queued_steps == FOLLOW_UP_ORDER


@settings(max_examples=40, deadline=None)
@given(
    dates,
    st.integers(min_value=-30, max_value=200),
    st.frozensets(st.integers(min_value=0, max_value=365)),
)
def test_a_year_of_campaign_runs_sends_each_step_once_per_organisation(
    start: date, close_offset: int, missed: frozenset[int]
) -> None:
    closes = start + timedelta(days=close_offset)
    submits = {"return:1": None, "return:2": closes - timedelta(days=5)}

    def schedule(day: date) -> list[Reminder]:
        if (day - start).days in missed:
            return []
        waiting = [k for k, on in submits.items() if on is None or day < on]
        return campaign_closing_reminders(closes, day, waiting)

    emitted, queued = run_every_day(start, schedule)
    assert all(day <= closes for day, _ in emitted)
    per_target: dict[str, list[str]] = {}
    for _, reminder in queued.values():
        per_target.setdefault(reminder.target_key, []).append(reminder.step)
    for found in per_target.values():
        assert found in (["14-days-before"], ["3-days-before"], ["14-days-before", "3-days-before"])
    submitted_on = submits["return:2"]
    assert submitted_on is not None
    assert all(day < submitted_on for day, r in emitted if r.target_key == "return:2")
    if not missed and closes - timedelta(days=14) >= start:
        assert per_target["return:1"] == ["14-days-before", "3-days-before"]


@settings(max_examples=40, deadline=None)
@given(dates, st.integers(min_value=-30, max_value=200), st.booleans())
def test_a_year_of_challenge_runs(start: date, due_offset: int, submit: bool) -> None:
    due = start + timedelta(days=due_offset)
    submitted_on = due - timedelta(days=3) if submit else None

    def schedule(day: date) -> list[Reminder]:
        done = submitted_on is not None and day >= submitted_on
        return challenge_deadline_reminders(due, day, done, target_key="challenge:1")

    emitted, queued = run_every_day(start, schedule)
    found = [r.step for _, r in queued.values()]
    assert found in ([], ["7-days-before"], ["due-date"], ["7-days-before", "due-date"])
    assert all(day <= due for day, _ in emitted)
    if submitted_on is not None:
        assert all(day < submitted_on for day, _ in emitted)


@given(dates, dates, st.integers(min_value=1, max_value=400))
def test_unique_keys_differ_when_the_due_date_changes(day: date, due: date, shift: int) -> None:
    moved = due + timedelta(days=shift)
    for make in (
        lambda d: follow_up_reminders(d, day, FollowUpStatus.IN_PROGRESS, target_key="follow-up:1"),
        lambda d: challenge_deadline_reminders(d, day, False, target_key="challenge:1"),
        lambda d: campaign_closing_reminders(d, day, ["return:1"]),
    ):
        before = {r.unique_key for r in make(due)}
        after = {r.unique_key for r in make(moved)}
        assert not before & after


@given(st.sampled_from(list(ReminderKind)), dates, dates)
def test_unique_key_is_the_same_for_the_same_reminder_only(
    kind: ReminderKind, due: date, other: date
) -> None:
    reminder = Reminder(kind, "return:1", due, "due-date", "return:1")
    assert reminder.unique_key == Reminder(kind, "return:1", due, "due-date", "x").unique_key
    if other != due:
        assert reminder.unique_key != Reminder(kind, "return:1", other, "due-date", "x").unique_key
    assert reminder.unique_key != Reminder(kind, "return:2", due, "due-date", "x").unique_key
    assert reminder.unique_key != Reminder(kind, "return:1", due, "overdue-1", "x").unique_key
