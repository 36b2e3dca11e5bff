"""Throttling failed sign-ins per account and per address, kept in the database.

In the database (not in memory) so it holds across several app instances. The message is the
same whether or not the account exists.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from audit_portal.models import SignInAttempt

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5
MAX_PER_ADDRESS = 30
THROTTLED_MESSAGE = (
    "You have tried to sign in too many times. Wait 15 minutes, then try again, "
    "or reset your password."
)


def account_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_throttled(session: Session, email: str, address: str, now: datetime) -> bool:
    since = now - WINDOW
    by_account = session.exec(
        select(func.count())
        .select_from(SignInAttempt)
        .where(SignInAttempt.account_key == account_key(email), SignInAttempt.attempted_at > since)
    ).one()
    if by_account >= MAX_PER_ACCOUNT:
        return True
    by_address = session.exec(
        select(func.count())
        .select_from(SignInAttempt)
        .where(SignInAttempt.address == address, SignInAttempt.attempted_at > since)
    ).one()
    return by_address >= MAX_PER_ADDRESS


def record_failure(session: Session, email: str, address: str, now: datetime) -> None:
    session.add(SignInAttempt(account_key=account_key(email), address=address, attempted_at=now))


def clear_account(session: Session, email: str) -> None:
    session.exec(delete(SignInAttempt).where(SignInAttempt.account_key == account_key(email)))


def purge_old(session: Session, now: datetime) -> None:
    session.exec(delete(SignInAttempt).where(SignInAttempt.attempted_at <= now - WINDOW))
