"""`audit-portal migrate` on a SQLite file whose folder does not exist yet makes the folder."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from audit_portal.db import migrate


def test_migrate_makes_the_sqlite_files_folder(tmp_path: Path) -> None:
    database = tmp_path / "not" / "there" / "yet" / "portal.sqlite"
    migrate(f"sqlite:///{database}")
    engine = create_engine(f"sqlite:///{database}")
    try:
        assert "audit_return" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
