"""download links: the requester's download links and status-page codes

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "download_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        _text("token_hash", 64, nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        sa.Column("max_downloads", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("code", storage.types.SealedText(), nullable=True),
        _at("code_issued_at", nullable=True),
        _text("session_hash", 64, nullable=True),
        _at("session_until", nullable=True),
        _text("package_file", 255, nullable=True),
        _at("first_download_at", nullable=True),
        _at("last_download_at", nullable=True),
        _at("purged_at", nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dsr_case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_download_link_case_id", "download_link", ["case_id"])
    op.create_index("ix_download_link_expires_at", "download_link", ["expires_at"])
    op.create_table(
        "status_access",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("token_hash", 64, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("code", storage.types.SealedText(), nullable=False),
        _at("created_at", nullable=False),
        _at("expires_at", nullable=False),
        sa.Column("wrong_codes", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        _at("verified_at", nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dsr_case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_status_access_case_id", "status_access", ["case_id"])
    op.create_index("ix_status_access_created_at", "status_access", ["created_at"])
    op.create_table(
        "web_rate_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("bucket", 80, nullable=False),
        _at("at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_rate_hit_bucket_at", "web_rate_hit", ["bucket", "at"])


def downgrade() -> None:
    op.drop_index("ix_web_rate_hit_bucket_at", table_name="web_rate_hit")
    op.drop_table("web_rate_hit")
    op.drop_index("ix_status_access_created_at", table_name="status_access")
    op.drop_index("ix_status_access_case_id", table_name="status_access")
    op.drop_table("status_access")
    op.drop_index("ix_download_link_expires_at", table_name="download_link")
    op.drop_index("ix_download_link_case_id", table_name="download_link")
    op.drop_table("download_link")
