"""Alarm rows read to be changed: locked, always in id order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.models import Alarm
from beffroi.db.lists import among, parts


async def locked(session: AsyncSession, where: ColumnElement[bool]) -> list[Alarm]:
    """The alarms ``where`` selects, locked for the rest of the transaction."""
    # Always locked in id order, as every writer of alarms does: no deadlock between them.
    result = await session.execute(select(Alarm).where(where).order_by(Alarm.id).with_for_update())
    return list(result.scalars())


async def active(session: AsyncSession, keys: Sequence[str]) -> dict[str, Alarm]:
    """The active alarms of these active keys, locked: key → alarm."""
    out: dict[str, Alarm] = {}
    for part in parts(session, sorted(keys)):
        for row in await locked(session, among(session, Alarm.active_key, part)):
            assert row.active_key is not None
            out[row.active_key] = row
    return out
