"""CSRF tokens bound to the server-side session: HMAC(secret key, the session's CSRF secret).

Every state-changing request (plain form or htmx) must carry the token, in the `csrf_token`
form field or the `X-CSRF-Token` header. The guard checks it before any endpoint runs, so a
route cannot forget to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(secret_key: str, csrf_secret: str) -> str:
    digest = hmac.digest(secret_key.encode(), csrf_secret.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_valid(secret_key: str, csrf_secret: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(token_for(secret_key, csrf_secret), presented)
