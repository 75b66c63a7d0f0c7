"""lighting delivery: the schedule version sent to each cabinet and the one it acknowledged

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import beffroi.db.base

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lighting_deliveries",
        sa.Column("cabinet_id", sa.String(length=64), nullable=False),
        sa.Column("delivered_version", sa.Integer(), nullable=False),
        sa.Column("delivered_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("acked_version", sa.Integer(), nullable=True),
        sa.Column("acked_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cabinet_id"],
            ["lighting_schedules.cabinet_id"],
            name=op.f("fk_lighting_deliveries_cabinet_id_lighting_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cabinet_id", name=op.f("pk_lighting_deliveries")),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_table("lighting_deliveries")
