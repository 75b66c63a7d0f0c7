"""alarm feed: one cursor table for every follower of alarm_history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import beffroi.db.base

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    """Apply this revision: the two cursors become rows of one table, where they were."""
    op.create_table(
        "alarm_feed_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", BIG_ID, nullable=False),
        sa.Column("holes", JSON, nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_alarm_feed_cursors")),
    )
    op.execute(
        "INSERT INTO alarm_feed_cursors (name, last_id, holes, updated_at) "
        "SELECT 'notifications', last_history_id, holes, updated_at FROM notification_cursor"
    )
    # The interventions' cursor kept no holes: it starts with none.
    op.execute(
        "INSERT INTO alarm_feed_cursors (name, last_id, holes, updated_at) "
        "SELECT 'interventions', last_history_id, '[]', updated_at "
        "FROM intervention_alarm_cursor"
    )
    op.drop_table("notification_cursor")
    op.drop_table("intervention_alarm_cursor")


def downgrade() -> None:
    """Revert this revision."""
    op.create_table(
        "intervention_alarm_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_history_id", BIG_ID, nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_alarm_cursor")),
    )
    op.create_table(
        "notification_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_history_id", sa.BigInteger(), nullable=False),
        sa.Column("holes", JSON, nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_cursor")),
    )
    op.execute(
        "INSERT INTO notification_cursor (id, last_history_id, holes, updated_at) "
        "SELECT 1, last_id, holes, updated_at FROM alarm_feed_cursors "
        "WHERE name = 'notifications'"
    )
    op.execute(
        "INSERT INTO intervention_alarm_cursor (id, last_history_id, updated_at) "
        "SELECT 1, last_id, updated_at FROM alarm_feed_cursors WHERE name = 'interventions'"
    )
    op.drop_table("alarm_feed_cursors")
