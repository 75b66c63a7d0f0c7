"""bulk gateways: the bulk-form version a gateway announced, the gateway a command went through

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: two nullable columns, nothing to fill in."""
    with op.batch_alter_table("device_status") as batch:
        batch.add_column(sa.Column("bulk", sa.Integer(), nullable=True))
    with op.batch_alter_table("commands") as batch:
        batch.add_column(sa.Column("sent_via", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("commands") as batch:
        batch.drop_column("sent_via")
    with op.batch_alter_table("device_status") as batch:
        batch.drop_column("bulk")
