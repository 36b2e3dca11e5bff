"""What the retention policy says is past its time on a given day: plain rules over plain facts.

UK GDPR's storage limitation principle: personal data is kept no longer than the purpose needs.
The partnership's policy, in four periods (settings ``RETENTION_*``):

- Campaign records, ``campaign_years`` after a campaign closes (default 6: the usual retention
  of audit and assurance records in local authority schedules, long enough for several
  year-on-year comparisons and any inspection that looks back). Then the evidence files used
  in it are deleted, and the free text people wrote in its working records is cleared.
- A disabled account, ``account_years`` after it was disabled (default 2): anonymised.
- Sign-in records (failed sign-ins, password-reset requests, browser sessions), ``sign_in_days``
  after their last use (default 90: long enough to look into a suspicious sign-in).
- Emails sent (or given up), ``email_days`` after they were written (default 365: a year of
  "was the reminder sent?").

Nothing here reads the database or the clock: the caller gathers the facts and says what day it
is, so every rule is tested with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from audit_portal.config import Settings

CLOSED = "closed"


@dataclass(frozen=True)
class RetentionPolicy:
    campaign_years: int = 6
    account_years: int = 2
    sign_in_days: int = 90
    email_days: int = 365

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            campaign_years=settings.retention_campaign_years,
            account_years=settings.retention_account_years,
            sign_in_days=settings.retention_sign_in_days,
            email_days=settings.retention_email_days,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "campaign_years": self.campaign_years,
            "account_years": self.account_years,
            "sign_in_days": self.sign_in_days,
            "email_days": self.email_days,
        }


@dataclass(frozen=True)
class CampaignFacts:
    id: int
    title: str
    status: str
    closes_on: date  # the planned closing date
    closed_on: date | None = None  # the day it was actually closed, when recorded


@dataclass(frozen=True)
class FileFacts:
    id: int
    uploaded_on: date
    campaign_ids: frozenset[int]  # every campaign whose evidence challenges use the file


@dataclass(frozen=True)
class AccountFacts:
    id: int
    is_active: bool
    anonymised: bool
    disabled_on: date | None  # the last time it was disabled, from the audit trail
    last_seen_on: date  # its last sign-in, or when it was created


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def closed_on(campaign: CampaignFacts) -> date | None:
    """The day a campaign's retention starts: it closed (planned or actual, the later); None
    while it is not closed, since a draft or open campaign's records are still in use."""
    if campaign.status != CLOSED:
        return None
    return max(campaign.closes_on, campaign.closed_on or campaign.closes_on)


def campaign_past_its_time(policy: RetentionPolicy, campaign: CampaignFacts, today: date) -> bool:
    closed = closed_on(campaign)
    return closed is not None and today >= years_after(closed, policy.campaign_years)


def file_past_its_time(
    policy: RetentionPolicy, file: FileFacts, expired_campaigns: frozenset[int], today: date
) -> bool:
    """A file is kept while any campaign using it is; one used nowhere, for as long from its
    upload (the same file may be offered again in a later campaign, and is one stored file)."""
    if file.campaign_ids:
        return file.campaign_ids <= expired_campaigns
    return today >= years_after(file.uploaded_on, policy.campaign_years)


def account_past_its_time(policy: RetentionPolicy, account: AccountFacts, today: date) -> bool:
    """Disabled long enough and not anonymised yet; an account disabled before the audit trail
    recorded it counts from its last sign-in (or creation)."""
    if account.is_active or account.anonymised:
        return False
    since = account.disabled_on or account.last_seen_on
    return today >= years_after(since, policy.account_years)


@dataclass(frozen=True)
class Plan:
    """What the policy removes today: expired campaigns, files and accounts (ids), and the
    moments before which sign-in records and sent emails go."""

    campaigns: list[CampaignFacts]
    files: list[int]
    accounts: list[int]
    sign_in_before: datetime
    emails_before: datetime

    @property
    def campaign_ids(self) -> list[int]:
        return [c.id for c in self.campaigns]


def plan(
    policy: RetentionPolicy,
    today: date,
    now: datetime,
    campaigns: Iterable[CampaignFacts],
    files: Iterable[FileFacts],
    accounts: Iterable[AccountFacts],
) -> Plan:
    expired = [c for c in campaigns if campaign_past_its_time(policy, c, today)]
    expired_ids = frozenset(c.id for c in expired)
    return Plan(
        campaigns=sorted(expired, key=lambda c: (c.closes_on, c.id)),
        files=sorted(f.id for f in files if file_past_its_time(policy, f, expired_ids, today)),
        accounts=sorted(a.id for a in accounts if account_past_its_time(policy, a, today)),
        sign_in_before=now - timedelta(days=policy.sign_in_days),
        emails_before=now - timedelta(days=policy.email_days),
    )
