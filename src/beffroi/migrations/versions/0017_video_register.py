"""video: view sessions, the register and its head, retention, legal holds, extractions, privacy masks

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:23:09.962212
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import beffroi.db.base

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "video_extractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.String(length=100), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("period_start", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_extractions")),
        sa.UniqueConstraint("export_id", name=op.f("uq_video_extractions_export_id")),
    )
    with op.batch_alter_table("video_extractions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_extractions_camera_id"), ["camera_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_video_extractions_commune_code"), ["commune_code"], unique=False
        )

    op.create_table(
        "video_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "cameras",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "communes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("period_start", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=True),
        sa.Column("placed_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lift_requested_by", sa.String(length=200), nullable=True),
        sa.Column("lift_requested_by_user_id", sa.Integer(), nullable=True),
        sa.Column("lift_requested_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.String(length=2000), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.Column("lifted_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refused_by", sa.String(length=200), nullable=True),
        sa.Column("refused_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_holds")),
    )
    with op.batch_alter_table("video_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_holds_placed_at"), ["placed_at"], unique=False)

    op.create_table(
        "video_masks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("preset", sa.Integer(), nullable=False),
        sa.Column(
            "polygons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_masks")),
        sa.UniqueConstraint("camera_id", "preset", name=op.f("uq_video_masks_camera_id")),
    )
    with op.batch_alter_table("video_masks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_masks_camera_id"), ["camera_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_video_masks_commune_code"), ["commune_code"], unique=False
        )

    op.create_table(
        "video_register",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("ts", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("commune_code", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_video_register")),
    )
    with op.batch_alter_table("video_register", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_register_agent"), ["agent"], unique=False)
        batch_op.create_index("ix_video_register_camera_ts", ["camera_id", "ts"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_video_register_commune_code"), ["commune_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_video_register_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_video_register_ts"), ["ts"], unique=False)

    op.create_table(
        "video_register_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column(
            "purged_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("purged_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_register_head")),
    )
    op.create_table(
        "video_retention",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("commune_code", sa.String(length=64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("authorisation", sa.String(length=200), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_video_retention")),
    )
    with op.batch_alter_table("video_retention", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_retention_commune_code"), ["commune_code"], unique=False
        )

    op.create_table(
        "video_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column(
            "habilitations",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "cameras",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "communes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("reason_text", sa.String(length=2000), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=False),
        sa.Column("started_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", beffroi.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_because", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_video_sessions_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_sessions")),
    )
    with op.batch_alter_table("video_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_video_sessions_started_at"), ["started_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_video_sessions_user_id"), ["user_id"], unique=False)

    _create_no_edit_guard()


def _create_no_edit_guard() -> None:
    # Defence in depth, as for the audit log: the application never edits a register entry
    # and the database refuses it; deleting stays possible (the three-year purge, behind
    # its checkpoint). Only someone who drops the guard can edit, and the chain shows it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION beffroi_video_register_no_edit() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'video_register entries are never "
            "edited'; END $$"
        )
        op.execute(
            "CREATE TRIGGER video_register_no_update BEFORE UPDATE ON video_register "
            "FOR EACH ROW EXECUTE FUNCTION beffroi_video_register_no_edit()"
        )
    else:
        op.execute(
            "CREATE TRIGGER video_register_no_update BEFORE UPDATE ON video_register "
            "BEGIN SELECT RAISE(ABORT, 'video_register entries are never edited'); END"
        )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS video_register_no_update ON video_register")
        op.execute("DROP FUNCTION IF EXISTS beffroi_video_register_no_edit()")

    with op.batch_alter_table("video_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_sessions_user_id"))
        batch_op.drop_index(batch_op.f("ix_video_sessions_started_at"))

    op.drop_table("video_sessions")
    with op.batch_alter_table("video_retention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_retention_commune_code"))

    op.drop_table("video_retention")
    op.drop_table("video_register_head")
    with op.batch_alter_table("video_register", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_register_ts"))
        batch_op.drop_index(batch_op.f("ix_video_register_kind"))
        batch_op.drop_index(batch_op.f("ix_video_register_commune_code"))
        batch_op.drop_index("ix_video_register_camera_ts")
        batch_op.drop_index(batch_op.f("ix_video_register_agent"))

    op.drop_table("video_register")
    with op.batch_alter_table("video_masks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_masks_commune_code"))
        batch_op.drop_index(batch_op.f("ix_video_masks_camera_id"))

    op.drop_table("video_masks")
    with op.batch_alter_table("video_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_holds_placed_at"))

    op.drop_table("video_holds")
    with op.batch_alter_table("video_extractions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_extractions_commune_code"))
        batch_op.drop_index(batch_op.f("ix_video_extractions_camera_id"))

    op.drop_table("video_extractions")
