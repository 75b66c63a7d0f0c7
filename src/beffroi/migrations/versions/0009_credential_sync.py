"""credential sync: change sequence, followers, refused logins, readable rejects

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beffroi.db.base

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("device_credentials") as batch:
        batch.add_column(sa.Column("seq", BIG_ID, server_default="0", nullable=False))
        batch.create_index(batch.f("ix_device_credentials_seq"), ["seq"], unique=False)
    head = op.create_table(
        "credential_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", BIG_ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0}])
    op.create_table(
        "credential_followers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("seq", BIG_ID, nullable=False),
        sa.Column("seen_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_credential_followers")),
    )
    op.create_table(
        "device_login_failures",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("peer", sa.String(length=64), nullable=True),
        sa.Column("first_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", BIG_ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_login_failures")),
    )
    op.create_index(
        "ix_device_login_failures_last_at", "device_login_failures", ["last_at"], unique=False
    )
    op.create_index(
        "uq_device_login_failures_key",
        "device_login_failures",
        ["username", "reason", "source"],
        unique=True,
    )
    with op.batch_alter_table("rejected_messages") as batch:
        batch.add_column(sa.Column("asset_id", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "payload_encoding", sa.String(length=8), server_default="utf-8", nullable=False
            )
        )
        batch.add_column(
            sa.Column("payload_size", sa.Integer(), server_default="0", nullable=False)
        )
        batch.create_index(batch.f("ix_rejected_messages_asset_id"), ["asset_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("rejected_messages") as batch:
        batch.drop_index(batch.f("ix_rejected_messages_asset_id"))
        batch.drop_column("payload_size")
        batch.drop_column("payload_encoding")
        batch.drop_column("asset_id")
    op.drop_index("uq_device_login_failures_key", table_name="device_login_failures")
    op.drop_index("ix_device_login_failures_last_at", table_name="device_login_failures")
    op.drop_table("device_login_failures")
    op.drop_table("credential_followers")
    op.drop_table("credential_head")
    with op.batch_alter_table("device_credentials") as batch:
        batch.drop_index(batch.f("ix_device_credentials_seq"))
        batch.drop_column("seq")
