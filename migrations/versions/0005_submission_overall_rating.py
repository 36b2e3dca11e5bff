"""submission overall rating as a column, for lists and reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from audit_portal.audit import triggers as audit_triggers

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overall_rag", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
    # Existing submissions: the overall rating is in the frozen content. The table refuses
    # updates by trigger (a submission is a frozen record): lift it for this copy only.
    bind = op.get_bind()
    dialect = bind.dialect.name
    for statement in audit_triggers.drop_statements(dialect, ("submission",)):
        bind.exec_driver_sql(statement)
    if dialect == "sqlite":
        bind.exec_driver_sql(
            "UPDATE submission SET overall_rag = json_extract(content, '$.score.overall')"
        )
    else:
        bind.exec_driver_sql(
            "UPDATE submission SET overall_rag = content::json -> 'score' ->> 'overall'"
        )
    for statement in audit_triggers.create_statements(dialect, ("submission",)):
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_column("overall_rag")
