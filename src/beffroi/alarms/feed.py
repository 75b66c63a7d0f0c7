"""Following ``alarm_history`` from a durable place: what the notifier and the work-order
worker read, one cursor each, by name.

A follower's row is locked ``FOR UPDATE`` while it works, so two processes never do the
same work (on SQLite a write transaction serialises them anyway).

Ids are handed out before commit: on PostgreSQL, entry 10 can be visible while entry 9
is still being written. Moving past 9 would lose it for good, so an id skipped on the
way is kept as a *hole* and looked at again on each pass, until it shows up or a grace
period says its transaction was rolled back. A follower reads every entry above its place
(whatever it does with each), so the holes are only ids not yet committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from beffroi.alarms.models import Alarm, AlarmHistory, FeedCursor
from beffroi.alarms.queries import AlarmFacts, HistoryEntry, alarm_columns, entry_columns
from beffroi.db.upsert import upsert

# Longer than any transaction that writes alarm history is expected to stay open.
HOLE_GRACE = timedelta(minutes=2)
# A bound on what is remembered: a huge rollback leaves one range, not one id per row.
MAX_HOLES = 200


@dataclass(frozen=True, slots=True)
class Hole:
    """Ids ``first..last`` (inclusive) not yet seen, missing since ``since``."""

    first: int
    last: int
    since: datetime

    def as_json(self) -> list[object]:
        """Stored form."""
        return [self.first, self.last, self.since.isoformat()]

    @classmethod
    def from_json(cls, value: list[object]) -> Hole:
        """Read the stored form."""
        first, last, since = value
        return cls(int(str(first)), int(str(last)), datetime.fromisoformat(str(since)))


def _minus(first: int, last: int, seen: list[int]) -> list[tuple[int, int]]:
    """The range ``first..last`` without the ids of ``seen`` (sorted)."""
    out: list[tuple[int, int]] = []
    start = first
    for i in seen:
        if i < start or i > last:
            continue
        if i > start:
            out.append((start, i - 1))
        start = i + 1
    if start <= last:
        out.append((start, last))
    return out


def advance(
    last: int, holes: Iterable[Hole], seen: Iterable[int], now: datetime
) -> tuple[int, list[Hole]]:
    """Where the cursor stands after routing the entries ``seen`` (ids above ``last`` and
    ids in holes): the new last id and the holes still worth waiting for."""
    seen_sorted = sorted(set(seen))
    out: list[Hole] = []
    for hole in holes:
        if now - hole.since >= HOLE_GRACE:
            continue  # rolled back, or never coming: stop looking
        out += [Hole(a, b, hole.since) for a, b in _minus(hole.first, hole.last, seen_sorted)]
    above = [i for i in seen_sorted if i > last]
    if above:
        top = above[-1]
        out += [Hole(a, b, now) for a, b in _minus(last + 1, top, above)]
        last = top
    out.sort(key=lambda h: h.first)
    if len(out) > MAX_HOLES:
        out = sorted(out, key=lambda h: h.since)[-MAX_HOLES:]
        out.sort(key=lambda h: h.first)
    return last, out


def pending_clause(column: InstrumentedAttribute[int], row: FeedCursor) -> ColumnElement[bool]:
    """The entries still to read: above the cursor or in one of its holes."""
    holes = [Hole.from_json(h) for h in row.holes]
    return or_(column > row.last_id, *(column.between(h.first, h.last) for h in holes))


async def lock(session: AsyncSession, name: str, now: datetime) -> FeedCursor:
    """Follower ``name``'s row, locked until the transaction ends; made at 0 if missing."""
    stmt = select(FeedCursor).where(FeedCursor.name == name).with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is not None:
        return row
    await upsert(
        session,
        FeedCursor,
        [{"name": name, "last_id": 0, "holes": [], "updated_at": now}],
        keys=["name"],
    )
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()


def move(row: FeedCursor, seen: Iterable[int], now: datetime) -> bool:
    """Move the cursor past the entries ``seen`` (read and dealt with); whether it moved."""
    holes = [Hole.from_json(h) for h in row.holes]
    last, after = advance(row.last_id, holes, seen, now)
    if last == row.last_id and after == holes:
        return False
    row.last_id = last
    row.holes = [h.as_json() for h in after]
    row.updated_at = now
    return True


async def read(
    session: AsyncSession, row: FeedCursor, limit: int
) -> list[tuple[HistoryEntry, AlarmFacts]]:
    """The entries still to read from cursor ``row`` (at most ``limit``), in id order,
    each with its alarm as it is now."""
    stmt = (
        select(*entry_columns(), *alarm_columns())
        .join(Alarm, Alarm.id == AlarmHistory.alarm_id)
        .where(pending_clause(AlarmHistory.id, row))
        .order_by(AlarmHistory.id)
        .limit(limit)
    )
    width = len(entry_columns())
    return [
        (HistoryEntry(*values[:width]), AlarmFacts(*values[width:]))
        for values in await session.execute(stmt)
    ]
