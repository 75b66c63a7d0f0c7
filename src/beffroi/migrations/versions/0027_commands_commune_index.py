"""commands: no index of their commune (every new command and every move paid for it)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 23:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: drop the index, nothing to fill in.

    Only the lists of commands filtered by commune could use it, and they are read newest
    first, a page at a time, through ``ix_commands_created_at``; a city-wide command wrote
    34,000 entries into it, and each of its moves as many again."""
    with op.batch_alter_table("commands") as batch:
        batch.drop_index("ix_commands_commune_code")


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("commands") as batch:
        batch.create_index("ix_commands_commune_code", ["commune_code"], unique=False)
