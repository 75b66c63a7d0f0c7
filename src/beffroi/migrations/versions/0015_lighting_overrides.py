"""lighting: overrides (a level imposed on a selection for a while)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import beffroi.db.base

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lighting_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column(
            "asset_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column(
            "polygon",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("level_pct", sa.Float(), nullable=False),
        sa.Column("starts_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.Column("cancelled_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["communes.code"],
            name=op.f("fk_lighting_overrides_commune_code_communes"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["asset_groups.id"],
            name=op.f("fk_lighting_overrides_group_id_asset_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lighting_overrides")),
    )
    with op.batch_alter_table("lighting_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lighting_overrides_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_overrides_ends_at"), ["ends_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_overrides_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lighting_overrides_state"), ["state"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("lighting_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lighting_overrides_state"))
        batch_op.drop_index(batch_op.f("ix_lighting_overrides_group_id"))
        batch_op.drop_index(batch_op.f("ix_lighting_overrides_ends_at"))
        batch_op.drop_index(batch_op.f("ix_lighting_overrides_commune_code"))

    op.drop_table("lighting_overrides")
