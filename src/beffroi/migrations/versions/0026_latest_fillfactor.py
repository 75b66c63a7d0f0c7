"""latest values: half-full pages, so rewriting a value is a HOT update

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (PostgreSQL only: SQLite has no fill factor). Pages written from
    now on keep room; existing ones get it as they are rewritten (or by VACUUM FULL)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE latest_values SET (fillfactor = 50)")


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE latest_values RESET (fillfactor)")
