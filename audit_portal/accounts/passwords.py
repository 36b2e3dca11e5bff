"""Password hashing (Argon2id) and the rules a new password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from audit_portal.config import Settings

MIN_LENGTH = 12
MAX_LENGTH = 256
# A few passwords people choose for work systems; the length rule stops most of the rest.
COMMON = frozenset(
    {
        "password1234",
        "password12345",
        "safeguarding",
        "safeguarding1",
        "safeguarding123",
        "123456789012",
        "qwertyuiopas",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "passwordpassword",
        "iloveyou1234",
        "administrator",
    }
)


@cache
def _hasher(cheap: bool) -> PasswordHasher:
    # Default Argon2id parameters cost ~150 ms here: right for production, too slow for tests.
    if cheap:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def hasher(settings: Settings) -> PasswordHasher:
    return _hasher(settings.environment == "test")


def hash_password(settings: Settings, password: str) -> str:
    return hasher(settings).hash(password)


def verify_password(settings: Settings, stored: str | None, password: str) -> bool:
    """Constant work whether or not the account has a password, so timing reveals nothing."""
    h = hasher(settings)
    if not stored:
        h.hash(password)
        return False
    try:
        return h.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, email: str) -> str | None:
    """The GOV.UK-style error message for an unacceptable new password, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        return "Password is too easy to guess: try three random words together"
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        return "Password must not contain your email address"
    return None
