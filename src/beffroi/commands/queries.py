"""What other areas read of the commands: plain rows, never the tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands.lifecycle import OPEN
from beffroi.commands.models import Command


async def open_commands(session: AsyncSession) -> list[tuple[str, str]]:
    """(command id, asset id) of every command not yet in a final state."""
    rows = await session.execute(
        select(Command.id, Command.asset_id).where(Command.state.in_([s.value for s in OPEN]))
    )
    return [(row.id, row.asset_id) for row in rows]
