"""energy: daily totals per metered asset, per cabinet and per commune

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # The daily totals read one key of every asset over a day's hours.
    with op.batch_alter_table("telemetry_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_telemetry_rollups_key_bucket", ["key", "bucket"], unique=False)

    op.create_table(
        "energy_daily",
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("asset_type", sa.String(length=40), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("cabinet_id", sa.String(length=64), nullable=False),
        sa.Column("energy_wh", sa.Float(), nullable=False),
        sa.Column("offpeak_wh", sa.Float(), nullable=False),
        sa.Column("burning_h", sa.Float(), nullable=True),
        sa.Column("baseline_wh", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("asset_id", "day", name=op.f("pk_energy_daily")),
    )
    with op.batch_alter_table("energy_daily", schema=None) as batch_op:
        batch_op.create_index("ix_energy_daily_day_cabinet", ["day", "cabinet_id"], unique=False)
        batch_op.create_index("ix_energy_daily_cabinet_day", ["cabinet_id", "day"], unique=False)

    op.create_table(
        "energy_daily_cabinets",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cabinet_id", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("lights", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.Float(), nullable=False),
        sa.Column("offpeak_wh", sa.Float(), nullable=False),
        sa.Column("compared_wh", sa.Float(), nullable=False),
        sa.Column("baseline_wh", sa.Float(), nullable=False),
        sa.Column("burning_h", sa.Float(), nullable=False),
        sa.Column("supply_wh", sa.Float(), nullable=True),
        sa.Column("supply_offpeak_wh", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint(
            "day", "cabinet_id", "commune_code", name=op.f("pk_energy_daily_cabinets")
        ),
    )
    op.create_table(
        "energy_daily_communes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("lights", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.Float(), nullable=False),
        sa.Column("offpeak_wh", sa.Float(), nullable=False),
        sa.Column("compared_wh", sa.Float(), nullable=False),
        sa.Column("baseline_wh", sa.Float(), nullable=False),
        sa.Column("burning_h", sa.Float(), nullable=False),
        sa.Column("supply_wh", sa.Float(), nullable=True),
        sa.Column("supply_offpeak_wh", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("day", "commune_code", name=op.f("pk_energy_daily_communes")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("energy_daily_communes")
    op.drop_table("energy_daily_cabinets")
    with op.batch_alter_table("energy_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_energy_daily_cabinet_day")
        batch_op.drop_index("ix_energy_daily_day_cabinet")
    op.drop_table("energy_daily")
    with op.batch_alter_table("telemetry_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_telemetry_rollups_key_bucket")
