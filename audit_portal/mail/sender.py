"""Delivering the outbox over SMTP: claims, retries with back-off, never twice by two senders.

Several senders may run at once (the embedded worker of each app server, a separate worker
process, a cron job). Each takes a **claim** on a small batch before sending: the rows it picks
are marked ``sending`` with its name and a lease (``claimed_until``), in one short transaction.
On PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED``, so two senders never wait on, or
pick, the same row; on SQLite the write transaction (``BEGIN IMMEDIATE``) lets one claimer in at
a time. Each email is marked sent in its own transaction straight after the mail server
accepted it, so a sender killed mid-batch re-sends nothing already marked.

A sender killed after claiming but before sending leaves rows ``sending`` with a lease that
runs out; any sender then claims them again. The one gap no outbox can close is a crash after
the mail server accepted a message and before it was marked sent: that message goes again.
Each message carries a Message-ID made from its outbox row, so a receiving server can spot it.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, and_, or_, update
from sqlmodel import col, select

from audit_portal import clock
from audit_portal.config import Settings
from audit_portal.db import session_scope, writer_lock
from audit_portal.models import EmailStatus, OutboxEmail

log = logging.getLogger(__name__)

BATCH = 10
SMTP_TIMEOUT = 20  # seconds for each conversation with the mail server
LEASE = timedelta(minutes=10)  # longer than a whole batch can take: BATCH * SMTP_TIMEOUT
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)  # after attempt 1, 2, ...; the attempt after the last of these is the last one
MAX_ATTEMPTS = len(RETRY_AFTER) + 1


@dataclass
class Delivery:
    """What one run of the sender did, for the worker's log and the command's output."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retrying} to try again, {self.failed} given up"


@dataclass(frozen=True)
class Claimed:
    id: int
    to_address: str
    subject: str
    body: str
    attempts: int
    created_at: datetime
    claimed_until: datetime


def sender_name() -> str:
    """Names the process holding a claim, for the outbox page and for releasing only our own."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def deliver_due(
    engine: Engine, settings: Settings, *, me: str | None = None, limit: int | None = None
) -> Delivery:
    """Send every email that is due now (or at most ``limit``), batch by batch."""
    me = me or sender_name()
    result = Delivery()
    if not settings.smtp_host:
        return result
    done = 0
    while limit is None or done < limit:
        batch = claim(engine, me, BATCH if limit is None else min(BATCH, limit - done))
        if not batch:
            break
        for index, email in enumerate(batch):
            if clock.now() + 2 * timedelta(seconds=SMTP_TIMEOUT) > email.claimed_until:
                release(engine, [e.id for e in batch[index:]], me)  # the lease is running out
                break
            if _still_ours(engine, email.id, me):
                _send_one(engine, settings, email, me, result)
            done += 1
    return result


def claim(engine: Engine, me: str, size: int = BATCH) -> list[Claimed]:
    """Take a lease on up to ``size`` due emails: queued, to retry, or with a lapsed claim."""
    now = clock.now()
    due = or_(
        and_(
            col(OutboxEmail.status).in_([EmailStatus.QUEUED.value, EmailStatus.RETRY.value]),
            or_(
                col(OutboxEmail.next_attempt_at).is_(None),
                col(OutboxEmail.next_attempt_at) <= now,
            ),
        ),
        and_(
            col(OutboxEmail.status) == EmailStatus.SENDING.value,
            col(OutboxEmail.claimed_until) < now,
        ),
    )
    query = select(OutboxEmail).where(due).order_by(col(OutboxEmail.id)).limit(size)
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    with writer_lock(engine), session_scope(engine, write=True) as db:
        rows = list(db.exec(query))
        for row in rows:
            row.status = EmailStatus.SENDING.value
            row.claimed_by, row.claimed_until = me, now + LEASE
            row.attempts += 1
            db.add(row)
        return [
            Claimed(r.id, r.to_address, r.subject, r.body, r.attempts, r.created_at, now + LEASE)  # type: ignore[arg-type]
            for r in rows
        ]


def release(engine: Engine, ids: list[int], me: str) -> None:
    """Hand back claimed emails this sender will not get to, so another can send them now."""
    if ids:
        _finish(
            engine,
            ids,
            me,
            status=EmailStatus.RETRY.value,
            next_attempt_at=clock.now(),
            attempts=col(OutboxEmail.attempts) - 1,
        )


def _still_ours(engine: Engine, email_id: int, me: str) -> bool:
    with session_scope(engine, write=False) as db:
        row = db.get(OutboxEmail, email_id)
        return bool(
            row is not None
            and row.status == EmailStatus.SENDING.value
            and row.claimed_by == me
            and row.claimed_until is not None
            and row.claimed_until > clock.now()
        )


def _send_one(
    engine: Engine, settings: Settings, email: Claimed, me: str, result: Delivery
) -> None:
    try:
        deliver(settings, email)
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        give_up = _permanent(exc) or email.attempts >= MAX_ATTEMPTS
        if give_up:
            result.failed += 1
            _finish(engine, [email.id], me, status=EmailStatus.FAILED.value, error=error)
        else:
            result.retrying += 1
            retry_at = clock.now() + RETRY_AFTER[email.attempts - 1]
            _finish(
                engine,
                [email.id],
                me,
                status=EmailStatus.RETRY.value,
                error=error,
                next_attempt_at=retry_at,
            )
        result.problems.append(f"email {email.id} to {email.to_address}: {error}")
        log.warning(
            "Email %s to %s not sent (attempt %s): %s",
            email.id,
            email.to_address,
            email.attempts,
            error,
        )
        return
    result.sent += 1
    marked = _finish(
        engine,
        [email.id],
        me,
        status=EmailStatus.SENT.value,
        sent_at=clock.now(),
        body="",
        error="",
    )
    if not marked:
        log.warning("Email %s was sent after its claim lapsed; it may have gone twice", email.id)


def _permanent(exc: Exception) -> bool:
    """A refusal that trying again will not change (an unknown mailbox, say)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _finish(engine: Engine, ids: list[int], me: str, **values: object) -> bool:
    """Record the outcome, but only on rows this sender still holds."""
    statement = (
        update(OutboxEmail)
        .where(col(OutboxEmail.id).in_(ids))
        .where(col(OutboxEmail.claimed_by) == me)
        .where(col(OutboxEmail.status) == EmailStatus.SENDING.value)
        .values(claimed_by="", claimed_until=None, **values)
    )
    with writer_lock(engine), session_scope(engine, write=True) as db:
        return bool(db.connection().execute(statement).rowcount)


def deliver(settings: Settings, email: Claimed) -> None:
    """One message over SMTP; raises OSError or SMTPException when the server says no."""
    message = EmailMessage()
    message["From"] = f"{settings.partnership_name} <{settings.mail_from}>"
    message["To"] = email.to_address
    message["Subject"] = email.subject
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<outbox-{email.id}-{email.created_at:%Y%m%d%H%M%S}@{domain}>"
    message.set_content(email.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
