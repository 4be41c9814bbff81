"""restore the active-case index: SQLite's table copy in 0005 dropped it

Revision ID: 0012
Revises: 0011

Alembic's batch mode rebuilds a SQLite table by copying it, and the copy in 0005 did not carry
the expression index of 0004, so every SQLite database migrated past 0005 lacks the index the
reminder sweep walks. Create it where it is missing; PostgreSQL kept it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "state NOT IN ('done', 'refused', 'withdrawn')"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_dsr_case_active_effective_due "
        f"ON dsr_case (coalesce(extended_due, due), id) WHERE {ACTIVE}"
    )


def downgrade() -> None:
    """Nothing: the index belongs to 0004, whose downgrade drops it."""
