"""Unexpected errors show a plain page whose reference finds the log lines; every request is
logged once, as one JSON object a line, with its id, route, status and duration."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.config import ConfigError, Settings
from audit_portal.policy import Permission
from audit_portal.web.app import create_app
from audit_portal.web.guard import page
from audit_portal.web.request_log import JsonFormatter
from tests.builders import visible_text
from tests.personas import World, signed_in

SECRET_DETAIL = "the database password is hunter2"


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    """The per-request log lines, as a log shipper would read them."""
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(r)) for r in caplog.records if r.name == "audit_portal.requests"
    ]


@pytest.fixture
def broken_app(settings: Settings, engine: Engine, clean_db: Engine) -> Starlette:
    async def broken(request):  # type: ignore[no-untyped-def]
        raise RuntimeError(SECRET_DETAIL)

    app = create_app(settings, engine=engine)
    app.router.routes.append(page("/broken/{thing}", broken, permission=Permission.PUBLIC))
    return app


def test_an_unexpected_error_shows_a_reference_that_finds_its_log_lines(
    broken_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="audit_portal")
    with TestClient(broken_app, raise_server_exceptions=False) as client:
        response = client.get("/broken/42")
    assert response.status_code == 500
    text = visible_text(response.text)
    assert "Sorry, there is a problem with the service" in text
    assert "Traceback" not in response.text and SECRET_DETAIL not in response.text
    assert "RuntimeError" not in response.text
    found = re.search(r"quote reference ([0-9a-f]{32})", text)
    assert found, text
    reference = found.group(1)
    assert response.headers["x-request-id"] == reference

    crash = [r for r in caplog.records if r.exc_info and getattr(r, "request_id", "") == reference]
    assert len(crash) == 1, "the traceback is logged under the reference shown"
    shipped = json.loads(JsonFormatter().format(crash[0]))
    assert shipped["request_id"] == reference and shipped["level"] == "error"
    assert SECRET_DETAIL in shipped["exception"] and "Traceback" in shipped["exception"]

    [line] = [line for line in request_lines(caplog) if line["request_id"] == reference]
    assert line["route"] == "/broken/{thing}" and line["status"] == 500
    assert line["method"] == "GET" and isinstance(line["duration_ms"], float)


def test_every_request_is_one_json_line_with_route_status_and_duration(
    client: TestClient, clean_db: Engine, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    return_id = world.returns[world.org_a]
    signed_in(client, clean_db, world.people["respondent_a"])
    caplog.set_level(logging.INFO, logger="audit_portal")
    caplog.clear()
    shown = client.get(f"/returns/{return_id}")
    missing = client.get("/no-such-page")
    invitation = client.get("/invitation/a-working-secret-token")
    assert (shown.status_code, missing.status_code) == (200, 404)

    lines = request_lines(caplog)
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/returns/{return_id:id}", 200),
        ("GET", None, 404),
        ("GET", "/invitation/{token}", invitation.status_code),
    ]
    assert [line["request_id"] for line in lines] == [
        r.headers["x-request-id"] for r in (shown, missing, invitation)
    ]
    assert lines[1]["path"] == "/no-such-page"
    assert all(line["duration_ms"] >= 0 for line in lines)
    shipped = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "a-working-secret-token" not in shipped, "sign-in tokens stay out of the logs"
    assert all(json.loads(one) for one in shipped.splitlines()), "one JSON object a line"


def test_log_format_is_json_in_production_and_can_be_plain_text(tmp_path: Path) -> None:
    base = {"AUDIT_PORTAL_VAR_DIR": str(tmp_path), "SECRET_KEY": "k" * 40}
    assert Settings.from_env(base).log_format == "text"
    assert Settings.from_env(base | {"AUDIT_PORTAL_ENV": "production"}).log_format == "json"
    production_text = base | {"AUDIT_PORTAL_ENV": "production", "LOG_FORMAT": "text"}
    assert Settings.from_env(production_text).log_format == "text"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be one of json, text"):
        Settings.from_env(base | {"LOG_FORMAT": "xml"})
