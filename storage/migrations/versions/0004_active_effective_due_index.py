"""partial index on active cases by effective due date (reminder sweep)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state NOT IN ('done', 'refused', 'withdrawn')"


def upgrade() -> None:
    op.create_index(
        "ix_dsr_case_active_effective_due",
        "dsr_case",
        [sa.text("coalesce(extended_due, due)"), "id"],
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("ix_dsr_case_active_effective_due", table_name="dsr_case")
