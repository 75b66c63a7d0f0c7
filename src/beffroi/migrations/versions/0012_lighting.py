"""lighting: programs, calendars, their assignments and the cabinets' compiled schedules

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:34:49
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import beffroi.db.base

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lighting_programs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column(
            "steps",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["communes.code"],
            name=op.f("fk_lighting_programs_commune_code_communes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lighting_programs")),
        sa.UniqueConstraint("name", name=op.f("uq_lighting_programs_name")),
    )
    with op.batch_alter_table("lighting_programs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lighting_programs_commune_code"), ["commune_code"], unique=False
        )

    op.create_table(
        "lighting_calendars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("default_program_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["communes.code"],
            name=op.f("fk_lighting_calendars_commune_code_communes"),
        ),
        sa.ForeignKeyConstraint(
            ["default_program_id"],
            ["lighting_programs.id"],
            name=op.f("fk_lighting_calendars_default_program_id_lighting_programs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lighting_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_lighting_calendars_name")),
    )
    with op.batch_alter_table("lighting_calendars", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lighting_calendars_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_calendars_default_program_id"),
            ["default_program_id"],
            unique=False,
        )

    op.create_table(
        "lighting_schedules",
        sa.Column("cabinet_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("compiled_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cabinet_id"],
            ["assets.id"],
            name=op.f("fk_lighting_schedules_cabinet_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cabinet_id", name=op.f("pk_lighting_schedules")),
    )
    op.create_table(
        "lighting_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target_key", sa.String(length=120), nullable=False),
        sa.Column("cabinet_id", sa.String(length=64), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column(
            "polygon",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cabinet_id"],
            ["assets.id"],
            name=op.f("fk_lighting_assignments_cabinet_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["lighting_calendars.id"],
            name=op.f("fk_lighting_assignments_calendar_id_lighting_calendars"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["commune_code"],
            ["communes.code"],
            name=op.f("fk_lighting_assignments_commune_code_communes"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["asset_groups.id"],
            name=op.f("fk_lighting_assignments_group_id_asset_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lighting_assignments")),
        sa.UniqueConstraint("target_key", name=op.f("uq_lighting_assignments_target_key")),
    )
    with op.batch_alter_table("lighting_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lighting_assignments_cabinet_id"), ["cabinet_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_assignments_calendar_id"), ["calendar_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_assignments_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_assignments_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lighting_assignments_target_kind"), ["target_kind"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("lighting_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lighting_assignments_target_kind"))
        batch_op.drop_index(batch_op.f("ix_lighting_assignments_group_id"))
        batch_op.drop_index(batch_op.f("ix_lighting_assignments_commune_code"))
        batch_op.drop_index(batch_op.f("ix_lighting_assignments_calendar_id"))
        batch_op.drop_index(batch_op.f("ix_lighting_assignments_cabinet_id"))

    op.drop_table("lighting_assignments")
    op.drop_table("lighting_schedules")
    with op.batch_alter_table("lighting_calendars", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lighting_calendars_default_program_id"))
        batch_op.drop_index(batch_op.f("ix_lighting_calendars_commune_code"))

    op.drop_table("lighting_calendars")
    with op.batch_alter_table("lighting_programs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lighting_programs_commune_code"))

    op.drop_table("lighting_programs")
