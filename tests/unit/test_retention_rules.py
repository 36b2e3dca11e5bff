"""The retention rules over plain facts: which campaigns, files and accounts are past their time,
to the day, and the cut-off moments for sign-in records and emails."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from audit_portal.config import ConfigError, Settings
from audit_portal.retention.rules import (
    AccountFacts,
    CampaignFacts,
    FileFacts,
    RetentionPolicy,
    account_past_its_time,
    campaign_past_its_time,
    file_past_its_time,
    plan,
    years_after,
)

POLICY = RetentionPolicy(campaign_years=6, account_years=2, sign_in_days=90, email_days=365)


def campaign(
    id: int, status: str = "closed", closes_on: date = date(2019, 3, 31), **kw: date
) -> CampaignFacts:
    return CampaignFacts(id=id, title=f"Campaign {id}", status=status, closes_on=closes_on, **kw)


def account(**kw: object) -> AccountFacts:
    facts = {
        "id": 1,
        "is_active": False,
        "anonymised": False,
        "disabled_on": date(2024, 5, 1),
        "last_seen_on": date(2023, 1, 1),
    }
    return AccountFacts(**(facts | kw))  # type: ignore[arg-type]


def test_years_after_keeps_the_day_and_moves_29_february_to_the_28th() -> None:
    assert years_after(date(2019, 3, 31), 6) == date(2025, 3, 31)
    assert years_after(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert years_after(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_a_closed_campaign_expires_on_the_anniversary_of_its_closing_not_a_day_before() -> None:
    closed = campaign(1)
    assert not campaign_past_its_time(POLICY, closed, date(2025, 3, 30))
    assert campaign_past_its_time(POLICY, closed, date(2025, 3, 31))


def test_a_campaign_closed_late_counts_from_the_day_it_actually_closed() -> None:
    late = campaign(1, closed_on=date(2019, 6, 1))
    assert not campaign_past_its_time(POLICY, late, date(2025, 5, 31))
    assert campaign_past_its_time(POLICY, late, date(2025, 6, 1))
    early = campaign(2, closed_on=date(2019, 1, 1))  # closed early: the planned date still counts
    assert not campaign_past_its_time(POLICY, early, date(2025, 3, 30))


def test_draft_and_open_campaigns_never_expire_however_old() -> None:
    for status in ("draft", "open"):
        assert not campaign_past_its_time(POLICY, campaign(1, status), date(2090, 1, 1))


def test_a_file_goes_only_when_every_campaign_using_it_has_expired() -> None:
    today = date(2030, 1, 1)
    only_old = FileFacts(1, date(2019, 2, 1), frozenset({1}))
    shared = FileFacts(2, date(2019, 2, 1), frozenset({1, 2}))
    assert file_past_its_time(POLICY, only_old, frozenset({1}), today)
    assert not file_past_its_time(POLICY, shared, frozenset({1}), today)
    assert file_past_its_time(POLICY, shared, frozenset({1, 2}), today)


def test_a_file_used_nowhere_counts_from_its_upload() -> None:
    unused = FileFacts(3, date(2020, 7, 1), frozenset())
    assert not file_past_its_time(POLICY, unused, frozenset(), date(2026, 6, 30))
    assert file_past_its_time(POLICY, unused, frozenset(), date(2026, 7, 1))


def test_a_disabled_account_is_anonymised_two_years_after_it_was_disabled() -> None:
    assert not account_past_its_time(POLICY, account(), date(2026, 4, 30))
    assert account_past_its_time(POLICY, account(), date(2026, 5, 1))


def test_active_and_already_anonymised_accounts_are_left_alone() -> None:
    assert not account_past_its_time(POLICY, account(is_active=True), date(2090, 1, 1))
    assert not account_past_its_time(POLICY, account(anonymised=True), date(2090, 1, 1))


def test_an_account_disabled_without_a_record_counts_from_when_it_was_last_seen() -> None:
    unrecorded = account(disabled_on=None, last_seen_on=date(2023, 1, 1))
    assert not account_past_its_time(POLICY, unrecorded, date(2024, 12, 31))
    assert account_past_its_time(POLICY, unrecorded, date(2025, 1, 1))


def test_the_plan_lists_exactly_what_is_past_its_time() -> None:
    now = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    campaigns = [
        campaign(1, closes_on=date(2019, 3, 31)),
        campaign(2, closes_on=date(2021, 3, 31)),  # five years ago: kept
        campaign(3, status="open", closes_on=date(2018, 3, 31)),  # never closed: kept
        campaign(4, closes_on=date(2018, 7, 1)),
    ]
    files = [
        FileFacts(10, date(2019, 2, 1), frozenset({1})),
        FileFacts(11, date(2019, 2, 1), frozenset({1, 2})),
        FileFacts(12, date(2018, 5, 1), frozenset({3})),
        FileFacts(13, date(2018, 5, 1), frozenset({4, 1})),
    ]
    accounts = [account(id=5), account(id=6, disabled_on=date(2025, 1, 1)), account(id=7)]
    due = plan(POLICY, now.date(), now, campaigns, files, accounts)
    assert due.campaign_ids == [4, 1]  # oldest first
    assert due.files == [10, 13]
    assert due.accounts == [5, 7]
    assert due.sign_in_before == now - timedelta(days=90)
    assert due.emails_before == now - timedelta(days=365)


def test_the_policy_comes_from_the_settings(tmp_path: Path) -> None:
    env = {
        "AUDIT_PORTAL_ENV": "test",
        "SECRET_KEY": "x" * 40,
        "AUDIT_PORTAL_VAR_DIR": str(tmp_path),
        "RETENTION_CAMPAIGN_YEARS": "10",
        "RETENTION_ACCOUNT_YEARS": "3",
        "RETENTION_SIGN_IN_DAYS": "30",
        "RETENTION_EMAIL_DAYS": "60",
    }
    policy = RetentionPolicy.from_settings(Settings.from_env(env))
    assert policy == RetentionPolicy(10, 3, 30, 60)
    defaults = {k: v for k, v in env.items() if not k.startswith("RETENTION_")}
    assert RetentionPolicy.from_settings(Settings.from_env(defaults)) == RetentionPolicy(
        6, 2, 90, 365
    )


def test_a_sign_in_period_shorter_than_a_session_can_live_is_refused(tmp_path: Path) -> None:
    env = {"SECRET_KEY": "x" * 40, "AUDIT_PORTAL_VAR_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match="RETENTION_SIGN_IN_DAYS must be between 15 and 3650"):
        Settings.from_env(env | {"RETENTION_SIGN_IN_DAYS": "7"})
