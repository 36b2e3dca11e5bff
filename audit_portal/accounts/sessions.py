"""Server-side sessions: the cookie holds a random token, the database holds its hash.

Everything about a signed-in person (are they still active, which roles they hold) is read
afresh on every request, so signing out, disabling an account or removing a role takes effect
on the very next request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import bindparam, delete, or_
from sqlmodel import Session, col, select

from audit_portal.config import Settings
from audit_portal.models import Membership, Role, User, WebSession, as_utc
from audit_portal.policy import Actor

COOKIE_NAME = "audit_portal_session"
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is refreshed at most once a minute


def hash_token(token: str) -> str:
    """What the database keeps of a session token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class LoadedSession:
    record: WebSession
    actor: Actor | None
    new_token: str | None = None  # set when a new cookie must be sent
    flash: list[dict] = field(default_factory=list)  # messages waiting for the next page
    needs_write: bool = False  # ``refresh`` must create, expire or touch it
    owner: int | None = None  # read with the session when asked (``OwnerLookup``)


def expiry_reason(settings: Settings, record: WebSession, now: datetime) -> str | None:
    if now - as_utc(record.last_seen_at) > timedelta(minutes=settings.session_idle_minutes):
        return "idle"
    if record.authenticated_at and now - as_utc(record.authenticated_at) > timedelta(
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


# Built once: every request runs it, and building a statement costs more than running it.
# The person and their roles as plain columns: only the session is an object (it may change).
_SESSION_QUERY = (
    select(  # type: ignore[call-overload]
        WebSession,
        col(User.id),
        col(User.is_active),
        col(User.email),
        col(User.full_name),
        col(User.totp_enabled),
        col(Membership.role),
        col(Membership.organisation_id),
    )
    .outerjoin(User, col(User.id) == WebSession.user_id)
    .outerjoin(Membership, col(Membership.user_id) == col(User.id))
    .where(WebSession.id == bindparam("session_id"))
)


@dataclass(frozen=True, eq=False)  # compared by identity: its fields are SQL expressions
class OwnerLookup:
    """The organisation a request's resource belongs to, read in the session's own statement:
    a round trip to the database fewer on each request that needs both (the autosave).

    ``organisation_id`` is a scalar subquery with one bound value, named ``param`` after the
    path parameter that gives it. Called as a route's scope resolver, it reads the owner alone.
    Built once, at start-up.
    """

    organisation_id: Any  # SELECT organisation_id FROM ... WHERE id = :param, as a scalar subquery
    param: str
    statement: Any  # the session's statement with the owner as one more column

    @classmethod
    def of(cls, organisation_id: Any, param: str) -> OwnerLookup:
        statement = _SESSION_QUERY.add_columns(organisation_id.label("owner"))
        return cls(organisation_id, param, statement)

    def bound(self, path_params: Mapping[str, object]) -> dict[str, object]:
        return {self.param: path_params[self.param]}

    def __call__(self, db: Session, path_params: Mapping[str, object]) -> int | None:
        found: int | None = db.exec(
            select(self.organisation_id), params=self.bound(path_params)
        ).first()
        return found


def load(
    db: Session,
    settings: Settings,
    token: str | None,
    now: datetime,
    owner: OwnerLookup | None = None,
    path_params: Mapping[str, object] | None = None,
) -> LoadedSession | None:
    """Read this browser's session and who it belongs to, in one statement; with ``owner``,
    the organisation the request's resource belongs to in the same statement.

    None when the browser has no session yet. Then, or when ``needs_write`` says so, ``refresh``
    must run in a write transaction next: to create a session, expire one, or note that it was
    used (at most once a minute).
    """
    if not token:
        return None
    statement, params = _SESSION_QUERY, {}
    if owner is not None:
        statement, params = owner.statement, owner.bound(path_params or {})
    rows = db.exec(statement, params={**params, "session_id": hash_token(token)}).all()
    if not rows:
        return None
    record, person = rows[0][0], rows[0]  # each row: the session, the person, one role
    reason = expiry_reason(settings, record, now)
    actor = _actor(person if person.id is not None else None, [r for r in rows if r.role])
    lost_user = record.user_id is not None and actor is None
    stale = now - as_utc(record.last_seen_at) > TOUCH_EVERY
    flash = list(record.data.get("flash", []))
    return LoadedSession(
        record,
        actor,
        flash=flash,
        needs_write=bool(reason or lost_user or stale),
        owner=person.owner if owner is not None else None,
    )


def refresh(db: Session, settings: Settings, token: str | None, now: datetime) -> LoadedSession:
    """Create, expire or touch the session (a write transaction), and read it again."""
    record = db.get(WebSession, hash_token(token)) if token else None
    reason = expiry_reason(settings, record, now) if record else None
    return _load_for_write(db, record, reason, now)


def _load_for_write(
    db: Session, record: WebSession | None, reason: str | None, now: datetime
) -> LoadedSession:
    flash: list[dict] = []
    if record is not None and reason is not None:
        was_signed_in = record.user_id is not None
        db.delete(record)
        db.flush()
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


def _create(
    db: Session,
    now: datetime,
    *,
    user_id: int | None = None,
    mfa_verified: bool = False,
    authenticated_at: datetime | None = None,
    data: dict | None = None,
) -> tuple[WebSession, str]:
    token = secrets.token_urlsafe(32)
    record = WebSession(
        id=hash_token(token),
        csrf_secret=secrets.token_hex(32),
        created_at=now,
        last_seen_at=now,
        user_id=user_id,
        mfa_verified=mfa_verified,
        authenticated_at=authenticated_at,
        data=data or {},
    )
    db.add(record)
    return record, token


def build_actor(db: Session, user_id: int | None) -> Actor | None:
    user = db.get(User, user_id) if user_id else None
    if user is None:
        return None
    memberships = db.exec(select(Membership).where(Membership.user_id == user.id)).all()
    return _actor(user, list(memberships))


class _Person(Protocol):
    id: int | None
    is_active: bool
    email: str
    full_name: str
    totp_enabled: bool


class _Role(Protocol):
    role: str
    organisation_id: int | None


def _actor(user: _Person | None, memberships: Sequence[_Role]) -> Actor | None:
    """Who a signed-in person is right now: active, with every role they hold."""
    if user is None or not user.is_active or user.id is None:
        return None
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
        db.exec(delete(WebSession).where(col(WebSession.id) == old_id))
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
    db.exec(delete(WebSession).where(col(WebSession.id) == record_id))


def end_all_for_user(db: Session, user_id: int) -> None:
    db.exec(delete(WebSession).where(col(WebSession.user_id) == user_id))


def purge_expired(db: Session, settings: Settings, now: datetime) -> None:
    idle_cutoff = now - timedelta(minutes=settings.session_idle_minutes)
    absolute_cutoff = now - timedelta(hours=settings.session_absolute_hours)
    db.exec(
        delete(WebSession).where(
            or_(
                col(WebSession.last_seen_at) < idle_cutoff,
                col(WebSession.authenticated_at) < absolute_cutoff,
            )
        )
    )
