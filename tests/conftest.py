"""Shared fixtures: settings for the database under test, a migrated engine, the app, clients.

The suite runs once per database: TEST_DATABASE=sqlite (default) or TEST_DATABASE=postgresql.
For PostgreSQL a throwaway database is created on TEST_POSTGRES_URL (default: the local server,
user postgres, trust auth) and dropped at the end of the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine.url import make_url
from sqlmodel import SQLModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

from audit_portal.audit import triggers as audit_triggers
from audit_portal.config import Settings
from audit_portal.db import create_db_engine, migrate
from audit_portal.web.app import create_app

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_report_header(config: pytest.Config) -> str:
    return f"database under test: {_database_kind()}"


def _database_kind() -> str:
    kind = os.environ.get("TEST_DATABASE", "sqlite")
    if kind not in {"sqlite", "postgresql"}:
        raise pytest.UsageError("TEST_DATABASE must be sqlite or postgresql")
    return kind


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _database_kind() == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    admin_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"audit_portal_test_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_settings(database_url: str, var_dir: Path, **overrides: str) -> Settings:
    env = {
        "AUDIT_PORTAL_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "AUDIT_PORTAL_VAR_DIR": str(var_dir),
        "PARTNERSHIP_NAME": "Testshire Safeguarding Children Partnership",
        "EMBEDDED_WORKER": "false",  # tests run the sender and reminders themselves
        **overrides,
    }
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    migrate(settings.database_url)
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_db(engine: Engine) -> Iterator[Engine]:
    """Each test that writes starts and ends with empty tables (the schema stays)."""
    yield engine
    dialect = engine.dialect.name
    with engine.begin() as conn:
        # The audit trail refuses deletes by design; lift that for the clean-up only.
        for statement in audit_triggers.drop_statements(dialect):
            conn.exec_driver_sql(statement)
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
        for statement in audit_triggers.create_statements(dialect):
            conn.exec_driver_sql(statement)


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> Starlette:
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: Starlette, clean_db: Engine) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind, for start-up and migration tests."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    url = make_url(database_url)
    name = f"{url.database}_empty_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def world(clean_db: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    from tests.personas import make_world

    return make_world(clean_db, settings)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: quick feedback first, and Playwright's event loop (which lives in
    the main thread once a browser starts) never meets the async unit tests' own loops.

    With TEST_BOTH_DATABASES=1 (``make test`` sets it: its SQLite and PostgreSQL runs go side
    by side) the two runs share out what one run can do for both: the unit tests that use no
    database run in the SQLite run only, and the browser tests, which take most of the time,
    alternate between the runs in the order of their names. Every other test runs on both."""
    items.sort(key=lambda item: _folder(item) == "browser")
    if os.environ.get("TEST_BOTH_DATABASES") != "1":
        return
    kind = _database_kind()
    browser = sorted(item.nodeid for item in items if _folder(item) == "browser")
    other_run = {nodeid for n, nodeid in enumerate(browser) if n % 2 != (kind == "postgresql")}
    left_out = [
        item
        for item in items
        if item.nodeid in other_run or (kind == "postgresql" and _unit_without_database(item))
    ]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        dropped = {id(item) for item in left_out}
        items[:] = [item for item in items if id(item) not in dropped]


def _folder(item: pytest.Item) -> str:
    return Path(str(item.fspath)).parent.name


def _unit_without_database(item: pytest.Item) -> bool:
    return _folder(item) == "unit" and "database_url" not in getattr(item, "fixturenames", ())
