"""Campaign progress counts the returns a reminder can still help, whatever the date."""

from __future__ import annotations

from datetime import date

from audit_portal.models import ReturnStatus
from audit_portal.returns.progress import ReturnRow, campaign_progress


def rows(*statuses: ReturnStatus) -> list[ReturnRow]:
    return [ReturnRow(n, f"School {n}", "school", "North", s) for n, s in enumerate(statuses)]


def test_returns_in_progress_or_sent_back_still_count_as_not_submitted_before_the_deadline() -> (
    None
):
    progress = campaign_progress(
        rows(
            ReturnStatus.IN_PROGRESS,
            ReturnStatus.RETURNED,
            ReturnStatus.SUBMITTED,
            ReturnStatus.ACCEPTED,
        ),
        closes_on=date(2027, 3, 31),
        today=date(2027, 1, 10),
    )
    assert progress.outstanding == [], "nobody is late and everyone has started"
    assert progress.not_submitted == 2
    assert progress.response_rate == 50


def test_nothing_is_left_to_remind_once_every_return_is_in() -> None:
    progress = campaign_progress(
        rows(ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED), date(2027, 3, 31), date(2027, 4, 2)
    )
    assert progress.not_submitted == 0
