"""Signing in, as one sequence of steps the web layer calls: password, then (maybe) a code.

A password check is split from recording its outcome on purpose: Argon2id costs tens of
milliseconds and 64 MiB, so it runs in a read-only session and never while the write lock is
held (on SQLite one sign-in would otherwise queue every autosave behind it).

After the password, a person with an authenticator is only *half signed in*: the session names
them as pending, for ``PENDING_MINUTES``, and the next step must be a code. Reset and invitation
links end the same way for such a person, so a reset link alone never gets past an authenticator.
Wrong codes count against the same throttle as wrong passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from audit_portal.accounts import sessions, throttle
from audit_portal.accounts.passwords import verify_password
from audit_portal.accounts.tokens import LinkClaims, check_claims
from audit_portal.accounts.users import SecondFactor, find_user, normalise_email
from audit_portal.accounts.users import verify_second_factor as _verify
from audit_portal.audit import AuditContext, security_event
from audit_portal.config import Settings
from audit_portal.models import User, WebSession, saved_id

PENDING_MINUTES = 5


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    NEEDS_CODE = "needs_code"
    INVALID = "invalid"
    THROTTLED = "throttled"
    EXPIRED = "expired"  # the half-signed-in state timed out: start again
    WRONG_CODE = "wrong_code"
    REUSED_CODE = "reused_code"


@dataclass(frozen=True)
class PasswordCheck:
    """What the read-only password check found; ``record_password`` acts on it."""

    email: str
    throttled: bool
    user_id: int | None  # set only when the password was right for an active account


@dataclass(frozen=True)
class Step:
    outcome: Outcome
    token: str | None = None  # a new session cookie, when the session id changed


def check_password(
    db: Session, settings: Settings, email: str, address: str, password: str, now: datetime
) -> PasswordCheck:
    """Read-only: throttled? right password? Same work whether or not the account exists."""
    email = normalise_email(email)
    if throttle.is_throttled(db, email, address, now):
        return PasswordCheck(email, throttled=True, user_id=None)
    user = find_user(db, email)
    stored = user.password_hash if user and user.is_active else None
    ok = verify_password(settings, stored, password)
    return PasswordCheck(email, throttled=False, user_id=user.id if ok and user else None)


def record_password(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    check: PasswordCheck,
    session_id: str,
    now: datetime,
) -> Step:
    """Write what the password check means: a failure, a half sign-in, or a new session."""
    if check.throttled:
        security_event(db, ctx, "sign_in_throttled", email=check.email)
        return Step(Outcome.THROTTLED)
    user = db.get(User, check.user_id) if check.user_id else None
    if user is None or not user.is_active:
        throttle.record_failure(db, check.email, ctx.address, now)
        security_event(db, ctx, "sign_in_failed", email=check.email)
        return Step(Outcome.INVALID)
    throttle.clear_account(db, check.email, kinds=(throttle.PASSWORD,))
    if user.totp_enabled:
        _make_pending(db, session_id, saved_id(user), now)
        return Step(Outcome.NEEDS_CODE)
    return Step(Outcome.SIGNED_IN, _start(db, settings, ctx, user, session_id, now, mfa=False))


def code_step(
    db: Session, settings: Settings, ctx: AuditContext, session_id: str, code: str, now: datetime
) -> Step:
    """The second step: an authenticator or recovery code for the pending person."""
    record = db.get(WebSession, session_id)
    user = db.get(User, record.pending_user_id) if record and record.pending_user_id else None
    if record is None or user is None or not user.is_active or _expired(record, now):
        if record is not None:
            _clear_pending(db, record)
        return Step(Outcome.EXPIRED)
    if throttle.is_throttled(db, user.email, ctx.address, now):
        _clear_pending(db, record)
        security_event(db, ctx, "sign_in_throttled", email=user.email)
        return Step(Outcome.THROTTLED)
    verdict = _verify(db, ctx, user, code, now)
    if verdict is not SecondFactor.OK:
        throttle.record_failure(db, user.email, ctx.address, now, kind=throttle.CODE)
        security_event(db, ctx, "second_factor_failed", user_id=user.id, reason=verdict.value)
        if verdict is SecondFactor.REUSED:
            return Step(Outcome.REUSED_CODE)
        return Step(Outcome.WRONG_CODE)
    throttle.clear_account(db, user.email, kinds=(throttle.PASSWORD, throttle.CODE))
    return Step(Outcome.SIGNED_IN, _start(db, settings, ctx, user, session_id, now, mfa=True))


def after_link(db: Session, user: User, session_id: str, now: datetime) -> Step:
    """After an invitation or reset link set a password: signed in, or half signed in."""
    sessions.end_all_for_user(db, saved_id(user))  # every other browser
    if user.totp_enabled:
        _make_pending(db, session_id, saved_id(user), now)
        return Step(Outcome.NEEDS_CODE)
    user.last_sign_in_at = now
    db.add(user)
    token = sessions.start_authenticated(
        db, session_id, saved_id(user), mfa_verified=False, now=now
    )
    return Step(Outcome.SIGNED_IN, token)


def pending_is_current(record: WebSession, now: datetime) -> bool:
    return record.pending_user_id is not None and not _expired(record, now)


def _expired(record: WebSession, now: datetime) -> bool:
    if record.pending_at is None:
        return True
    started = (
        record.pending_at if record.pending_at.tzinfo else record.pending_at.replace(tzinfo=UTC)
    )
    return now - started > timedelta(minutes=PENDING_MINUTES)


def _make_pending(db: Session, session_id: str, user_id: int, now: datetime) -> None:
    record = db.get(WebSession, session_id)
    if record is not None:
        record.pending_user_id, record.pending_at = user_id, now
        db.add(record)


def _clear_pending(db: Session, record: WebSession) -> None:
    record.pending_user_id, record.pending_at = None, None
    db.add(record)


def _start(
    db: Session,
    settings: Settings,
    ctx: AuditContext,
    user: User,
    session_id: str,
    now: datetime,
    *,
    mfa: bool,
) -> str:
    sessions.purge_expired(db, settings, now)
    throttle.purge_old(db, now)
    user.last_sign_in_at = now
    db.add(user)
    security_event(db, ctx.for_user(user.id, user.email), "sign_in")
    return sessions.start_authenticated(db, session_id, saved_id(user), mfa_verified=mfa, now=now)


# --- password resets --------------------------------------------------------------------------


def request_password_reset(
    db: Session, settings: Settings, ctx: AuditContext, email: str, now: datetime
) -> None:
    """Email a reset link if the account exists, at most a few times an hour per account and
    per address. The caller answers the same whatever happened, so nothing leaks."""
    from audit_portal.accounts.users import reset_email

    email = normalise_email(email)
    throttled = throttle.over_budget(db, throttle.RESETS, email, ctx.address, now)
    throttle.record_failure(db, email, ctx.address, now, kind=throttle.RESET)
    security_event(db, ctx, "password_reset_requested", email=email, throttled=throttled)
    user = find_user(db, email)
    if not throttled and user is not None and user.is_active:
        reset_email(db, settings, user)


# --- setting up or replacing an authenticator -------------------------------------------------

NEW_CODE_WRONG = "The security code is not correct: check the time on your phone and try again"
CURRENT_CODE_MISSING = "Enter the code from the authenticator app you use now"
CURRENT_CODE_WRONG = (
    "The code from your current authenticator app is not correct: "
    "enter the code it shows now, or one of your recovery codes"
)


@dataclass(frozen=True)
class AuthenticatorSetup:
    recovery_codes: list[str] | None  # shown once, when it worked
    errors: dict[str, str]  # form field -> message, when it did not


def set_up_authenticator(
    db: Session,
    ctx: AuditContext,
    user: User,
    secret: str,
    code: str,
    current_code: str,
    now: datetime,
) -> AuthenticatorSetup:
    """Start using a new authenticator. Replacing one needs the current one (or a recovery code)
    first, so a stolen session or a reset link can never swap in an attacker's authenticator."""
    check = totp_check(secret, code, now)
    errors = {} if check is not None else {"code": NEW_CODE_WRONG}
    if user.totp_enabled and not current_code.strip():
        errors["current_code"] = CURRENT_CODE_MISSING
    if errors or check is None:
        return AuthenticatorSetup(None, errors)
    if user.totp_enabled:  # only now, so a typo in the new code never spends a recovery code
        if throttle.is_throttled(db, user.email, ctx.address, now):
            return AuthenticatorSetup(None, {"current_code": throttle.THROTTLED_MESSAGE})
        if _verify(db, ctx, user, current_code, now) is not SecondFactor.OK:
            throttle.record_failure(db, user.email, ctx.address, now, kind=throttle.CODE)
            security_event(db, ctx, "second_factor_failed", user_id=user.id, reason="replace")
            return AuthenticatorSetup(None, {"current_code": CURRENT_CODE_WRONG})
    from audit_portal.accounts.users import enable_two_factor

    return AuthenticatorSetup(enable_two_factor(db, ctx, user, secret, check), {})


def turn_off_authenticator(
    db: Session, ctx: AuditContext, user_id: int, current_code: str, now: datetime
) -> str | None:
    """Stop using two-step verification: only with the current code (or a recovery code), so a
    stolen session cannot switch it off and enrol an authenticator of its own. The error, if any."""
    from audit_portal.accounts.users import disable_two_factor, get_person

    user = get_person(db, user_id)
    if not current_code.strip():
        return CURRENT_CODE_MISSING
    if throttle.is_throttled(db, user.email, ctx.address, now):
        return throttle.THROTTLED_MESSAGE
    if _verify(db, ctx, user, current_code, now) is not SecondFactor.OK:
        throttle.record_failure(db, user.email, ctx.address, now, kind=throttle.CODE)
        security_event(db, ctx, "second_factor_failed", user_id=user.id, reason="turn_off")
        return CURRENT_CODE_WRONG
    disable_two_factor(db, ctx, user)
    return None


def totp_check(secret: str, code: str, now: datetime) -> int | None:
    """The time step of a code for a secret not yet in use (None: wrong)."""
    from audit_portal.accounts import totp

    result = totp.check_code(secret, code, now, None)
    return result.step if result.ok else None


def authenticator_secret(db: Session, user_id: int, session_id: str) -> tuple[User, str]:
    """The person and the new secret their set-up page shows, kept in their session until a
    code confirms it (the same QR code however often the page is reloaded)."""
    from audit_portal.accounts import totp
    from audit_portal.accounts.users import get_person

    user = get_person(db, user_id)
    record = db.get(WebSession, session_id)
    if record is None:
        raise LookupError("session gone")
    secret = str(record.data.get("pending_totp") or totp.new_secret())
    record.data = {**record.data, "pending_totp": secret}
    db.add(record)
    return user, secret


def confirm_authenticator(
    db: Session,
    ctx: AuditContext,
    user_id: int,
    session_id: str,
    secret: str,
    code: str,
    current_code: str,
    now: datetime,
) -> AuthenticatorSetup:
    """Set up or replace the authenticator; on success this session counts as verified."""
    from audit_portal.accounts.users import get_person

    result = set_up_authenticator(db, ctx, get_person(db, user_id), secret, code, current_code, now)
    record = db.get(WebSession, session_id)
    if result.recovery_codes is not None and record is not None:
        record.mfa_verified = True
        record.data = {k: v for k, v in record.data.items() if k != "pending_totp"}
        db.add(record)
    return result


def link_user(db: Session, claims: LinkClaims) -> User:
    """The person an invitation or reset link is for, if it is still good (else LinkProblem)."""
    return check_claims(claims, db.get(User, claims.user_id))
