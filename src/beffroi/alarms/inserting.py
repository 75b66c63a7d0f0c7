"""Inserting the alarms a call raised, and losing races to another transaction.

The unique ``active_key`` keeps one active alarm per (asset, type) even when two
gateways raise it at the same moment: the loser of the race counts a repeat.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.drafts import Draft, Work, chunks
from beffroi.alarms.locking import active
from beffroi.alarms.models import Alarm


def _insert_stmt(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(Alarm) if dialect == "postgresql" else sqlite.insert(Alarm)


async def insert(session: AsyncSession, work: Work) -> None:
    """Insert the batch's new alarms and give them their ids."""
    open_drafts = [d for d in work.drafts if d.active_key is not None]
    closed = [d for d in work.drafts if d.active_key is None]
    if open_drafts:
        stmt = (
            _insert_stmt(session)
            .on_conflict_do_nothing(index_elements=["active_key"])
            .returning(Alarm.id, Alarm.active_key)
        )
        ids: dict[str, int] = {}
        for part in chunks(open_drafts):
            result = await session.execute(stmt, [d.row() for d in part])
            ids.update({row.active_key: row.id for row in result})
        lost = [d for d in open_drafts if d.active_key not in ids]
        for draft in open_drafts:
            draft.id = ids.get(draft.active_key or "", 0)
        if lost:
            await _lost_races(session, work, lost)
    if closed:
        stmt = _insert_stmt(session).returning(Alarm.id, sort_by_parameter_order=True)
        result = await session.execute(stmt, [d.row() for d in closed])
        for draft, alarm_id in zip(closed, result.scalars(), strict=True):
            draft.id = alarm_id


async def _lost_races(session: AsyncSession, work: Work, lost: list[Draft]) -> None:
    """Another transaction raised the same alarms first: ours become repeats of theirs."""
    keys = {d.active_key for d in lost}
    work.drafts = [d for d in work.drafts if d not in lost]
    work.entries = [e for e in work.entries if e.alarm not in lost]
    theirs = await active(session, [k for k in keys if k])
    for draft in lost:
        row = theirs.get(draft.active_key or "")
        if row is None:
            continue
        row.occurrences += draft.occurrences
        row.last_seen_at = max(row.last_seen_at, draft.last_seen_at)
        row.updated_at = work.now
        work.repeated[row.id] = row
