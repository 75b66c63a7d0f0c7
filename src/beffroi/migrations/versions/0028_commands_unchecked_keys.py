"""commands: no foreign keys to their batch and asset, nor from their transitions

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: drop the three keys, nothing to fill in.

    The database checked each one per row: an index probe and a lock on the row referred
    to, for every child a city-wide command creates and for each of its moves (about 1 s
    of database time for 34,000 lights). The commands service writes these rows from the
    targets and the batch it has just read or written in the same transaction, and none
    of the rows referred to is ever deleted (an asset is decommissioned, not removed)."""
    with op.batch_alter_table("command_transitions") as batch:
        batch.drop_constraint("fk_command_transitions_command_id_commands", type_="foreignkey")
    with op.batch_alter_table("commands") as batch:
        batch.drop_constraint("fk_commands_batch_id_command_batches", type_="foreignkey")
        batch.drop_constraint("fk_commands_asset_id_assets", type_="foreignkey")


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("commands") as batch:
        batch.create_foreign_key(
            "fk_commands_asset_id_assets", "assets", ["asset_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_foreign_key(
            "fk_commands_batch_id_command_batches",
            "command_batches",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("command_transitions") as batch:
        batch.create_foreign_key(
            "fk_command_transitions_command_id_commands",
            "commands",
            ["command_id"],
            ["id"],
            ondelete="CASCADE",
        )
