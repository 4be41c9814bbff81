"""consent and task threads: client consent, task notices and processor threads (fulfilment)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD/DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy of `dsr_case` on SQLite
# would lose the expression index ix_dsr_case_active_effective_due, which it cannot reflect.
TASK_COLUMNS = ("mail_message_id", "answer_by", "reply_at", "slack_channel", "slack_ts")


def upgrade() -> None:
    op.add_column("dsr_case", sa.Column("client_may_be_informed", sa.Boolean(), nullable=True))
    op.add_column(
        "task",
        sa.Column("mail_message_id", sqlmodel.sql.sqltypes.AutoString(length=998), nullable=True),
    )
    op.add_column("task", sa.Column("answer_by", sa.Date(), nullable=True))
    op.add_column(
        "task", sa.Column("reply_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "task",
        sa.Column("slack_channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    )
    op.add_column(
        "task", sa.Column("slack_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
    )
    op.create_index(op.f("ix_task_mail_message_id"), "task", ["mail_message_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_mail_message_id"), table_name="task")
    for column in TASK_COLUMNS:
        op.execute(f"ALTER TABLE task DROP COLUMN {column}")
    op.execute("ALTER TABLE dsr_case DROP COLUMN client_may_be_informed")
