"""interventions: the tables of the interventions area

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import beffroi.db.base

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "intervention_alarm_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "last_history_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_alarm_cursor")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "categories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "communes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "intervention_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_type", sa.String(length=64), nullable=False),
        sa.Column("min_severity", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_intervention_policies_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_policies")),
        sa.UniqueConstraint("alarm_type", name=op.f("uq_intervention_policies_alarm_type")),
    )
    op.create_table(
        "interventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("due_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("clear_alarms_pending", sa.Boolean(), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_interventions_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["communes.code"], name=op.f("fk_interventions_commune_code_communes")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_interventions_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interventions")),
    )
    with op.batch_alter_table("interventions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interventions_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_interventions_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interventions_clear_alarms_pending"),
            ["clear_alarms_pending"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_interventions_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interventions_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_interventions_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_interventions_resolved_at"), ["resolved_at"], unique=False
        )
        batch_op.create_index("ix_interventions_status_due_at", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_interventions_team_id_status", ["team_id", "status"], unique=False
        )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_team_members")),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_members_user_id"), ["user_id"], unique=False)
    op.create_table(
        "intervention_alarms",
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("linked_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["alarms.id"],
            name=op.f("fk_intervention_alarms_alarm_id_alarms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["interventions.id"],
            name=op.f("fk_intervention_alarms_intervention_id_interventions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("intervention_id", "alarm_id", name=op.f("pk_intervention_alarms")),
    )
    with op.batch_alter_table("intervention_alarms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intervention_alarms_alarm_id"), ["alarm_id"], unique=False
        )
    op.create_table(
        "intervention_assets",
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["interventions.id"],
            name=op.f("fk_intervention_assets_intervention_id_interventions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("intervention_id", "asset_id", name=op.f("pk_intervention_assets")),
    )
    with op.batch_alter_table("intervention_assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intervention_assets_asset_id"), ["asset_id"], unique=False
        )
    op.create_table(
        "intervention_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["interventions.id"],
            name=op.f("fk_intervention_history_intervention_id_interventions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_history")),
    )
    with op.batch_alter_table("intervention_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intervention_history_intervention_id"), ["intervention_id"], unique=False
        )
    op.create_table(
        "intervention_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["interventions.id"],
            name=op.f("fk_intervention_notes_intervention_id_interventions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_notes")),
    )
    with op.batch_alter_table("intervention_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intervention_notes_intervention_id"), ["intervention_id"], unique=False
        )
    op.create_table(
        "intervention_photos",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["interventions.id"],
            name=op.f("fk_intervention_photos_intervention_id_interventions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_photos")),
    )
    with op.batch_alter_table("intervention_photos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intervention_photos_intervention_id"), ["intervention_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("intervention_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_photos_intervention_id"))
    op.drop_table("intervention_photos")
    with op.batch_alter_table("intervention_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_notes_intervention_id"))
    op.drop_table("intervention_notes")
    with op.batch_alter_table("intervention_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_history_intervention_id"))
    op.drop_table("intervention_history")
    with op.batch_alter_table("intervention_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_assets_asset_id"))
    op.drop_table("intervention_assets")
    with op.batch_alter_table("intervention_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intervention_alarms_alarm_id"))
    op.drop_table("intervention_alarms")
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_members_user_id"))
    op.drop_table("team_members")
    with op.batch_alter_table("interventions", schema=None) as batch_op:
        batch_op.drop_index("ix_interventions_team_id_status")
        batch_op.drop_index("ix_interventions_status_due_at")
        batch_op.drop_index(batch_op.f("ix_interventions_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_interventions_due_at"))
        batch_op.drop_index(batch_op.f("ix_interventions_created_at"))
        batch_op.drop_index(batch_op.f("ix_interventions_commune_code"))
        batch_op.drop_index(batch_op.f("ix_interventions_clear_alarms_pending"))
        batch_op.drop_index(batch_op.f("ix_interventions_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_interventions_asset_id"))
    op.drop_table("interventions")
    op.drop_table("intervention_policies")
    op.drop_table("teams")
    op.drop_table("intervention_alarm_cursor")
