"""Raising, repeating, clearing and grouping alarms, inside the caller's transaction.

Every source — a device's fault event, a monitoring rule, a failed command, a silence —
reaches the alarm list through :func:`apply`, in the transaction that stores what caused
it: a redelivered message raises nothing twice, and a crash loses nothing. The unique
``active_key`` keeps one active alarm per (asset, type) even when two gateways raise it
at the same moment: the loser of the race counts a repeat.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import grouping
from beffroi.alarms.history import Entry, write
from beffroi.alarms.lifecycle import SEVERITY_RANK, Action, AlarmSource, AlarmState
from beffroi.alarms.models import Alarm
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import queries as asset_queries
from beffroi.catalogue import CATALOGUE, Severity
from beffroi.core.events import DomainEvent
from beffroi.db import Base
from beffroi.db.lists import among, parts
from beffroi.telemetry import queries as telemetry_queries

CHUNK = 900
SYSTEM = "system"
DEVICE = "device"


def active_key(asset_id: str, alarm_type: str) -> str:
    """The key that is unique among active alarms."""
    return f"{asset_id}|{alarm_type}"


@dataclass(frozen=True, slots=True)
class _AssetInfo:
    type: str
    commune: str
    parent: str | None


@dataclass(slots=True)
class _Draft:
    """An alarm raised in this batch, not yet inserted (it has no id yet)."""

    asset_id: str
    asset_type: str
    commune_code: str
    domain: str
    alarm_type: str
    source: str
    severity: str
    state: str
    active_key: str | None
    raised_at: datetime
    last_seen_at: datetime
    detail: dict[str, Any]
    rule_id: int | None
    updated_at: datetime
    occurrences: int = 1
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    clear_reason: str | None = None
    parent_id: int | None = None
    id: int = 0

    def row(self) -> dict[str, Any]:
        """The ``alarms`` row to insert."""
        return {
            name: getattr(self, name)
            for name in (
                "asset_id",
                "asset_type",
                "commune_code",
                "domain",
                "alarm_type",
                "source",
                "severity",
                "state",
                "active_key",
                "raised_at",
                "last_seen_at",
                "occurrences",
                "cleared_at",
                "cleared_by",
                "clear_reason",
                "detail",
                "rule_id",
                "updated_at",
            )
        }


AnyAlarm = Alarm | _Draft


def _actor(signal: AlarmSignal) -> tuple[str, str]:
    """Who, in the history, caused what a signal did."""
    if signal.source is AlarmSource.DEVICE:
        return f"device:{signal.asset_id}", DEVICE
    if signal.source is AlarmSource.RULE:
        return f"rule:{signal.rule_id}", SYSTEM
    return f"system:{signal.source.value}", SYSTEM


def _severity(signal: AlarmSignal, asset_type: str) -> Severity:
    if signal.severity is not None:
        return signal.severity
    spec = CATALOGUE.get(asset_type)
    fault = spec.fault(signal.alarm_type) if spec else None
    return fault.severity if fault else Severity.MAJOR


@dataclass(slots=True)
class _Work:
    """What one call changes: new alarms, touched rows and their history."""

    now: datetime
    drafts: list[_Draft] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    repeated: dict[int, AnyAlarm] = field(default_factory=dict)

    def raise_(self, signal: AlarmSignal, info: _AssetInfo) -> _Draft:
        spec = CATALOGUE.get(info.type)
        draft = _Draft(
            asset_id=signal.asset_id,
            asset_type=info.type,
            commune_code=info.commune,
            domain=spec.domain.value if spec else "",
            alarm_type=signal.alarm_type,
            source=signal.source.value,
            severity=_severity(signal, info.type).value,
            state=AlarmState.ACTIVE_UNACKNOWLEDGED.value,
            active_key=active_key(signal.asset_id, signal.alarm_type),
            raised_at=signal.ts,
            last_seen_at=signal.ts,
            detail=dict(signal.detail),
            rule_id=signal.rule_id,
            updated_at=self.now,
        )
        self.drafts.append(draft)
        actor, kind = _actor(signal)
        self.entries.append(Entry(draft, Action.RAISED, signal.ts, actor, kind, draft.detail))
        return draft

    def repeat(self, alarm: AnyAlarm, signal: AlarmSignal) -> None:
        alarm.occurrences += 1
        alarm.last_seen_at = max(alarm.last_seen_at, signal.ts)
        alarm.updated_at = self.now
        severity = _severity(signal, alarm.asset_type)
        if SEVERITY_RANK[severity] < SEVERITY_RANK[Severity(alarm.severity)]:
            before = alarm.severity
            alarm.severity = severity.value
            actor, kind = _actor(signal)
            detail = {"from": before, "to": severity.value}
            self.entries.append(
                Entry(alarm, Action.SEVERITY_CHANGED, signal.ts, actor, kind, detail)
            )
        if isinstance(alarm, Alarm):
            self.repeated[alarm.id] = alarm

    def clear(
        self, alarm: AnyAlarm, ts: datetime, actor: str, kind: str, reason: str | None
    ) -> None:
        self.entries.append(clear_row(alarm, ts, actor, kind, reason, self.now))


def clear_row(
    alarm: AnyAlarm, ts: datetime, actor: str, kind: str, reason: str | None, now: datetime
) -> Entry:
    """Mark an active alarm cleared at ``ts`` (by a device, a rule or a person); returns
    its history entry. The active key goes, so the next fault raises a new alarm."""
    alarm.state = AlarmState(alarm.state).clear().value
    alarm.active_key = None
    alarm.cleared_at = ts
    alarm.cleared_by = actor
    alarm.clear_reason = reason
    alarm.updated_at = now
    detail = {"reason": reason} if reason else {}
    return Entry(alarm, Action.CLEARED, ts, actor, kind, detail)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _assets(session: AsyncSession, ids: Iterable[str]) -> dict[str, _AssetInfo]:
    """Type, commune and parent (the cabinet, or the gateway it speaks through)."""
    wanted = set(ids)
    found = await asset_queries.facts(session, wanted)
    via = await telemetry_queries.routes(session, wanted)
    return {
        a.id: _AssetInfo(a.type, a.commune, a.parent_id or via.get(a.id)) for a in found.values()
    }


async def _locked(session: AsyncSession, where: ColumnElement[bool]) -> list[Alarm]:
    # Always locked in id order, as every writer of alarms does: no deadlock between them.
    result = await session.execute(select(Alarm).where(where).order_by(Alarm.id).with_for_update())
    return list(result.scalars())


async def _active(session: AsyncSession, keys: Sequence[str]) -> dict[str, Alarm]:
    out: dict[str, Alarm] = {}
    for part in parts(session, sorted(keys)):
        for row in await _locked(session, among(session, Alarm.active_key, part)):
            assert row.active_key is not None
            out[row.active_key] = row
    return out


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
    current = await _active(session, [active_key(*p) for p in pairs])
    # Clears of alarms that are not active (a command that succeeded, a device that
    # came back without having been missed) are the common case: they cost no more.
    pairs = {
        p: s for p, s in pairs.items() if active_key(*p) in current or any(x.active for x in s)
    }
    assets = await _assets(session, {asset for asset, _ in pairs})
    work = _Work(now)
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
                actor, kind = _actor(signal)
                work.clear(alarm, signal.ts, actor, kind, None)
                alarm = None
    # Rows cleared above must lose their key in the database before a new alarm of the
    # same (asset, type) — raised again later in the batch — takes it.
    await session.flush()
    await _insert(session, work)
    await _group(session, work, assets)
    await _release(session, work)
    events = await write(session, work.entries)
    events += [
        Entry(a, Action.REPEATED, a.last_seen_at, "", "", kept=False).event()
        for a in work.repeated.values()
    ]
    return events


def _insert_stmt(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(Alarm) if dialect == "postgresql" else sqlite.insert(Alarm)


async def _insert(session: AsyncSession, work: _Work) -> None:
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
        for part in _chunks(open_drafts):
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


async def _lost_races(session: AsyncSession, work: _Work, lost: list[_Draft]) -> None:
    """Another transaction raised the same alarms first: ours become repeats of theirs."""
    keys = {d.active_key for d in lost}
    work.drafts = [d for d in work.drafts if d not in lost]
    work.entries = [e for e in work.entries if e.alarm not in lost]
    theirs = await _active(session, [k for k in keys if k])
    for draft in lost:
        row = theirs.get(draft.active_key or "")
        if row is None:
            continue
        row.occurrences += draft.occurrences
        row.last_seen_at = max(row.last_seen_at, draft.last_seen_at)
        row.updated_at = work.now
        work.repeated[row.id] = row


async def _group(session: AsyncSession, work: _Work, assets: dict[str, _AssetInfo]) -> None:
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
        if isinstance(alarm, _Draft)
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
    for part in _chunks(sorted(parents)):
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


async def _orphans(session: AsyncSession, roots: Sequence[_Draft]) -> list[tuple[Alarm, int]]:
    """Active, ungrouped alarms of the roots' children that a root explains."""
    by_asset = {r.asset_id: r for r in roots}
    parent_of = await asset_queries.children_of(session, by_asset)
    for child, gateway in (await telemetry_queries.relayed_by(session, by_asset)).items():
        parent_of.setdefault(child, gateway)
    if not parent_of:
        return []
    out: list[tuple[Alarm, int]] = []
    for part in _chunks(sorted(parent_of)):
        found = await _locked(
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
    for part in _chunks(sorted(root_ids)):
        for row in await _locked(
            session, Alarm.parent_id.in_(part) & Alarm.active_key.is_not(None)
        ):
            before = row.parent_id
            row.parent_id = None
            row.updated_at = now
            entries.append(
                Entry(row, Action.UNGROUPED, now, "system:grouping", SYSTEM, {"parent_id": before})
            )
    return entries


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
    work = _Work(now)
    for part in _chunks(sorted(set(alarm_ids))):
        for row in await _locked(session, Alarm.id.in_(part) & Alarm.active_key.is_not(None)):
            work.clear(row, now, actor, actor_kind, reason)
    await session.flush()
    await _release(session, work)
    return await write(session, work.entries)


async def _release(session: AsyncSession, work: _Work) -> None:
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
