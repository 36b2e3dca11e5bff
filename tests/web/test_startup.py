"""Starting against an un-migrated or older database says so, and how to fix it."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from audit_portal.db import SchemaNotReady, SchemaStatus, create_db_engine, migrate, schema_status
from audit_portal.web.app import create_app
from tests.conftest import make_settings


def test_start_up_refuses_an_unmigrated_database(empty_database_url: str, tmp_path: Path) -> None:
    settings = make_settings(empty_database_url, tmp_path)
    app = create_app(settings)
    with (
        pytest.raises(SchemaNotReady, match=r"no portal tables yet.*audit-portal migrate"),
        TestClient(app),
    ):
        pass


def test_start_up_succeeds_after_migrate(empty_database_url: str, tmp_path: Path) -> None:
    settings = make_settings(empty_database_url, tmp_path)
    migrate(settings.database_url)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["database"] == "ok"


def test_migrations_go_down_and_up_again(empty_database_url: str, tmp_path: Path) -> None:
    settings = make_settings(empty_database_url, tmp_path)
    engine = create_db_engine(settings)
    migrate(settings.database_url)
    assert schema_status(engine, settings.database_url).up_to_date
    migrate_down(settings.database_url)
    assert schema_status(engine, settings.database_url).current == ()
    migrate(settings.database_url)
    assert schema_status(engine, settings.database_url).up_to_date
    engine.dispose()


def migrate_down(url: str) -> None:
    from alembic import command

    from audit_portal.db import alembic_config

    command.downgrade(alembic_config(url), "base")


def test_an_older_schema_is_explained() -> None:
    status = SchemaStatus(current=("0001",), head=("0002",))
    message = status.problem()
    assert message is not None
    assert "at revision 0001" in message and "needs 0002" in message
    assert "audit-portal migrate" in message and "data is kept" in message
    assert SchemaStatus(current=("0002",), head=("0002",)).problem() is None
