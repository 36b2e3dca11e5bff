"""Alembic environment: the URL comes from Settings (or the caller), the metadata from models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool
from sqlmodel import SQLModel

import audit_portal.models  # noqa: F401  (registers every table on SQLModel.metadata)
from audit_portal.config import Settings

config = context.config
target_metadata = SQLModel.metadata


def _database_url() -> str:
    return config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = _database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    sqlite = url.startswith("sqlite")
    with engine.connect() as connection:
        if sqlite:
            # SQLite changes a table by rebuilding it (batch mode): copy, DROP the old, rename.
            # With foreign keys enforced, that DROP deletes the rows pointing at the table (ON
            # DELETE CASCADE) or fails, so they are off while migrating, as SQLite's own
            # procedure for schema changes says, and every reference is checked at the end.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # The pragma autobegan a transaction; end it so Alembic's own transaction commits.
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,  # SQLite needs table rebuilds for ALTERs
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _refuse_broken_references(connection)
    engine.dispose()


def _refuse_broken_references(connection: Connection) -> None:
    """Roll the migration back if it left a row pointing at nothing (foreign keys were off)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"The migration left broken references in: {', '.join(tables)}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
