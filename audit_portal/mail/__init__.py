"""Email through a durable outbox: written with the change that causes it, sent afterwards.

``send_email`` only adds a row to ``outbox_email`` in the caller's transaction, so an email
exists if and only if the change that caused it was committed: a crash after the commit loses
nothing (the sender finds the row later) and a failing mail server never fails anybody's
request. ``audit_portal.mail.sender`` delivers queued rows over SMTP with retries.

Without a mail server (``SMTP_HOST`` empty, the development default) an email is kept in the
outbox for the administrator's outbox page and printed to the console instead of being sent.
With one, the body is kept only until the email is sent, because bodies carry sign-in links.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from audit_portal import clock
from audit_portal.config import Settings
from audit_portal.models import EmailStatus, OutboxEmail


def send_email(db: Session, settings: Settings, to: str, subject: str, body: str) -> OutboxEmail:
    """Queue one email in the caller's transaction; it is sent once that transaction commits."""
    record = OutboxEmail(to_address=to, subject=subject[:300], body=body)
    if settings.smtp_host:
        record.status, record.next_attempt_at = EmailStatus.QUEUED.value, clock.now()
    else:
        record.status = EmailStatus.OUTBOX.value
        print(f"\n--- Email to {to} ---\nSubject: {subject}\n\n{body}\n--- end of email ---\n")
    db.add(record)
    db.flush()
    return record


def recent_emails(db: Session, limit: int = 200) -> list[OutboxEmail]:
    """The newest emails first, for the outbox page."""
    return list(db.exec(select(OutboxEmail).order_by(col(OutboxEmail.id).desc()).limit(limit)))
