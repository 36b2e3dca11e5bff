"""Second factor: time-based one-time passwords from an authenticator app, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

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


def verify_code(secret: str | None, code: str) -> bool:
    if not secret:
        return False
    cleaned = "".join(ch for ch in code if ch.isdigit())
    return len(cleaned) == 6 and pyotp.TOTP(secret).verify(cleaned, valid_window=1)


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
