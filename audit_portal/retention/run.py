"""Applying the retention policy to the database and the evidence store (or saying what it would).

One write transaction does everything the policy says and records one ``retention.run`` event in
the audit trail with the counts and ids; the stored evidence files are deleted after it commits
(deleting them first would leave rows naming missing files if the transaction failed). A dry
run counts the same rows in a read transaction and changes nothing.

What it leaves alone, on purpose:

- The audit trail: append-only, and the database refuses to change it (``audit.triggers``).
- Frozen records: signed submissions and follow-ups, sent feedback letters (the triggers again).
  They are what was signed or sent, and the reports read them.
- Ratings, statuses, outcomes, dates and the typed answer rows: every report figure comes from
  these, so a report is the same before and after. Only free text and files go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, delete, select, update

from audit_portal import clock
from audit_portal.accounts.users import new_stamp
from audit_portal.audit import AuditContext, record
from audit_portal.challenges.files import evidence_storage, storage_key
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import (
    Answer,
    AuditEvent,
    Campaign,
    ChallengedItem,
    EmailStatus,
    EvidenceChallenge,
    EvidenceFile,
    EvidencePiece,
    FollowUp,
    FollowUpUpdate,
    OutboxEmail,
    Return,
    SignInAttempt,
    User,
    WebSession,
)
from audit_portal.retention.rules import (
    AccountFacts,
    CampaignFacts,
    FileFacts,
    Plan,
    RetentionPolicy,
    closed_on,
    plan,
)
from audit_portal.wording import counted, long_date

ANONYMISED_DOMAIN = "anonymised.invalid"  # .invalid never resolves: no email can reach it
ANONYMISED_NAME = "Anonymised account"
FINISHED_EMAILS = (EmailStatus.SENT.value, EmailStatus.FAILED.value, EmailStatus.OUTBOX.value)
NO_SYNC = {"synchronize_session": False}  # bulk changes: no loaded objects to keep in step


@dataclass(frozen=True)
class CampaignCleared:
    campaign: CampaignFacts
    answers: int
    follow_up_updates: int
    explanations: int


@dataclass
class RetentionRun:
    policy: RetentionPolicy
    dry_run: bool
    campaigns: list[CampaignCleared] = field(default_factory=list)
    evidence_files: int = 0
    evidence_bytes: int = 0
    accounts: int = 0
    sign_in_attempts: int = 0
    sessions: int = 0
    emails: int = 0
    problems: list[str] = field(default_factory=list)  # stored files that could not be deleted

    def counts(self) -> dict[str, int]:
        return {
            "campaigns": len(self.campaigns),
            "evidence_files": self.evidence_files,
            "answers": sum(c.answers for c in self.campaigns),
            "follow_up_updates": sum(c.follow_up_updates for c in self.campaigns),
            "explanations": sum(c.explanations for c in self.campaigns),
            "accounts": self.accounts,
            "sign_in_attempts": self.sign_in_attempts,
            "sessions": self.sessions,
            "emails": self.emails,
        }

    @property
    def nothing(self) -> bool:
        return not any(self.counts().values())

    def report(self) -> list[str]:
        """What was done (or would be), in plain English, with counts."""
        p = self.policy
        lines = [
            f"Retention policy: campaign records {counted(p.campaign_years, 'year')} after the "
            f"campaign closes; disabled accounts {counted(p.account_years, 'year')}; sign-in "
            f"records {counted(p.sign_in_days, 'day')}; emails {counted(p.email_days, 'day')}."
        ]
        if self.nothing:
            return [*lines, "Nothing is past its time: nothing to delete or anonymise."]
        delete, clear, anonymise = (
            ("Would delete", "Would clear", "Would anonymise")
            if self.dry_run
            else ("Deleted", "Cleared", "Anonymised")
        )
        if self.campaigns:
            lines.append(
                f"{counted(len(self.campaigns), 'campaign')} closed more than "
                f"{counted(p.campaign_years, 'year')} ago:"
            )
            for c in self.campaigns:
                closed = closed_on(c.campaign) or c.campaign.closes_on
                lines.append(
                    f"  {c.campaign.title} (closed {long_date(closed)}): "
                    f"{clear.lower()} the free text of {counted(c.answers, 'answer')}, "
                    f"{counted(c.follow_up_updates, 'follow-up update')} and "
                    f"{counted(c.explanations, 'evidence explanation')}"
                )
        if self.evidence_files:
            lines.append(
                f"{delete} {counted(self.evidence_files, 'evidence file')} "
                f"({_size(self.evidence_bytes)}) used only in campaigns closed more than "
                f"{counted(p.campaign_years, 'year')} ago, or uploaded that long ago and unused."
            )
        if self.accounts:
            lines.append(
                f"{anonymise} {counted(self.accounts, 'account')} disabled for "
                f"{counted(p.account_years, 'year')} or more (name, email, password and "
                "security codes removed)."
            )
        if self.sign_in_attempts or self.sessions:
            lines.append(
                f"{delete} {counted(self.sign_in_attempts, 'sign-in record')} and "
                f"{counted(self.sessions, 'browser session')} older than "
                f"{counted(p.sign_in_days, 'day')}."
            )
        if self.emails:
            lines.append(
                f"{delete} {counted(self.emails, 'email')} written more than "
                f"{counted(p.email_days, 'day')} ago (sent, given up, or kept on the outbox page)."
            )
        lines.append(
            "Ratings, outcomes, signed submissions, sent feedback letters and the audit trail "
            "are kept: report figures do not change."
        )
        lines += [f"Could not delete a stored file: {problem}" for problem in self.problems]
        return lines


def _size(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB" if size >= 100_000 else f"{size / 1000:,.0f} KB"


def run_retention(
    engine: Engine, settings: Settings, ctx: AuditContext, *, dry_run: bool
) -> RetentionRun:
    policy = RetentionPolicy.from_settings(settings)
    run = RetentionRun(policy, dry_run)
    with session_scope(engine, write=not dry_run) as db:
        today, now = clock.today(), clock.now()
        due = plan(policy, today, now, _campaigns(db), _files(db), _accounts(db))
        cleared = [_clear_campaign(db, campaign, dry_run) for campaign in due.campaigns]
        run.campaigns = [c for c in cleared if c.answers or c.follow_up_updates or c.explanations]
        files = _file_rows(db, due.files)
        run.evidence_files = len(files)
        run.evidence_bytes = sum(f.size for f in files)
        run.accounts = len(due.accounts)
        _apply_sign_in_and_email(db, run, due)
        if not dry_run:
            _delete_file_rows(db, due.files)
            _anonymise(db, due.accounts)
            record(db, ctx, "retention.run", object_type="retention", new=_event(run, due))
    if not dry_run:
        storage = evidence_storage(settings)
        for file in files:
            try:
                storage.delete(storage_key(file.storage_key))
            except (OSError, ValueError) as exc:
                run.problems.append(f"evidence file {file.id}: {exc}")
    return run


# --- facts -----------------------------------------------------------------------------------


def _campaigns(db: Session) -> list[CampaignFacts]:
    return [
        CampaignFacts(
            id=c.id,  # type: ignore[arg-type]
            title=c.title,
            status=c.status,
            closes_on=c.closes_on,
            closed_on=clock.local(c.closed_at).date() if c.closed_at else None,
        )
        for c in db.exec(select(Campaign))
    ]


def _files(db: Session) -> list[FileFacts]:
    uses: dict[int, set[int]] = {}
    for file_id, campaign_id in db.exec(
        select(EvidencePiece.evidence_file_id, Return.campaign_id)
        .join(ChallengedItem, col(ChallengedItem.id) == EvidencePiece.challenged_item_id)
        .join(EvidenceChallenge, col(EvidenceChallenge.id) == ChallengedItem.challenge_id)
        .join(Return, col(Return.id) == EvidenceChallenge.return_id)
    ):
        uses.setdefault(file_id, set()).add(campaign_id)
    return [
        FileFacts(file_id, clock.local(uploaded_at).date(), frozenset(uses.get(file_id, ())))
        for file_id, uploaded_at in db.exec(select(EvidenceFile.id, EvidenceFile.uploaded_at)).all()
        if file_id is not None
    ]


def _accounts(db: Session) -> list[AccountFacts]:
    disabled = dict(
        db.exec(
            select(AuditEvent.object_id, func.max(AuditEvent.occurred_at))
            .where(AuditEvent.action == "user.disable", AuditEvent.object_type == "user")
            .group_by(AuditEvent.object_id)
        ).all()
    )
    facts = []
    for user in db.exec(select(User).where(col(User.is_active).is_(False))):
        last = max(m for m in (user.created_at, user.last_sign_in_at) if m is not None)
        when = disabled.get(str(user.id))
        facts.append(
            AccountFacts(
                id=user.id,  # type: ignore[arg-type]
                is_active=user.is_active,
                anonymised=user.email.endswith("@" + ANONYMISED_DOMAIN),
                disabled_on=clock.local(when).date() if when else None,
                last_seen_on=clock.local(last).date(),
            )
        )
    return facts


# --- changes ---------------------------------------------------------------------------------


def _change(db: Session, model: Any, where: Any, values: dict[str, Any], dry_run: bool) -> int:
    """How many rows match (a dry run), or set ``values`` on them and say how many (empty
    ``values``: delete them)."""
    if dry_run:
        return db.exec(select(func.count()).select_from(model).where(where)).one()
    if not values:
        return db.exec(delete(model).where(where), execution_options=NO_SYNC).rowcount
    return db.exec(update(model).where(where).values(**values), execution_options=NO_SYNC).rowcount


def _clear_campaign(db: Session, campaign: CampaignFacts, dry_run: bool) -> CampaignCleared:
    """Clear the free text of a campaign's working records; their ratings and states stay."""
    returns = select(Return.id).where(Return.campaign_id == campaign.id)
    follow_ups = select(FollowUp.id).where(col(FollowUp.return_id).in_(returns))
    challenges = select(EvidenceChallenge.id).where(col(EvidenceChallenge.return_id).in_(returns))
    answers = _change(
        db,
        Answer,
        col(Answer.return_id).in_(returns)
        & or_(col(Answer.narrative) != "", col(Answer.evidence) != "", col(Answer.na_reason) != ""),
        {"narrative": "", "evidence": "", "na_reason": ""},
        dry_run,
    )
    updates = _change(
        db,
        FollowUpUpdate,
        col(FollowUpUpdate.follow_up_id).in_(follow_ups)
        & or_(col(FollowUpUpdate.narrative) != "", col(FollowUpUpdate.evidence) != ""),
        {"narrative": "", "evidence": ""},
        dry_run,
    )
    explanations = _change(
        db,
        ChallengedItem,
        col(ChallengedItem.challenge_id).in_(challenges) & (col(ChallengedItem.explanation) != ""),
        {"explanation": ""},
        dry_run,
    )
    return CampaignCleared(campaign, answers, updates, explanations)


def _file_rows(db: Session, ids: list[int]) -> list[EvidenceFile]:
    if not ids:
        return []
    return list(db.exec(select(EvidenceFile).where(col(EvidenceFile.id).in_(ids))))


def _delete_file_rows(db: Session, ids: list[int]) -> None:
    if ids:
        db.exec(delete(EvidencePiece).where(col(EvidencePiece.evidence_file_id).in_(ids)))
        db.exec(delete(EvidenceFile).where(col(EvidenceFile.id).in_(ids)))


def _apply_sign_in_and_email(db: Session, run: RetentionRun, due: Plan) -> None:
    dry = run.dry_run
    before = due.sign_in_before
    run.sign_in_attempts = _change(
        db, SignInAttempt, col(SignInAttempt.attempted_at) < before, {}, dry
    )
    run.sessions = _change(db, WebSession, col(WebSession.last_seen_at) < before, {}, dry)
    run.emails = _change(
        db,
        OutboxEmail,
        col(OutboxEmail.status).in_(FINISHED_EMAILS)
        & (col(OutboxEmail.created_at) < due.emails_before),
        {},
        dry,
    )


def _anonymise(db: Session, ids: list[int]) -> None:
    """Everything that identifies or lets anyone sign in as the person goes; the row stays, so
    what it did (answers, reviews, the audit trail) still points at an account."""
    for user in db.exec(select(User).where(col(User.id).in_(ids))) if ids else []:
        user.email = f"anonymised-{user.id}@{ANONYMISED_DOMAIN}"
        user.full_name = ANONYMISED_NAME
        user.password_hash = None
        user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
        user.recovery_codes = []
        user.security_stamp = new_stamp()
        user.last_sign_in_at = None
        db.add(user)


def _event(run: RetentionRun, due: Plan) -> dict[str, Any]:
    return {
        "policy": run.policy.as_dict(),
        "counts": run.counts(),
        "campaign_ids": [c.campaign.id for c in run.campaigns],
        "evidence_file_ids": due.files,
        "account_ids": due.accounts,
    }
