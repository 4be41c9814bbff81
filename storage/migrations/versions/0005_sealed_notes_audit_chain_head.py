"""sealed free-text notes, keyed audit chain

Revision ID: 0005
Revises: 0004

The free-text columns of a case (outcome note, extension reason, the evidence words) become
sealed columns; their values are sealed here with the key of the engine that runs the upgrade.
Audit rows get a sealed `note`, the keyed digest of that note (`note_mac`) and the hash scheme
of the row (1: plain SHA-256, the rows written before; 2: HMAC-SHA256 with the audit key).
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTES = ("outcome_note", "extension_reason")


def upgrade() -> None:
    bind = op.get_bind()
    plain = sa.table(
        "dsr_case",
        sa.column("id", sa.Integer()),
        sa.column("outcome_note", sa.Text()),
        sa.column("extension_reason", sa.Text()),
        sa.column("evidence", sa.Text()),
    )
    rows = bind.execute(
        sa.select(
            plain.c.id,
            plain.c.outcome_note,
            plain.c.extension_reason,
            sa.cast(plain.c.evidence, sa.Text()),
        )
    ).all()
    with op.batch_alter_table("dsr_case", schema=None) as batch_op:
        for name in NOTES:
            batch_op.alter_column(
                name,
                existing_type=sa.VARCHAR(),
                type_=storage.types.SealedText(),
                existing_nullable=True,
            )
        batch_op.alter_column(
            "evidence",
            existing_type=sa.JSON(),
            type_=storage.types.SealedJSON(),
            existing_nullable=False,
            postgresql_using="evidence::text",
        )
    sealed = sa.table(
        "dsr_case",
        sa.column("id", sa.Integer()),
        sa.column("outcome_note", storage.types.SealedText()),
        sa.column("extension_reason", storage.types.SealedText()),
        sa.column("evidence", storage.types.SealedJSON()),
    )
    for case_id, outcome_note, extension_reason, evidence in rows:
        bind.execute(
            sa.update(sealed)
            .where(sealed.c.id == case_id)
            .values(
                outcome_note=outcome_note,
                extension_reason=extension_reason,
                evidence=json.loads(evidence) if evidence else [],
            )
        )

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", storage.types.SealedText(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "note_mac",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("scheme", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("scheme")
        batch_op.drop_column("note_mac")
        batch_op.drop_column("note")
    bind = op.get_bind()
    sealed = sa.table(
        "dsr_case",
        sa.column("id", sa.Integer()),
        sa.column("outcome_note", storage.types.SealedText()),
        sa.column("extension_reason", storage.types.SealedText()),
        sa.column("evidence", storage.types.SealedJSON()),
    )
    rows = bind.execute(
        sa.select(sealed.c.id, sealed.c.outcome_note, sealed.c.extension_reason, sealed.c.evidence)
    ).all()
    plain = sa.table(
        "dsr_case",
        sa.column("id", sa.Integer()),
        sa.column("outcome_note", sa.Text()),
        sa.column("extension_reason", sa.Text()),
        sa.column("evidence", sa.Text()),
    )
    for case_id, outcome_note, extension_reason, evidence in rows:
        bind.execute(
            sa.update(plain)
            .where(plain.c.id == case_id)
            .values(
                outcome_note=outcome_note,
                extension_reason=extension_reason,
                evidence=json.dumps(evidence or []),
            )
        )
    with op.batch_alter_table("dsr_case", schema=None) as batch_op:
        batch_op.alter_column(
            "evidence",
            existing_type=storage.types.SealedJSON(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="evidence::json",
        )
        for name in NOTES:
            batch_op.alter_column(
                name,
                existing_type=storage.types.SealedText(),
                type_=sa.VARCHAR(),
                existing_nullable=True,
            )
