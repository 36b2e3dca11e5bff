"""/healthz tells a load balancer whether this instance can reach its database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from starlette.testclient import TestClient

from audit_portal.config import Settings
from audit_portal.web.app import create_app


def test_healthy_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_unavailable_when_the_database_does_not_answer(settings: Settings, tmp_path: Path) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path}/missing-dir/nothing.sqlite3")
    app = create_app(settings, engine=unreachable)
    # No lifespan here: the instance is already running when its database goes away.
    response = TestClient(app).get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
