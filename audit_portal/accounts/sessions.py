"""Server-side sessions: the cookie holds a random token, the database holds its hash.

Everything about a signed-in person (are they still active, which roles they hold) is read
afresh on every request, so signing out, disabling an account or removing a role takes effect
on the very next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, or_
from sqlmodel import Session, select

from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import Membership, Role, User, WebSession
from audit_portal.policy import Actor

COOKIE_NAME = "audit_portal_session"
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is refreshed at most once a minute


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class LoadedSession:
    record: WebSession
    actor: Actor | None
    new_token: str | None = None  # set when a new cookie must be sent
    flash: list[dict] = field(default_factory=list)  # messages waiting for the next page


def expiry_reason(settings: Settings, record: WebSession, now: datetime) -> str | None:
    if now - _aware(record.last_seen_at) > timedelta(minutes=settings.session_idle_minutes):
        return "idle"
    if record.authenticated_at and now - _aware(record.authenticated_at) > timedelta(
        hours=settings.session_absolute_hours
    ):
        return "absolute"
    return None


EXPIRY_MESSAGES = {
    "idle": "You were signed out because you had not done anything for a while. "
    "Anything you saved before then has been kept.",
    "absolute": "You were signed out because you signed in a long time ago. "
    "Anything you saved before then has been kept.",
}


def load_request_session(
    engine: Engine, settings: Settings, token: str | None, now: datetime
) -> LoadedSession:
    """Find this browser's session, expiring, creating or touching it as needed."""
    with session_scope(engine, write=False) as db:
        record = db.get(WebSession, _hash(token)) if token else None
        reason = expiry_reason(settings, record, now) if record else None
        if record is not None and reason is None:
            actor = build_actor(db, record.user_id) if record.user_id else None
            stale = now - _aware(record.last_seen_at) > TOUCH_EVERY
            lost_user = record.user_id is not None and actor is None
            if not (stale or lost_user):
                return LoadedSession(record, actor, flash=list(record.data.get("flash", [])))
    with session_scope(engine, write=True) as db:
        return _load_for_write(db, token, reason, now)


def _load_for_write(
    db: Session, token: str | None, reason: str | None, now: datetime
) -> LoadedSession:
    record = db.get(WebSession, _hash(token)) if token else None
    flash: list[dict] = []
    if record is not None and reason is not None:
        was_signed_in = record.user_id is not None
        db.delete(record)
        record = None
        if was_signed_in:
            flash.append({"kind": "important", "text": EXPIRY_MESSAGES[reason]})
    new_token = None
    if record is None:
        record, new_token = _create(db, now, data={"flash": flash} if flash else {})
    actor = build_actor(db, record.user_id) if record.user_id else None
    if record.user_id is not None and actor is None:
        record.user_id, record.mfa_verified = None, False  # disabled or deleted since
    record.last_seen_at = now
    db.add(record)
    return LoadedSession(record, actor, new_token, list(record.data.get("flash", [])))


def _create(db: Session, now: datetime, **values: object) -> tuple[WebSession, str]:
    token = secrets.token_urlsafe(32)
    record = WebSession(
        id=_hash(token),
        csrf_secret=secrets.token_hex(32),
        created_at=now,
        last_seen_at=now,
        **values,
    )
    db.add(record)
    return record, token


def build_actor(db: Session, user_id: int | None) -> Actor | None:
    user = db.get(User, user_id) if user_id else None
    if user is None or not user.is_active:
        return None
    memberships = db.exec(select(Membership).where(Membership.user_id == user.id)).all()
    partnership: set[Role] = set()
    by_org: dict[int, set[Role]] = {}
    for m in memberships:
        role = Role(m.role)
        if m.organisation_id is None:
            partnership.add(role)
        else:
            by_org.setdefault(m.organisation_id, set()).add(role)
    return Actor(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        partnership_roles=frozenset(partnership),
        organisation_roles={k: frozenset(v) for k, v in by_org.items()},
        has_authenticator=user.totp_enabled,
    )


def start_authenticated(
    db: Session, old_id: str | None, user_id: int, *, mfa_verified: bool, now: datetime
) -> str:
    """Sign in: a brand-new session id (never reuse the anonymous one), old one deleted."""
    if old_id:
        db.exec(delete(WebSession).where(WebSession.id == old_id))
    _, token = _create(db, now, user_id=user_id, mfa_verified=mfa_verified, authenticated_at=now)
    return token


def add_flash(db: Session, record_id: str, text: str, kind: str = "success") -> None:
    record = db.get(WebSession, record_id)
    if record is not None:
        record.data = {
            **record.data,
            "flash": [*record.data.get("flash", []), {"kind": kind, "text": text}],
        }
        db.add(record)


def clear_flash(db: Session, record_id: str) -> None:
    """Called once a page has shown the messages: they are not shown twice."""
    record = db.get(WebSession, record_id)
    if record is not None and record.data.get("flash"):
        record.data = {k: v for k, v in record.data.items() if k != "flash"}
        db.add(record)


def end_session(db: Session, record_id: str) -> None:
    db.exec(delete(WebSession).where(WebSession.id == record_id))


def end_all_for_user(db: Session, user_id: int) -> None:
    db.exec(delete(WebSession).where(WebSession.user_id == user_id))


def purge_expired(db: Session, settings: Settings, now: datetime) -> None:
    idle_cutoff = now - timedelta(minutes=settings.session_idle_minutes)
    absolute_cutoff = now - timedelta(hours=settings.session_absolute_hours)
    db.exec(
        delete(WebSession).where(
            or_(
                WebSession.last_seen_at < idle_cutoff, WebSession.authenticated_at < absolute_cutoff
            )
        )
    )
