"""Database triggers that make audit_event append-only on SQLite and PostgreSQL.

The portal offers no way to edit or delete an audit event; these make the database refuse it
too, whoever asks. Used by the migration (and by the test suite, which must empty the table
between tests and so drops and recreates them around its clean-up).
"""

from __future__ import annotations

MESSAGE = "audit events are append-only"


def create_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON audit_event "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
        "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
    ]


def drop_statements(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS audit_event_no_{op}" for op in ("update", "delete")]
    return [
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
        "DROP FUNCTION IF EXISTS audit_event_append_only()",
    ]
