"""Signed, expiring, single-use links for invitations and password resets.

A link carries the user id and a fingerprint of the user's security stamp. Setting a password
changes the stamp, so every link issued before stops working: that is what makes a link
single-use without a table of used tokens.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from audit_portal.config import Settings
from audit_portal.models import User


class Purpose(StrEnum):
    INVITATION = "invitation"
    RESET = "password-reset"


MAX_AGE_SECONDS = {Purpose.INVITATION: 7 * 24 * 3600, Purpose.RESET: 2 * 3600}


class LinkProblem(Exception):
    """The link cannot be used; the message says why in plain English."""


@dataclass(frozen=True)
class LinkClaims:
    user_id: int
    stamp: str


def _serializer(settings: Settings, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=f"audit-portal/{purpose}")


def stamp_fingerprint(user: User) -> str:
    return hashlib.sha256(user.security_stamp.encode()).hexdigest()[:16]


def make_link_token(settings: Settings, user: User, purpose: Purpose) -> str:
    return _serializer(settings, purpose).dumps({"u": user.id, "s": stamp_fingerprint(user)})


def read_link_token(settings: Settings, token: str, purpose: Purpose) -> LinkClaims:
    try:
        data = _serializer(settings, purpose).loads(token, max_age=MAX_AGE_SECONDS[purpose])
    except SignatureExpired:
        raise LinkProblem("This link has expired.") from None
    except BadSignature:
        raise LinkProblem("This link is not valid. Check you copied the whole link.") from None
    return LinkClaims(user_id=int(data["u"]), stamp=str(data["s"]))


def check_claims(claims: LinkClaims, user: User | None) -> User:
    """The user the link is for, if it has not been used and the account is still open."""
    if user is None or not user.is_active:
        raise LinkProblem("This link is not valid. Check you copied the whole link.")
    if claims.stamp != stamp_fingerprint(user):
        raise LinkProblem("This link has already been used.")
    return user
