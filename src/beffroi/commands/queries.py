"""What other areas read of the commands: plain rows, never the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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


async def states_of(
    session: AsyncSession, command_ids: list[str]
) -> dict[str, tuple[str, datetime | None, dict[str, Any] | None]]:
    """(state, finished at, result) of each command named that exists."""
    if not command_ids:
        return {}
    rows = await session.execute(
        select(Command.id, Command.state, Command.finished_at, Command.result).where(
            Command.id.in_(command_ids)
        )
    )
    return {row.id: (row.state, row.finished_at, row.result) for row in rows}


async def places_of(session: AsyncSession, command_ids: list[str]) -> dict[str, tuple[str, str]]:
    """(commune, asset type) of each command named that exists: for another area that
    names commands and checks its caller's scope (and which equipment it may see)."""
    if not command_ids:
        return {}
    rows = await session.execute(
        select(Command.id, Command.commune_code, Command.asset_type).where(
            Command.id.in_(sorted(set(command_ids)))
        )
    )
    return {row.id: (row.commune_code, row.asset_type) for row in rows}
