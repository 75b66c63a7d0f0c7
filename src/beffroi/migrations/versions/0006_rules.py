"""rules: the tables of the rules area

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import beffroi.db.base

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "monitoring_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("asset_type", sa.String(length=64), nullable=False),
        sa.Column("communes", JSON, nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("alarm_type", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("errored_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_rules")),
        sa.UniqueConstraint("key", name=op.f("uq_monitoring_rules_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("monitoring_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_rules_asset_type"), ["asset_type"], unique=False
        )

    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("changed_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "version", name=op.f("pk_rule_versions")),
    )
    op.create_table(
        "rule_states",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("since", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_ts", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["monitoring_rules.id"],
            name=op.f("fk_rule_states_rule_id_monitoring_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "asset_id", name=op.f("pk_rule_states")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("rule_states")
    op.drop_table("rule_versions")
    with op.batch_alter_table("monitoring_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_rules_asset_type"))
    op.drop_table("monitoring_rules")
