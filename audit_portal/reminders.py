"""Queue today's reminders, each at most once however often or concurrently this runs.

The schedules and wording are pure (``audit_portal.followups.reminders``); this module finds
what they apply to today and writes each due reminder's emails to the outbox together with a
``reminder_sent`` row whose key (kind, target, deadline, step) is unique. A second run, the
same day or at the same moment, meets that key and skips the reminder: on PostgreSQL the
unique index makes the second insert wait for the first and then fail, on SQLite the write
lock lets one run in at a time. Each reminder is tried in its own savepoint, so one skipped
reminder does not undo the others.

Evidence challenges that are issued and not yet submitted are reminded 7 days before their due
date and on it (a due date QA extends gives new keys, so the new schedule starts afresh).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from audit_portal.accounts.users import people_at
from audit_portal.audit import AuditContext, record
from audit_portal.config import Settings
from audit_portal.followups.records import state_of
from audit_portal.followups.reminders import (
    Reminder,
    campaign_closing_reminders,
    challenge_deadline_reminders,
    follow_up_reminders,
    reminder_body,
    reminder_subject,
)
from audit_portal.followups.rules import FollowUpStage
from audit_portal.mail import send_email
from audit_portal.models import (
    Campaign,
    CampaignStatus,
    EvidenceChallenge,
    FollowUp,
    Organisation,
    ReminderSent,
    Return,
    ReturnStatus,
    Role,
)
from audit_portal.models.dipsamples import ChallengeStage

EVERYONE = (Role.RESPONDENT, Role.SIGNATORY)
OUTSTANDING = (ReturnStatus.NOT_STARTED, ReturnStatus.IN_PROGRESS, ReturnStatus.RETURNED)
LOOK_AHEAD = timedelta(days=30)  # the earliest step of any schedule: 30 days before


@dataclass(frozen=True)
class DueReminder:
    """A reminder with what its emails say and who they go to."""

    reminder: Reminder
    organisation: Organisation
    what: str
    link: str

    def describe(self) -> str:
        r = self.reminder
        return f"{r.kind} {r.step}: {self.what} for {self.organisation.name}, due {r.due_on}"


@dataclass
class ReminderRun:
    queued: list[tuple[DueReminder, int]] = field(default_factory=list)  # and emails queued
    skipped: list[DueReminder] = field(default_factory=list)  # queued by an earlier run

    @property
    def emails(self) -> int:
        return sum(n for _, n in self.queued)


def queue_reminders(
    db: Session, settings: Settings, ctx: AuditContext, today: date, *, dry_run: bool = False
) -> ReminderRun:
    """Queue every reminder due ``today`` not queued before; ``dry_run`` writes nothing."""
    run = ReminderRun()
    for due in due_reminders(db, settings, today):
        if _already_queued(db, due.reminder):
            run.skipped.append(due)
        elif dry_run:
            run.queued.append((due, len(people_at(db, due.organisation.id, EVERYONE))))  # type: ignore[arg-type]
        else:
            emails = _queue_once(db, settings, ctx, due, today)
            if emails is None:
                run.skipped.append(due)
            else:
                run.queued.append((due, emails))
    return run


def due_reminders(db: Session, settings: Settings, today: date) -> Iterator[DueReminder]:
    yield from _campaign_closing(db, settings, today)
    yield from _follow_ups(db, settings, today)
    yield from _challenges(db, settings, today)


def _campaign_closing(db: Session, settings: Settings, today: date) -> Iterator[DueReminder]:
    campaigns = db.exec(
        select(Campaign).where(
            Campaign.status == CampaignStatus.OPEN.value,
            col(Campaign.closes_on) >= today,
            col(Campaign.closes_on) <= today + LOOK_AHEAD,
        )
    ).all()
    for campaign in campaigns:
        rows = db.exec(
            select(Return, Organisation)
            .join(Organisation, col(Organisation.id) == Return.organisation_id)
            .where(
                Return.campaign_id == campaign.id,
                col(Return.status).in_([s.value for s in OUTSTANDING]),
            )
            .order_by(col(Return.id))
        ).all()
        organisation = {f"return:{ret.id}": (ret, org) for ret, org in rows}
        for reminder in campaign_closing_reminders(campaign.closes_on, today, organisation):
            ret, org = organisation[reminder.target_key]
            what = f"safeguarding self-assessment ({campaign.title})"
            yield DueReminder(reminder, org, what, f"{settings.base_url}/returns/{ret.id}")


def _follow_ups(db: Session, settings: Settings, today: date) -> Iterator[DueReminder]:
    waiting = (FollowUpStage.OPEN.value, FollowUpStage.DRAFT.value)
    rows = db.exec(
        select(FollowUp, Return, Campaign, Organisation)
        .join(Return, col(Return.id) == FollowUp.return_id)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .join(Organisation, col(Organisation.id) == Return.organisation_id)
        .where(col(FollowUp.stage).in_(waiting), col(FollowUp.due_on) <= today + LOOK_AHEAD)
        .order_by(col(FollowUp.id))
    ).all()
    for follow_up, ret, campaign, org in rows:
        for reminder in follow_up_reminders(
            follow_up.due_on,
            today,
            state_of(follow_up, today),
            target_key=f"follow-up:{follow_up.id}",
        ):
            what = f"six-month follow-up on the actions from {campaign.title}"
            yield DueReminder(
                reminder, org, what, f"{settings.base_url}/returns/{ret.id}/follow-up"
            )


def _challenges(db: Session, settings: Settings, today: date) -> Iterator[DueReminder]:
    rows = db.exec(
        select(EvidenceChallenge, Campaign, Organisation)
        .join(Return, col(Return.id) == EvidenceChallenge.return_id)
        .join(Campaign, col(Campaign.id) == Return.campaign_id)
        .join(Organisation, col(Organisation.id) == EvidenceChallenge.organisation_id)
        .where(
            EvidenceChallenge.stage == ChallengeStage.ISSUED.value,
            col(EvidenceChallenge.due_on) >= today,
            col(EvidenceChallenge.due_on) <= today + LOOK_AHEAD,
        )
        .order_by(col(EvidenceChallenge.id))
    ).all()
    for challenge, campaign, org in rows:
        assert challenge.due_on is not None
        for reminder in challenge_deadline_reminders(
            challenge.due_on, today, submitted=False, target_key=f"challenge:{challenge.id}"
        ):
            what = f"evidence the partnership asked for ({campaign.title})"
            yield DueReminder(reminder, org, what, f"{settings.base_url}/challenges/{challenge.id}")


def _already_queued(db: Session, reminder: Reminder) -> bool:
    found = db.exec(select(ReminderSent.id).where(ReminderSent.key == reminder.unique_key))
    return found.first() is not None


def _queue_once(
    db: Session, settings: Settings, ctx: AuditContext, due: DueReminder, today: date
) -> int | None:
    """The reminder's key and its emails in one savepoint; None if another run got there first."""
    r = due.reminder
    savepoint = db.begin_nested()
    try:
        sent = ReminderSent(
            key=r.unique_key, kind=r.kind.value, target=r.target_key, due_on=r.due_on, step=r.step
        )
        db.add(sent)
        db.flush()
    except IntegrityError:
        savepoint.rollback()
        return None
    org = due.organisation
    subject = reminder_subject(org.name, due.what, r.due_on, today)
    body = reminder_body(org.name, due.what, r.due_on, today, due.link)
    people = people_at(db, org.id, EVERYONE)  # type: ignore[arg-type]
    for person in people:
        send_email(db, settings, person.email, subject, f"Dear {person.full_name},\n\n{body}")
    sent.recipients = len(people)
    db.add(sent)
    record(
        db,
        ctx,
        "reminder.queued",
        object_type=r.target_key.partition(":")[0],
        object_id=r.target_key.partition(":")[2],
        organisation_id=org.id,
        new={
            "kind": r.kind.value,
            "step": r.step,
            "due_on": r.due_on.isoformat(),
            "recipients": len(people),
        },
    )
    savepoint.commit()
    return len(people)
