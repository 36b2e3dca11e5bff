"""The migrations build exactly the schema the models describe, on the database under test.

A model changed without a migration (or the reverse) would work in tests that create tables
from the models, then fail on a real upgrade; Alembic's own comparison catches it here.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import audit_portal.models  # noqa: F401  (every table registered on the metadata)


def test_the_migrated_schema_is_the_models_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "compare_server_default": False}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], differences
