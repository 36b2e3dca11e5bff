"""One log line per request, and the formatter that makes every log line shippable JSON.

A deployment ships its logs to wherever it keeps them; one JSON object per line, with the
request's id, route, status and duration, is what such tools read without a custom parser. The
request id is the reference the error page shows, so a person quoting it leads to the exact line
(and to the traceback logged beside it under the same id).

Routes are logged by their pattern (``/returns/{return_id:id}``), never the address as sent:
invitation and password-reset addresses carry working tokens, and ids say nothing a pattern
does not. An address no route matched is logged with any such token redacted.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit_portal.cli.log_redaction import redact

log = logging.getLogger("audit_portal.requests")

LOG_FORMATS = ("json", "text")
# Attributes every LogRecord has; anything else was passed in ``extra`` and belongs in the line.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class RequestLogMiddleware:
    """Logs method, route, status and duration of every HTTP request under its request id.

    It sits inside ``SecurityHeadersMiddleware`` (which gives each request its id) and outside
    Starlette's error middleware, so a request that crashed is logged with status 500 too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before it answers

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            _log_request(scope, status, time.perf_counter() - started)


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    # A 503 is the portal shedding load or waiting for its database: expected, not a fault.
    level = logging.INFO if status < 500 else logging.WARNING if status == 503 else logging.ERROR
    if not log.isEnabledFor(level):
        return
    route = scope.get("route")
    fields = {
        "request_id": scope.get("state", {}).get("request_id", ""),
        "method": scope["method"],
        "route": getattr(route, "path", None) if isinstance(route, BaseRoute) else None,
        "path": None if isinstance(route, BaseRoute) else redact(scope["path"])[:300],
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
    }
    shown = fields["route"] or fields["path"]
    log.log(level, "%s %s %s", fields["method"], shown, status, extra=fields)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, any ``extra`` fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Send the portal's and the web server's logs to stderr, as JSON lines or plain text."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("audit_portal", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
