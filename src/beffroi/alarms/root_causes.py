"""Root-cause grouping of the alarm rows, both ways, and its release.

A new consequence goes under its parent's root cause; a new root cause adopts the
alarms its children already raised; a root that is cleared and acknowledged lets go of
them. Which types explain which is :mod:`.grouping`'s table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import grouping
from beffroi.alarms.drafts import SYSTEM, AnyAlarm, AssetInfo, Draft, Work, chunks
from beffroi.alarms.history import Entry
from beffroi.alarms.lifecycle import Action, AlarmState
from beffroi.alarms.locking import locked
from beffroi.alarms.models import Alarm
from beffroi.assets import queries as asset_queries
from beffroi.db import Base
from beffroi.telemetry import queries as telemetry_queries


async def group(session: AsyncSession, work: Work, assets: dict[str, AssetInfo]) -> None:
    """Put new consequences under their parent's root cause, and a new root cause over
    its children's existing alarms."""
    raised = [d for d in work.drafts if d.active_key is not None]
    links: dict[int, tuple[AnyAlarm, int]] = {}
    # A new alarm on a child whose parent already has (or just got) a root cause.
    children = [
        d for d in raised if assets[d.asset_id].parent and d.alarm_type in grouping.consequences()
    ]
    if children:
        parents = {assets[d.asset_id].parent for d in children}
        roots = await _roots(session, [p for p in parents if p])
        for draft in children:
            for root in roots.get(assets[draft.asset_id].parent or "", []):
                if grouping.explains(root[1], draft.alarm_type):
                    links[draft.id] = (draft, root[0])
                    break
    # A new root cause over the alarms its children already raised.
    new_roots = [d for d in raised if grouping.is_root_cause(d.alarm_type)]
    if new_roots:
        for child, root_id in await _orphans(session, new_roots):
            links.setdefault(child.id, (child, root_id))
    if not links:
        return
    # Rows loaded here are written by the next flush; new ones by one executemany.
    params = [
        {"b_id": i, "b_parent": parent}
        for i, (alarm, parent) in links.items()
        if isinstance(alarm, Draft)
    ]
    if params:
        table = Base.metadata.tables["alarms"]
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(parent_id=bindparam("b_parent"))
        )
        await session.execute(stmt, params)
    for alarm, parent in links.values():
        alarm.parent_id = parent
        work.entries.append(
            Entry(alarm, Action.GROUPED, work.now, "system:grouping", SYSTEM, {"parent_id": parent})
        )


async def _roots(session: AsyncSession, parents: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
    """Active root-cause alarms on these assets, oldest first: asset → [(id, type)]."""
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for part in chunks(sorted(parents)):
        rows = await session.execute(
            select(Alarm.id, Alarm.asset_id, Alarm.alarm_type)
            .where(
                Alarm.asset_id.in_(part),
                Alarm.active_key.is_not(None),
                Alarm.alarm_type.in_(sorted(grouping.ROOT_CAUSES)),
            )
            .order_by(Alarm.raised_at, Alarm.id)
        )
        for row in rows:
            out[row.asset_id].append((row.id, row.alarm_type))
    return out


async def _orphans(session: AsyncSession, roots: Sequence[Draft]) -> list[tuple[Alarm, int]]:
    """Active, ungrouped alarms of the roots' children that a root explains."""
    by_asset = {r.asset_id: r for r in roots}
    parent_of = await asset_queries.children_of(session, by_asset)
    for child, gateway in (await telemetry_queries.relayed_by(session, by_asset)).items():
        parent_of.setdefault(child, gateway)
    if not parent_of:
        return []
    out: list[tuple[Alarm, int]] = []
    for part in chunks(sorted(parent_of)):
        found = await locked(
            session,
            Alarm.asset_id.in_(part)
            & Alarm.active_key.is_not(None)
            & Alarm.parent_id.is_(None)
            & Alarm.alarm_type.in_(sorted(grouping.consequences())),
        )
        for alarm in found:
            root = by_asset[parent_of[alarm.asset_id]]
            if alarm.id != root.id and grouping.explains(root.alarm_type, alarm.alarm_type):
                out.append((alarm, root.id))
    return out


async def ungroup(session: AsyncSession, root_ids: Sequence[int], now: datetime) -> list[Entry]:
    """Release the still-active children of roots that are cleared and acknowledged: the
    cause is gone, so whatever is still wrong with a child stands on its own."""
    entries: list[Entry] = []
    for part in chunks(sorted(root_ids)):
        for row in await locked(session, Alarm.parent_id.in_(part) & Alarm.active_key.is_not(None)):
            before = row.parent_id
            row.parent_id = None
            row.updated_at = now
            entries.append(
                Entry(row, Action.UNGROUPED, now, "system:grouping", SYSTEM, {"parent_id": before})
            )
    return entries


async def release(session: AsyncSession, work: Work) -> None:
    """Root causes cleared here that were already acknowledged are finished: their
    still-active children stand on their own again."""
    finished = [
        e.alarm.id
        for e in work.entries
        if e.action == Action.CLEARED
        and e.alarm.state == AlarmState.CLEARED_ACKNOWLEDGED
        and grouping.is_root_cause(e.alarm.alarm_type)
    ]
    if finished:
        work.entries += await ungroup(session, finished, work.now)
