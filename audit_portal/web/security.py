"""Security headers on every response, with a fresh CSP nonce per request.

A pure ASGI middleware (not BaseHTTPMiddleware) so streaming responses pass through untouched.
The nonce is stored on ``request.state.csp_nonce`` for the one inline script that
govuk-frontend's template needs. ``PortalApp`` puts it outside everything else, Starlette's error
middleware included, so a 500 or a 413 carries the same headers as any page.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE_PREFIXES = ("/static/",)  # built assets hold nothing about anybody


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["csp_nonce"] = nonce
        state["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", content_security_policy(nonce))
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                headers.setdefault("X-Request-Id", request_id)
                if not scope["path"].startswith(CACHEABLE_PREFIXES):
                    # Safeguarding data must never be kept by a browser or a proxy: after
                    # signing out, the back button must not show it again.
                    headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuse a request body over ``limit`` bytes with the portal's own 413 page.

    A declared Content-Length over the limit is refused before anything is read; a body that
    turns out larger while streaming stops being read at the limit (the error reaches the
    endpoint reading it, and the exception handlers turn it into the same page).

    ``wider`` gives paths (whole-path patterns) a limit of their own: evidence uploads, whose
    route enforces its own limits while streaming, with messages about the file.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        refuse: ASGIApp,
        wider: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.refuse = refuse
        self.wider = tuple(wider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = next((n for p, n in self.wider if p.fullmatch(path)), self.limit)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await self.refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counting_receive, send)


TOO_LARGE = (
    "What you sent is larger than the portal accepts. If you were uploading files, "
    "upload fewer or smaller files at a time."
)
