"""Database triggers that make the audit trail and submitted returns append-only.

The portal offers no way to edit or delete an audit event or a submission (the frozen record of
a signed return); these triggers make the database refuse it too, whoever asks. A few records
are frozen only from a point in their life (a feedback letter once it is sent): their triggers
refuse a change to a row in that state and let drafts change freely. Used by the migrations,
and by the test suite, which must empty the tables between tests and so drops and recreates
the triggers around its clean-up.
"""

from __future__ import annotations

MESSAGES = {
    "audit_event": "audit events are append-only",
    "submission": "submitted returns are frozen records",
    "follow_up_submission": "submitted follow-ups are frozen records",
}
# Frozen once the old row meets the condition (SQL over OLD): table -> (condition, message).
FROZEN_WHEN = {
    "feedback_letter": ("OLD.status = 'sent'", "sent feedback letters are kept as sent"),
}
ALL_TABLES = (*MESSAGES, *FROZEN_WHEN)


def create_statements(dialect: str, tables: tuple[str, ...] = ALL_TABLES) -> list[str]:
    statements: list[str] = []
    for table in tables:
        if table in FROZEN_WHEN:
            statements += _frozen_when(dialect, table, *FROZEN_WHEN[table])
            continue
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


def _frozen_when(dialect: str, table: str, condition: str, message: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"WHEN {condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN IF {condition} THEN RAISE EXCEPTION '{message}'; "
        "END IF; IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]


def drop_statements(dialect: str, tables: tuple[str, ...] = ALL_TABLES) -> list[str]:
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
