"""breaches: the breach register and its escalations

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_UTC = storage.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "breach_counter",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "breach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", _STR(length=32), nullable=False),
        sa.Column("state", _STR(length=16), nullable=False),
        sa.Column("source", _STR(length=16), nullable=False),
        sa.Column("language", _STR(length=2), nullable=False),
        sa.Column("reporter", storage.types.SealedText(), nullable=False),
        sa.Column("reporter_name", storage.types.SealedText(), nullable=False),
        sa.Column("processor", _STR(length=64), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("received_at", _UTC(timezone=True), nullable=False),
        sa.Column("aware_at", _UTC(timezone=True), nullable=False),
        sa.Column("facts", storage.types.SealedJSON(), nullable=False),
        sa.Column("requests_sent", sa.Integer(), nullable=False),
        sa.Column("ap_notified", sa.Boolean(), nullable=True),
        sa.Column("ap_number", _STR(length=64), nullable=True),
        sa.Column("risk", storage.types.SealedText(), nullable=True),
        sa.Column("subjects_told", sa.Boolean(), nullable=True),
        sa.Column("subjects_reasons", storage.types.SealedText(), nullable=True),
        sa.Column("decided_at", _UTC(timezone=True), nullable=True),
        sa.Column("decided_by", _STR(length=128), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("updated_at", _UTC(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_breach_reference"), "breach", ["reference"], unique=True)
    op.create_index(op.f("ix_breach_state"), "breach", ["state"], unique=False)
    op.create_table(
        "breach_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("direction", _STR(length=8), nullable=False),
        sa.Column("message_id", _STR(length=998), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["breach_id"], ["breach.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_breach_mail_breach_id"), "breach_mail", ["breach_id"], unique=False)
    op.create_index(op.f("ix_breach_mail_message_id"), "breach_mail", ["message_id"], unique=False)
    op.create_table(
        "breach_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("step", _STR(length=32), nullable=False),
        sa.Column("due", _UTC(timezone=True), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["breach_id"], ["breach.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("breach_id", "step", "due", name="uq_breach_escalation_step"),
    )
    op.create_index(
        op.f("ix_breach_escalation_breach_id"), "breach_escalation", ["breach_id"], unique=False
    )
    op.create_table(
        "breach_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.Column("actor", _STR(length=128), nullable=False),
        sa.Column("text", storage.types.SealedText(), nullable=False),
        sa.ForeignKeyConstraint(["breach_id"], ["breach.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_breach_update_breach_id"), "breach_update", ["breach_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_breach_update_breach_id"), table_name="breach_update")
    op.drop_table("breach_update")
    op.drop_index(op.f("ix_breach_escalation_breach_id"), table_name="breach_escalation")
    op.drop_table("breach_escalation")
    op.drop_index(op.f("ix_breach_mail_message_id"), table_name="breach_mail")
    op.drop_index(op.f("ix_breach_mail_breach_id"), table_name="breach_mail")
    op.drop_table("breach_mail")
    op.drop_index(op.f("ix_breach_state"), table_name="breach")
    op.drop_index(op.f("ix_breach_reference"), table_name="breach")
    op.drop_table("breach")
    op.drop_table("breach_counter")
