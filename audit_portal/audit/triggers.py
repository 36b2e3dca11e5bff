"""Database triggers that make the audit trail and submitted returns append-only.

The portal offers no way to edit or delete an audit event or a submission (the frozen record of
a signed return); these triggers make the database refuse it too, whoever asks. Used by the
migrations, and by the test suite, which must empty the tables between tests and so drops and
recreates the triggers around its clean-up.
"""

from __future__ import annotations

MESSAGES = {
    "audit_event": "audit events are append-only",
    "submission": "submitted returns are frozen records",
    "follow_up_submission": "submitted follow-ups are frozen records",
}


def create_statements(dialect: str, tables: tuple[str, ...] = tuple(MESSAGES)) -> list[str]:
    statements: list[str] = []
    for table in tables:
        message = MESSAGES[table]
        if dialect == "sqlite":
            statements += [
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                for op in ("UPDATE", "DELETE")
            ]
            continue
        statements += [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        ]
    return statements


def drop_statements(dialect: str, tables: tuple[str, ...] = tuple(MESSAGES)) -> list[str]:
    statements: list[str] = []
    for table in tables:
        if dialect == "sqlite":
            statements += [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
            continue
        statements += [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {table}_append_only()",
        ]
    return statements
