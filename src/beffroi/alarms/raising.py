"""Raising, repeating and clearing alarms, inside the caller's transaction.

Every source — a device's fault event, a monitoring rule, a failed command, a silence —
reaches the alarm list through :func:`apply`, in the transaction that stores what caused
it: a redelivered message raises nothing twice, and a crash loses nothing. What one call
changes is drafted in :mod:`.drafts`, inserted by :mod:`.inserting` (where races between
gateways are settled) and grouped under root causes by :mod:`.root_causes`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.drafts import AnyAlarm, AssetInfo, Work, active_key, actor_of, chunks
from beffroi.alarms.history import Entry, write
from beffroi.alarms.inserting import insert
from beffroi.alarms.lifecycle import Action
from beffroi.alarms.locking import active, locked
from beffroi.alarms.models import Alarm
from beffroi.alarms.root_causes import group, release
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import queries as asset_queries
from beffroi.core.events import DomainEvent
from beffroi.telemetry import queries as telemetry_queries


async def _assets(session: AsyncSession, ids: Iterable[str]) -> dict[str, AssetInfo]:
    """Type, commune and parent (the cabinet, or the gateway it speaks through)."""
    wanted = set(ids)
    found = await asset_queries.facts(session, wanted)
    via = await telemetry_queries.routes(session, wanted)
    return {
        a.id: AssetInfo(a.type, a.commune, a.parent_id or via.get(a.id)) for a in found.values()
    }


async def apply(
    session: AsyncSession, signals: Sequence[AlarmSignal], now: datetime
) -> list[DomainEvent]:
    """Raise, repeat and clear alarms from ``signals``; returns the hub events.

    Signals for assets that no longer exist are dropped; a clear that comes before the
    alarm's raising (a late message) or finds no active alarm changes nothing.
    """
    if not signals:
        return []
    pairs: dict[tuple[str, str], list[AlarmSignal]] = defaultdict(list)
    for signal in signals:
        pairs[(signal.asset_id, signal.alarm_type)].append(signal)
    current = await active(session, [active_key(*p) for p in pairs])
    # Clears of alarms that are not active (a command that succeeded, a device that
    # came back without having been missed) are the common case: they cost no more.
    pairs = {
        p: s for p, s in pairs.items() if active_key(*p) in current or any(x.active for x in s)
    }
    assets = await _assets(session, {asset for asset, _ in pairs})
    work = Work(now)
    for pair in sorted(pairs):
        info = assets.get(pair[0])
        if info is None:
            continue
        alarm: AnyAlarm | None = current.get(active_key(*pair))
        for signal in sorted(pairs[pair], key=lambda s: s.ts):
            if signal.active:
                if alarm is None:
                    alarm = work.raise_(signal, info)
                else:
                    work.repeat(alarm, signal)
            elif alarm is not None and signal.ts >= alarm.raised_at:
                actor, kind = actor_of(signal)
                work.clear(alarm, signal.ts, actor, kind, None)
                alarm = None
    # Rows cleared above must lose their key in the database before a new alarm of the
    # same (asset, type) — raised again later in the batch — takes it.
    await session.flush()
    await insert(session, work)
    await group(session, work, assets)
    await release(session, work)
    events = await write(session, work.entries)
    events += [
        Entry(a, Action.REPEATED, a.last_seen_at, "", "", kept=False).event()
        for a in work.repeated.values()
    ]
    return events


async def clear(
    session: AsyncSession,
    alarm_ids: Sequence[int],
    *,
    actor: str,
    actor_kind: str,
    reason: str,
    now: datetime,
) -> list[DomainEvent]:
    """Clear those of ``alarm_ids`` that are still active (a repair confirmed, say);
    returns the hub events. Already cleared ones are left as they are."""
    work = Work(now)
    for part in chunks(sorted(set(alarm_ids))):
        for row in await locked(session, Alarm.id.in_(part) & Alarm.active_key.is_not(None)):
            work.clear(row, now, actor, actor_kind, reason)
    await session.flush()
    await release(session, work)
    return await write(session, work.entries)
