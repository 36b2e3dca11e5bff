"""Sign-in links never reach the logs."""

from __future__ import annotations

import logging

import pytest

from audit_portal.cli import log_redaction


def test_access_log_lines_lose_their_tokens(caplog: pytest.LogCaptureFixture) -> None:
    log_redaction.install()
    logger = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/invitation/eyJ1IjozfQ.abc.def?x=1",
            "1.1",
            200,
        )
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "POST",
            "/reset-password/eyJ1IjozfQ.abc.def",
            "1.1",
            303,
        )
    text = caplog.text
    assert "eyJ1IjozfQ" not in text
    assert "/invitation/[redacted]?x=1" in text and "/reset-password/[redacted]" in text


def test_other_paths_are_untouched() -> None:
    assert log_redaction.redact("GET /organisations/12/edit") == "GET /organisations/12/edit"
