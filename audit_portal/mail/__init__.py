"""Sending email: through SMTP when SMTP_HOST is set, otherwise to the development outbox.

Every email is recorded in outbox_email. In development the body is kept so an administrator
can read it in the portal (and it is printed to the console); with a real mail server only the
addressee, subject and delivery status are kept, because bodies carry sign-in links.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from sqlmodel import Session, col, select

from audit_portal.config import Settings
from audit_portal.models import EmailStatus, OutboxEmail

log = logging.getLogger(__name__)


def send_email(db: Session, settings: Settings, to: str, subject: str, body: str) -> OutboxEmail:
    record = OutboxEmail(to_address=to, subject=subject[:300])
    if not settings.smtp_host:
        record.body, record.status = body, EmailStatus.OUTBOX.value
        print(f"\n--- Email to {to} ---\nSubject: {subject}\n\n{body}\n--- end of email ---\n")
    else:
        try:
            _deliver(settings, to, subject, body)
            record.status = EmailStatus.SENT.value
        except (OSError, smtplib.SMTPException) as exc:
            record.status, record.error = (
                EmailStatus.FAILED.value,
                f"{type(exc).__name__}: {exc}"[:500],
            )
            log.warning("Email to %s could not be sent: %s", to, record.error)
    db.add(record)
    db.flush()
    return record


def _deliver(settings: Settings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = f"{settings.partnership_name} <{settings.mail_from}>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def recent_emails(db: Session, limit: int = 200) -> list[OutboxEmail]:
    """The newest emails first, for the outbox page."""
    return list(db.exec(select(OutboxEmail).order_by(col(OutboxEmail.id).desc()).limit(limit)))
