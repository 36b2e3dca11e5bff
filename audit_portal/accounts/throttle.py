"""Throttling guesses and floods per account and per address, kept in the database.

In the database (not in memory) so it holds across several app instances. Messages are the same
whether or not the account exists.

Wrong passwords and wrong security codes (authenticator or recovery codes) share one budget per
account: an attacker who has the password cannot buy more code guesses by signing in again,
and signing in with the password alone never clears code failures. Password-reset requests have
their own, longer budget, counted whether or not an email was sent, so nobody can flood an
inbox through the "forgotten password" page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_
from sqlmodel import Session, col, select

from audit_portal.models import SignInAttempt

PASSWORD, CODE, RESET = "password", "code", "reset"


@dataclass(frozen=True)
class Budget:
    kinds: tuple[str, ...]
    window: timedelta
    per_account: int
    per_address: int


GUESSES = Budget((PASSWORD, CODE), timedelta(minutes=15), per_account=5, per_address=30)
RESETS = Budget((RESET,), timedelta(hours=1), per_account=3, per_address=10)
WINDOW = GUESSES.window
THROTTLED_MESSAGE = (
    "You have tried to sign in too many times. Wait 15 minutes, then try again, "
    "or reset your password."
)


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _count(
    session: Session, budget: Budget, since: datetime, condition: ColumnElement[bool]
) -> int:
    return session.exec(
        select(func.count())
        .select_from(SignInAttempt)
        .where(
            col(SignInAttempt.kind).in_(budget.kinds),
            col(SignInAttempt.attempted_at) > since,
            condition,
        )
    ).one()


def over_budget(session: Session, budget: Budget, email: str, address: str, now: datetime) -> bool:
    since = now - budget.window
    if _count(session, budget, since, col(SignInAttempt.account_key) == account_key(email)) >= (
        budget.per_account
    ):
        return True
    return (
        _count(session, budget, since, col(SignInAttempt.address) == address) >= budget.per_address
    )


def is_throttled(session: Session, email: str, address: str, now: datetime) -> bool:
    """Too many wrong passwords or codes for this account or from this address."""
    return over_budget(session, GUESSES, email, address, now)


def record_failure(
    session: Session, email: str, address: str, now: datetime, kind: str = PASSWORD
) -> None:
    session.add(
        SignInAttempt(kind=kind, account_key=account_key(email), address=address, attempted_at=now)
    )


def clear_account(session: Session, email: str, kinds: tuple[str, ...] = (PASSWORD,)) -> None:
    """Forget an account's failures of these kinds (after a sign-in that proved them wrong)."""
    session.exec(
        delete(SignInAttempt).where(
            col(SignInAttempt.account_key) == account_key(email),
            col(SignInAttempt.kind).in_(kinds),
        )
    )


def purge_old(session: Session, now: datetime) -> None:
    session.exec(
        delete(SignInAttempt).where(
            or_(
                col(SignInAttempt.kind).in_(GUESSES.kinds)
                & (col(SignInAttempt.attempted_at) <= now - GUESSES.window),
                col(SignInAttempt.kind).in_(RESETS.kinds)
                & (col(SignInAttempt.attempted_at) <= now - RESETS.window),
            )
        )
    )
