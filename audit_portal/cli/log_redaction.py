"""Keep secrets out of logs: sign-in links carry tokens in their paths.

Uvicorn's access log prints every request path, so `/invitation/<token>` would put a working
sign-in link into the log. This filter replaces the token before the line is written.
"""

from __future__ import annotations

import logging
import re

TOKEN_PATH = re.compile(r"(/(?:invitation|reset-password)/)[^\s/?\"']+")


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "audit_portal"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
