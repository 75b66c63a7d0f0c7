"""What other areas read of what devices reported: plain rows, never the tables.

Functions take the caller's session (to share its transaction) and, where they select
assets, a selectable of asset ids from :func:`beffroi.assets.queries.id_query`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.db.lists import among, parts
from beffroi.telemetry.models import (
    DeviceEvent,
    DeviceStatus,
    LatestValue,
    TelemetryPoint,
    TelemetryRollup,
)


async def routes(session: AsyncSession, ids: Iterable[str]) -> dict[str, str | None]:
    """The field gateway each device last spoke through (``None``: directly), online or
    not, for the devices among ``ids`` ever heard from."""
    out: dict[str, str | None] = {}
    for part in parts(session, sorted(set(ids))):
        rows = await session.execute(
            select(DeviceStatus.asset_id, DeviceStatus.via).where(
                among(session, DeviceStatus.asset_id, part)
            )
        )
        out.update({row.asset_id: row.via for row in rows})
    return out


async def relayed_by(session: AsyncSession, gateway_ids: Iterable[str]) -> dict[str, str]:
    """device -> gateway of every device last heard through one of ``gateway_ids``."""
    out: dict[str, str] = {}
    for part in parts(session, sorted(set(gateway_ids))):
        rows = await session.execute(
            select(DeviceStatus.asset_id, DeviceStatus.via).where(
                among(session, DeviceStatus.via, part)
            )
        )
        out.update({row.asset_id: row.via for row in rows})
    return out


async def bulk_versions(session: AsyncSession, gateway_ids: Iterable[str]) -> dict[str, int]:
    """The bulk-form version each of ``gateway_ids`` announced, for those online that did."""
    out: dict[str, int] = {}
    for part in parts(session, sorted(set(gateway_ids))):
        rows = await session.execute(
            select(DeviceStatus.asset_id, DeviceStatus.bulk).where(
                among(session, DeviceStatus.asset_id, part),
                DeviceStatus.online,
                DeviceStatus.bulk.is_not(None),
            )
        )
        out.update({row.asset_id: row.bulk for row in rows})
    return out


async def connectivity(session: AsyncSession) -> list[tuple[str, bool]]:
    """(asset id, online) of every device ever heard from."""
    rows = await session.execute(select(DeviceStatus.asset_id, DeviceStatus.online))
    return [(row.asset_id, row.online) for row in rows]


@dataclass(frozen=True, slots=True)
class Heard:
    """A device's connectivity: online, and when it was last heard from."""

    online: bool
    last_seen_at: datetime | None


async def heard(session: AsyncSession, asset_id: str) -> Heard | None:
    """The connectivity of one device; ``None`` if never heard from."""
    row = await session.get(DeviceStatus, asset_id)
    return None if row is None else Heard(row.online, row.last_seen_at)


async def fault_raised_since(
    session: AsyncSession, asset_id: str, code: str, since: datetime
) -> bool:
    """Whether the device reported fault ``code`` active after ``since``."""
    found = await session.execute(
        select(
            exists().where(
                DeviceEvent.asset_id == asset_id,
                DeviceEvent.code == code,
                DeviceEvent.active.is_(True),
                DeviceEvent.ts > since,
            )
        )
    )
    return bool(found.scalar())


def _newest(key: str | None) -> tuple[Any, Any, ColumnElement[bool] | None]:
    """(asset column, newest-time column, extra condition) of "last heard" for ``key``
    (any reading when ``key`` is None)."""
    if key is None:
        return DeviceStatus.asset_id, DeviceStatus.last_seen_at, None
    return LatestValue.asset_id, LatestValue.ts, LatestValue.key == key


async def quiet_since(
    session: AsyncSession, assets: Select[Any], key: str | None, cutoff: datetime
) -> dict[str, datetime]:
    """The assets selected by ``assets`` whose newest reading of ``key`` (of anything,
    without a key) is older than ``cutoff``, with that reading's time."""
    asset, newest, extra = _newest(key)
    stmt = select(asset, newest).where(asset.in_(assets.scalar_subquery()), newest < cutoff)
    if extra is not None:
        stmt = stmt.where(extra)
    return {row[0]: row[1] for row in await session.execute(stmt)}


async def never_heard(session: AsyncSession, assets: Select[Any], key: str | None) -> set[str]:
    """The assets selected by ``assets`` that never reported ``key`` (anything, without a
    key)."""
    asset, _newest_column, extra = _newest(key)
    reported = select(asset)
    if extra is not None:
        reported = reported.where(extra)
    candidates = assets.subquery()
    column = next(iter(candidates.c))
    rows = await session.execute(select(column).where(column.not_in(reported.scalar_subquery())))
    return set(rows.scalars())


async def counter_rise(
    session: AsyncSession,
    assets: Select[Any],
    key: str,
    since: datetime,
    until: datetime,
    *,
    rollups: bool,
) -> tuple[float | None, int]:
    """The total rise of counter ``key`` (``energy_wh``) of the selected assets over
    ``[since, until)``, and how many of them reported it.

    Per asset, the rise between its first and last readings (counters only go up); a year
    back the raw points are gone, and the hourly rollups' min and max give the same.
    """
    rise: ColumnElement[Any]
    if rollups:
        rise = func.max(TelemetryRollup.max) - func.min(TelemetryRollup.min)
        asset, key_col, ts = TelemetryRollup.asset_id, TelemetryRollup.key, TelemetryRollup.bucket
    else:
        rise = func.max(TelemetryPoint.value) - func.min(TelemetryPoint.value)
        asset, key_col, ts = TelemetryPoint.asset_id, TelemetryPoint.key, TelemetryPoint.ts
    per_asset = (
        select(rise.label("rise"))
        .where(key_col == key, ts >= since, ts < until, asset.in_(assets.scalar_subquery()))
        .group_by(asset)
        .subquery()
    )
    total, count = (await session.execute(select(func.sum(per_asset.c.rise), func.count()))).one()
    return (float(total) if count else None), int(count)


def hourly_rises(
    keys: Sequence[str], start: datetime, end: datetime, lookback: timedelta
) -> Subquery:
    """A subquery of the hourly rollups of ``keys`` in ``[start, end)``: ``asset_id``,
    ``key``, ``bucket``, ``max`` and ``rise``, what a counter rose since the asset's
    previous bucket (looked for up to ``lookback`` before ``start``), and ``first``, 1
    where there was none (the rise before the bucket's first reading is unknown).

    The rise since the previous bucket's maximum, not within the hour, so the energy
    between two readings either side of an hour's end is counted once. Without a
    previous bucket, or when the counter went back (a meter replaced, reset to zero),
    the rise within the hour is all that is known.
    """
    rollup = TelemetryRollup
    before = func.lag(rollup.max).over(
        partition_by=(rollup.asset_id, rollup.key), order_by=rollup.bucket
    )
    hours = (
        select(
            rollup.asset_id,
            rollup.key,
            rollup.bucket,
            rollup.min,
            rollup.max,
            before.label("before"),
        )
        .where(rollup.key.in_(list(keys)), rollup.bucket >= start - lookback, rollup.bucket < end)
        .subquery()
    )
    rise = case(
        (hours.c.before.is_(None), hours.c.max - hours.c.min),
        (hours.c.max >= hours.c.before, hours.c.max - hours.c.before),
        else_=hours.c.max - hours.c.min,
    )
    return (
        select(
            hours.c.asset_id,
            hours.c.key,
            hours.c.bucket,
            hours.c.max,
            rise.label("rise"),
            case((hours.c.before.is_(None), 1), else_=0).label("first"),
        )
        .where(hours.c.bucket >= start)
        .subquery()
    )
