"""People, their roles, their sign-in sessions and the emails sent to them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from audit_portal.models.base import utcnow


class Role(StrEnum):
    RESPONDENT = "respondent"
    SIGNATORY = "signatory"
    QA = "qa"
    ADMIN = "admin"
    SCRUTINEER = "scrutineer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def partnership_wide(self) -> bool:
        return self in PARTNERSHIP_ROLES


ROLE_LABELS = {
    Role.RESPONDENT: "Respondent (safeguarding lead)",
    Role.SIGNATORY: "Signatory (head teacher, chair of governors, chief officer)",
    Role.QA: "Quality assurance sub-group member",
    Role.ADMIN: "Partnership administrator",
    Role.SCRUTINEER: "Independent scrutineer",
}
PARTNERSHIP_ROLES = frozenset({Role.QA, Role.ADMIN, Role.SCRUTINEER})
ORGANISATION_ROLES = frozenset({Role.RESPONDENT, Role.SIGNATORY})


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-case
    full_name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=300)
    is_active: bool = True
    # Changes whenever a password is set or the account is disabled: it invalidates every
    # invitation and reset link issued before, which is what makes those links single-use.
    security_stamp: str = Field(max_length=64)
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled: bool = False
    # The last time step whose code was accepted: a code is refused unless its step is later,
    # so a code seen over someone's shoulder cannot be used again in its 30 seconds.
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    recovery_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None


class Membership(SQLModel, table=True):
    """A role a user holds: at one organisation, or partnership-wide (organisation_id empty)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role", name="uq_membership"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE"
    )
    role: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A browser's session, held on the server so sign-out and role changes bite at once.

    Only a hash of the cookie's token is stored: a copy of this table cannot be replayed.
    """

    __tablename__ = "web_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie token
    user_id: int | None = Field(
        default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE"
    )
    csrf_secret: str = Field(max_length=64)
    mfa_verified: bool = False
    pending_user_id: int | None = None  # password accepted, second factor still to come
    pending_at: datetime | None = None  # when; the half-signed-in state expires soon after
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    authenticated_at: datetime | None = None
    last_seen_at: datetime = Field(default_factory=utcnow, index=True)


class SignInAttempt(SQLModel, table=True):
    """A failed sign-in or code, or a password-reset request, for throttling.

    Throttled by account and by address; ``kind`` is ``password``, ``code`` (a wrong security
    or recovery code) or ``reset`` (every reset request, successful or not).
    """

    __tablename__ = "sign_in_attempt"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="password", max_length=20, index=True)
    account_key: str = Field(max_length=64, index=True)  # sha256 of the lower-cased email
    address: str = Field(max_length=64, index=True)
    attempted_at: datetime = Field(default_factory=utcnow, index=True)


class EmailStatus(StrEnum):
    QUEUED = "queued"  # written with the change that caused it; the sender picks it up
    SENDING = "sending"  # claimed by one sender until ``claimed_until``
    RETRY = "retry"  # the mail server refused or was down: tried again at ``next_attempt_at``
    OUTBOX = "outbox"  # no mail server: kept for the outbox page instead of being sent
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt

    @property
    def label(self) -> str:
        return {
            "queued": "Waiting to be sent",
            "sending": "Being sent",
            "retry": "Will be tried again",
            "outbox": "Kept here, not sent",
            "sent": "Sent",
            "failed": "Could not be sent",
        }[self.value]


class OutboxEmail(SQLModel, table=True):
    """Every email the portal sends; in development the body is kept for the outbox page."""

    __tablename__ = "outbox_email"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = ""
    status: str = Field(default=EmailStatus.QUEUED.value, max_length=20, index=True)
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)
    claimed_by: str = Field(default="", max_length=64)  # which sender holds it while sending
    claimed_until: datetime | None = None  # a claim older than this is free again
    sent_at: datetime | None = None


class ReminderSent(SQLModel, table=True):
    """A reminder queued once: its key (kind, target, due date, step) is unique, so running
    the reminders command again, or twice at once, never queues it a second time."""

    __tablename__ = "reminder_sent"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    target: str = Field(max_length=100)
    due_on: date
    step: str = Field(max_length=40)
    recipients: int = 0  # how many emails it queued
    created_at: datetime = Field(default_factory=utcnow)
