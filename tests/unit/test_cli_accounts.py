"""`seed-demo` and `create-user`, run as the README runs them."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import Engine
from sqlmodel import col, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal import cli
from audit_portal.config import Settings
from audit_portal.db import session_scope
from audit_portal.models import AuditEvent, Membership, Organisation, User
from tests.personas import csrf_from


@pytest.fixture
def env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("AUDIT_PORTAL_VAR_DIR", str(settings.var_dir))


def test_seed_demo_adds_the_county_once(
    env: None, clean_db: Engine, app: Starlette, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["seed-demo"]) == 0
    out = capsys.readouterr().out
    assert "1,490 organisations, 2,980 returns in 6 campaigns" in out
    assert "admin@demo.example" in out and "demo-password-2026" in out
    assert cli.main(["seed-demo"]) == 0
    assert "no demo data added (use --force" in capsys.readouterr().out
    assert cli.main(["seed-demo", "--force"]) == 2  # never twice
    assert "already in this database" in capsys.readouterr().err
    with session_scope(clean_db, write=False) as db:
        assert db.exec(select(func.count()).select_from(Organisation)).one() == 1490
        assert len(db.exec(select(User)).all()) == 7
        dsl = db.exec(select(User).where(User.email == "dsl@school.demo.example")).one()
        school = db.exec(
            select(Organisation)
            .join(Membership, col(Membership.organisation_id) == Organisation.id)
            .where(Membership.user_id == dsl.id)
        ).one()
    said = (
        rf"dsl@school\.demo\.example +Respondent \(safeguarding lead\), {re.escape(school.name)}\n"
    )
    assert re.search(said, out)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/sign-in")
        signed = client.post(
            "/sign-in",
            data={
                "csrf_token": csrf_from(page.text),
                "email": "dsl@school.demo.example",
                "password": "demo-password-2026",
            },
        )
        assert signed.status_code == 303
        dashboard = client.get("/dashboard").text
        assert school.name in html.unescape(dashboard) and "In progress" in dashboard


def test_seed_demo_refuses_production(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUDIT_PORTAL_ENV", "production")
    assert cli.main(["seed-demo"]) == 2
    assert "refuses to run in production" in capsys.readouterr().err


def test_create_user_prints_a_working_invitation(
    env: None, clean_db: Engine, app: Starlette, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["create-user", "First.Admin@Partnership.example", "--role", "admin"]) == 0
    out = capsys.readouterr().out
    assert "Created first.admin@partnership.example (Partnership administrator)." in out
    link = re.search(r"http://127\.0\.0\.1:8000(/invitation/\S+)", out).group(1)
    with session_scope(clean_db, write=False) as db:
        user = db.exec(select(User)).one()
        assert db.exec(select(Membership)).one().role == "admin"
        assert {e.action for e in db.exec(select(AuditEvent)).all()} == {
            "user.create",
            "membership.create",
        }
        assert all(e.actor_label.startswith("cli:") for e in db.exec(select(AuditEvent)).all())
    with TestClient(app, follow_redirects=False) as client:
        page = client.get(link)
        assert user.email in page.text
    assert cli.main(["create-user", "first.admin@partnership.example", "--role", "admin"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["create-user", "dsl@school.example", "--role", "respondent"]) == 2
    assert "Choose the organisation" in capsys.readouterr().err
