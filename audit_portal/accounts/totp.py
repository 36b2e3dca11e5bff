"""Second factor: time-based one-time passwords from an authenticator app, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

ISSUER = "Safeguarding Audit Portal"
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, partnership: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"{ISSUER} ({partnership})")


def qr_svg(uri: str) -> str:
    """An inline SVG QR code, drawn on the server: no third-party image service."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#0b0c0c", light="#ffffff")


@dataclass(frozen=True)
class CodeCheck:
    """The time step a code belongs to (None: wrong), and whether it was used before."""

    step: int | None
    reused: bool = False

    @property
    def ok(self) -> bool:
        return self.step is not None and not self.reused


def check_code(secret: str | None, code: str, now: datetime, last_step: int | None) -> CodeCheck:
    """Accept the code of this 30-second step or the one before (a phone a little slow), once.

    Never a later step: a code the phone has not shown yet cannot be known honestly. A code
    whose step is not after ``last_step`` (the last one accepted for this person) has been used.
    """
    cleaned = "".join(ch for ch in code if ch in "0123456789")
    if not secret or len(cleaned) != 6:
        return CodeCheck(None)
    generator = pyotp.TOTP(secret)
    current = generator.timecode(now)
    for step in (current, current - 1):
        if hmac.compare_digest(generator.generate_otp(step), cleaned):
            return CodeCheck(step, reused=last_step is not None and step <= last_step)
    return CodeCheck(None)


def new_recovery_codes() -> list[str]:
    """Ten codes like 'k3f9-2mqd-7x4p', shown once; only their hashes are kept."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def hash_recovery_code(code: str) -> str:
    # The codes carry ~60 random bits each, so a plain hash is enough (no password stretching).
    return hashlib.sha256(code.strip().lower().replace(" ", "").encode()).hexdigest()


def use_recovery_code(stored_hashes: list[str], code: str) -> list[str] | None:
    """The remaining hashes after spending ``code``, or None if it is not one of them."""
    wanted = hash_recovery_code(code)
    for stored in stored_hashes:
        if hmac.compare_digest(stored, wanted):
            return [h for h in stored_hashes if h != stored]
    return None
