"""Follow-up rules: worked examples with real dates, then properties over any record and day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_portal.followups import add_months, follow_up_due
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

# A return submitted on 1 March 2026 with follow_up_months=6.
DUE = follow_up_due(date(2026, 3, 1), 6)
TODAY = date(2026, 5, 10)
SCALE = (1, 2, 3, 4)

dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
stages = st.sampled_from(list(FollowUpStage))


def state_on(day: date, stage: str = "open") -> FollowUpState:
    return follow_up_state(FollowUpRecord(DUE, FollowUpStage(stage)), day)


def test_due_six_months_after_submission() -> None:
    assert date(2026, 9, 1) == DUE


@pytest.mark.parametrize(
    ("day", "status", "days_until_due", "days_overdue"),
    [
        (date(2026, 8, 1), FollowUpStatus.NOT_YET_DUE, 31, 0),
        (date(2026, 8, 2), FollowUpStatus.DUE_SOON, 30, 0),
        (date(2026, 9, 1), FollowUpStatus.DUE_SOON, 0, 0),
        (date(2026, 9, 2), FollowUpStatus.OVERDUE, 0, 1),
        (date(2026, 10, 1), FollowUpStatus.OVERDUE, 0, 30),
    ],
)
def test_status_by_date(
    day: date, status: FollowUpStatus, days_until_due: int, days_overdue: int
) -> None:
    assert state_on(day) == FollowUpState(status, days_overdue, days_until_due, has_draft=False)


def test_a_draft_is_in_progress_until_it_is_overdue_and_then_overdue() -> None:
    before = state_on(date(2026, 8, 20), "draft")
    assert before == FollowUpState(FollowUpStatus.IN_PROGRESS, 0, 12, has_draft=True)
    assert before.label == "In progress"
    after = state_on(date(2026, 9, 3), "draft")
    assert after == FollowUpState(FollowUpStatus.OVERDUE, 2, 0, has_draft=True)
    assert after.label == "Overdue (in progress)"
    assert state_on(date(2026, 9, 3)).label == "Overdue"


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("submitted", FollowUpStatus.SUBMITTED),
        ("information_requested", FollowUpStatus.MORE_INFORMATION_REQUESTED),
        ("accepted", FollowUpStatus.ACCEPTED),
    ],
)
def test_submitted_stages_win_over_dates(stage: str, status: FollowUpStatus) -> None:
    for day in (date(2026, 3, 2), date(2026, 8, 20), date(2027, 3, 1)):
        assert state_on(day, stage) == FollowUpState(status, 0, 0)


def test_labels_and_tags() -> None:
    assert {s.value: (s.label, s.tag_class) for s in FollowUpStatus} == {
        "not_yet_due": ("Not yet due", "govuk-tag--grey"),
        "due_soon": ("Due soon", "govuk-tag--yellow"),
        "overdue": ("Overdue", "govuk-tag--red"),
        "in_progress": ("In progress", "govuk-tag--blue"),
        "submitted": ("Submitted", "govuk-tag--purple"),
        "more_information_requested": ("More information requested", "govuk-tag--orange"),
        "accepted": ("Accepted", "govuk-tag--green"),
    }
    assert [p.label for p in ActionProgress] == ["Not started", "In progress", "Complete"]


def test_a_record_takes_the_stored_text_and_refuses_unknown_stages() -> None:
    assert FollowUpRecord(DUE, "draft").stage is FollowUpStage.DRAFT  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'finished'"):
        FollowUpRecord(DUE, "finished")  # type: ignore[arg-type]


def test_due_soon_window_can_be_changed() -> None:
    record = FollowUpRecord(DUE, FollowUpStage.OPEN)
    assert follow_up_state(record, date(2026, 8, 2), due_soon_days=14).status == "not_yet_due"
    assert follow_up_state(record, date(2026, 8, 18), due_soon_days=14).status == "due_soon"


@pytest.mark.parametrize(
    ("less_effective", "actions", "expected"),
    [((), 0, False), (("s11.1.2",), 0, True), ((), 1, True), (("s11.1.2", "s11.3.1"), 2, True)],
)
def test_needs_follow_up(less_effective: tuple[str, ...], actions: int, expected: bool) -> None:
    assert needs_follow_up(less_effective, actions) is expected


def test_due_from_the_accepted_submission_not_the_first() -> None:
    # Submitted 1 March, returned for amendment, resubmitted 20 March, accepted 25 March.
    submissions = [date(2026, 3, 1), date(2026, 3, 20)]
    assert follow_up_due_from(submissions, date(2026, 3, 25), 6) == date(2026, 9, 20)
    # Not yet accepted: the latest submission, in whatever order the dates come.
    assert follow_up_due_from(submissions[::-1], None, 6) == date(2026, 9, 20)
    # Accepted, then reopened and resubmitted: the accepted version still sets the clock.
    later = [*submissions, date(2026, 5, 4)]
    assert follow_up_due_from(later, date(2026, 3, 25), 6) == date(2026, 9, 20)
    # Accepted on the day it was submitted.
    assert follow_up_due_from([date(2026, 3, 1)], date(2026, 3, 1), 6) == date(2026, 9, 1)
    assert follow_up_due_from([], None, 6) is None


def test_due_from_refuses_an_acceptance_before_any_submission() -> None:
    with pytest.raises(ValueError, match="No submission on or before"):
        follow_up_due_from([date(2026, 3, 1)], date(2026, 2, 1), 6)


def test_follow_up_due_keeps_month_ends() -> None:
    assert follow_up_due_from([date(2026, 8, 31)], None, 6) == add_months(date(2026, 8, 31), 6)
    assert follow_up_due_from([date(2026, 8, 31)], None, 6) == date(2027, 2, 28)


# --- action updates -------------------------------------------------------------------------


def check(final: bool, **changes: object) -> dict[str, str]:
    values: dict[str, object] = {
        "progress": "in_progress",
        "narrative": "New training log in place for all staff.",
        "revised_rating": 3,
        "new_target_date": TODAY + timedelta(days=60),
    }
    values.update(changes)
    return validate_action_update(
        values["progress"],  # type: ignore[arg-type]
        values["narrative"],  # type: ignore[arg-type]
        values["revised_rating"],  # type: ignore[arg-type]
        SCALE,
        values["new_target_date"],  # type: ignore[arg-type]
        TODAY,
        final=final,
    )


def test_a_complete_update_passes_both_checks() -> None:
    assert check(final=False) == {}
    assert check(final=True) == {}
    assert check(final=True, progress="complete", new_target_date=None) == {}


def test_an_empty_draft_can_be_saved_but_not_submitted() -> None:
    empty = {"progress": None, "narrative": "", "revised_rating": None, "new_target_date": None}
    assert check(final=False, **empty) == {}
    assert check(final=True, **empty) == {
        "progress": "Choose the progress of this action",
        "narrative": "Enter an update on this action",
        "revised_rating": "Choose a revised rating for this item",
    }


def test_a_new_target_date_is_needed_unless_complete() -> None:
    for progress in ("not_started", "in_progress"):
        assert check(final=True, progress=progress, new_target_date=None) == {
            "new_target_date": "Enter a new target date"
        }
        assert check(final=False, progress=progress, new_target_date=None) == {}


def test_well_formedness_is_checked_on_save() -> None:
    assert check(
        final=False,
        progress="done",
        narrative="x" * 5001,
        revised_rating=9,
        new_target_date=TODAY - timedelta(days=1),
    ) == {
        "progress": "Choose the progress of this action",
        "narrative": "The update must be 5,000 characters or less",
        "revised_rating": "Choose a rating from the list",
        "new_target_date": "Enter a new target date in the future",
    }
    assert check(final=False, narrative="x" * 5000, new_target_date=TODAY) == {}


def test_a_blank_narrative_is_not_an_update() -> None:
    assert check(final=True, narrative="  \n ") == {"narrative": "Enter an update on this action"}


def test_a_past_date_is_ignored_when_the_action_is_complete() -> None:
    assert check(final=True, progress="complete", new_target_date=TODAY - timedelta(days=3)) == {}


# --- properties ------------------------------------------------------------------------------


@given(dates, dates, stages, st.integers(min_value=0, max_value=90))
def test_state_is_a_function_of_its_inputs(
    due: date, today: date, stage: FollowUpStage, window: int
) -> None:
    first = follow_up_state(FollowUpRecord(due, stage), today, window)
    again = follow_up_state(FollowUpRecord(due, FollowUpStage(stage.value)), today, window)
    assert first == again


@given(dates, dates, stages)
def test_every_day_has_exactly_one_consistent_state(
    due: date, today: date, stage: FollowUpStage
) -> None:
    state = follow_up_state(FollowUpRecord(due, stage), today)
    assert isinstance(state.status, FollowUpStatus)
    days_left = (due - today).days
    # Exactly one of the date conditions that can apply to an unsubmitted follow-up holds.
    if stage in (FollowUpStage.OPEN, FollowUpStage.DRAFT):
        expected = (
            FollowUpStatus.OVERDUE
            if days_left < 0
            else FollowUpStatus.IN_PROGRESS
            if stage is FollowUpStage.DRAFT
            else FollowUpStatus.DUE_SOON
            if days_left <= 30
            else FollowUpStatus.NOT_YET_DUE
        )
        assert state.status is expected
        assert state.days_overdue == max(0, -days_left)
        assert state.days_until_due == max(0, days_left)
    else:
        assert (state.days_overdue, state.days_until_due) == (0, 0)
    assert (state.days_overdue > 0) == (state.status is FollowUpStatus.OVERDUE)
    assert state.has_draft == (stage is FollowUpStage.DRAFT)


@given(dates, stages)
def test_over_time_a_follow_up_never_becomes_less_urgent(due: date, stage: FollowUpStage) -> None:
    order = [
        FollowUpStatus.NOT_YET_DUE,
        FollowUpStatus.DUE_SOON,
        FollowUpStatus.IN_PROGRESS,
        FollowUpStatus.OVERDUE,
    ]
    seen = [
        follow_up_state(FollowUpRecord(due, stage), due + timedelta(days=d)).status
        for d in range(-40, 10)
    ]
    ranks = [order.index(s) for s in seen if s in order]
    assert ranks == sorted(ranks)


@given(
    st.lists(dates, min_size=1, max_size=5),
    st.one_of(st.none(), dates),
    st.integers(min_value=1, max_value=24),
)
def test_due_date_is_never_before_the_first_submission_plus_the_interval(
    submissions: list[date], accepted_on: date | None, months: int
) -> None:
    if accepted_on is not None and accepted_on < min(submissions):
        return
    due = follow_up_due_from(submissions, accepted_on, months)
    assert due is not None
    assert due >= follow_up_due(min(submissions), months)
    assert due <= follow_up_due(max(submissions), months)
