"""opendata: snapshots published, API keys handed out

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beffroi.db.base

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "opendata_snapshots",
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dataset", "version", name=op.f("pk_opendata_snapshots")),
    )
    op.create_table(
        "opendata_api_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", beffroi.db.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opendata_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_opendata_api_keys_key_hash")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("opendata_api_keys")
    op.drop_table("opendata_snapshots")
