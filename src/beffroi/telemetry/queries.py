"""What other areas read of what devices reported: plain rows, never the tables.

Functions take the caller's session (to share its transaction) and, where they select
assets, a selectable of asset ids from :func:`beffroi.assets.queries.id_query`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
)
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


async def newest_values(
    session: AsyncSession, assets: Select[Any], key: str
) -> dict[str, tuple[datetime, float | None, str | None]]:
    """The newest reading of ``key`` of each asset selected by ``assets`` that reported
    it: (time, number, text)."""
    rows = await session.execute(
        select(LatestValue.asset_id, LatestValue.ts, LatestValue.value, LatestValue.text).where(
            LatestValue.asset_id.in_(assets.scalar_subquery()), LatestValue.key == key
        )
    )
    return {row.asset_id: (row.ts, row.value, row.text) for row in rows}


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


def _rise(before: Any, last: Any, first: Any) -> Any:
    """What a counter rose to ``last``: since ``before`` (the last value before), else
    since ``first`` (the first value), when there was none or the counter went back."""
    return case(
        (before.is_(None), last - first),
        (last >= before, last - before),
        else_=last - first,
    )


def span_rises(
    keys: Sequence[str],
    start: datetime,
    end: datetime,
    lookback: timedelta,
    parts: Sequence[tuple[datetime, datetime]] = (),
) -> Subquery:
    """A subquery of what the counters ``keys`` of every asset rose over ``[start, end)``,
    from the hourly rollups: ``asset_id``, ``key``, ``rise``, ``part_rise`` (the rise over
    the ``parts``, sub-ranges of hours within it, e.g. the off-peak hours), ``first`` (1
    when there was no reading in the ``lookback`` before ``start``: the rise before the
    first reading is unknown) and ``lit`` (the hours whose maximum was above zero).

    Counters only go up, so a counter's value before a moment is the maximum of the
    buckets before it: one grouped pass, no window over the hours. The rise counts from
    the last value before ``start`` (the energy between two readings either side of
    midnight is counted once); without one, or when the counter went back (a meter
    replaced), from the first value of the range.
    """
    r = TelemetryRollup
    inside = r.bucket >= start

    def before(moment: datetime) -> Any:
        return func.max(case((r.bucket < moment, r.max)))

    def within(low: datetime, high: datetime, column: Any, agg: Any) -> Any:
        return agg(case((and_(r.bucket >= low, r.bucket < high), column)))

    prior = before(start)
    rise = _rise(prior, within(start, end, r.max, func.max), within(start, end, r.min, func.min))
    pieces = [
        case(
            (
                within(low, high, r.max, func.max).is_not(None),
                _rise(
                    before(low),
                    within(low, high, r.max, func.max),
                    within(low, high, r.min, func.min),
                ),
            ),
            else_=0.0,
        )
        for low, high in parts
    ]
    part_rise: Any = sum(pieces[1:], pieces[0]) if pieces else literal(0.0)
    return (
        select(
            r.asset_id,
            r.key,
            rise.label("rise"),
            part_rise.label("part_rise"),
            case((prior.is_(None), 1), else_=0).label("first"),
            func.count(case((and_(inside, r.max > 0), 1))).label("lit"),
        )
        .where(r.key.in_(list(keys)), r.bucket >= start - lookback, r.bucket < end)
        .group_by(r.asset_id, r.key)
        .having(func.max(case((inside, 1))).is_not(None))
        .subquery()
    )


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One stored reading of a series: its time, and its number or its text."""

    asset_id: str
    key: str
    ts: datetime
    value: float | None
    text: str | None


async def series(
    session: AsyncSession,
    asset_ids: Sequence[str],
    keys: Sequence[str],
    since: datetime | None,
    until: datetime | None,
    *,
    last_n: int | None,
    cap: int,
) -> list[SeriesPoint]:
    """The stored readings of ``keys`` of the assets ``asset_ids`` in ``[since, until)``
    (unbounded where None), by asset, key and time: the newest ``last_n`` of each series
    if given, else its oldest ``cap`` readings (both per series, in one statement)."""
    if not asset_ids or not keys:
        return []
    p = TelemetryPoint
    newest_first = last_n is not None
    rank = (
        func.row_number()
        .over(
            partition_by=(p.asset_id, p.key),
            order_by=p.ts.desc() if newest_first else p.ts.asc(),
        )
        .label("rank")
    )
    inner = select(p.asset_id, p.key, p.ts, p.value, p.text, rank).where(
        p.asset_id.in_(list(asset_ids)), p.key.in_(list(keys))
    )
    if since is not None:
        inner = inner.where(p.ts >= since)
    if until is not None:
        inner = inner.where(p.ts < until)
    ranked = inner.subquery()
    keep = min(last_n, cap) if last_n is not None else cap
    stmt = (
        select(ranked.c.asset_id, ranked.c.key, ranked.c.ts, ranked.c.value, ranked.c.text)
        .where(ranked.c.rank <= keep)
        .order_by(ranked.c.asset_id, ranked.c.key, ranked.c.ts)
    )
    return [SeriesPoint(*row) for row in await session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class HourOf:
    """The hourly rollup of one key of one asset: how many readings, their sum, extremes."""

    asset_id: str
    key: str
    bucket: datetime
    count: int
    sum: float
    min: float
    max: float


async def hours_of(
    session: AsyncSession,
    assets: Select[Any],
    keys: Sequence[str],
    since: datetime,
    until: datetime,
) -> list[HourOf]:
    """The hourly rollups of ``keys`` of the assets selected by ``assets`` over
    ``[since, until)``, by asset, key and hour."""
    rows = await session.execute(
        select(
            TelemetryRollup.asset_id,
            TelemetryRollup.key,
            TelemetryRollup.bucket,
            TelemetryRollup.count,
            TelemetryRollup.sum,
            TelemetryRollup.min,
            TelemetryRollup.max,
        )
        .where(
            TelemetryRollup.key.in_(list(keys)),
            TelemetryRollup.bucket >= since,
            TelemetryRollup.bucket < until,
            TelemetryRollup.asset_id.in_(assets.scalar_subquery()),
        )
        .order_by(TelemetryRollup.asset_id, TelemetryRollup.key, TelemetryRollup.bucket)
    )
    return [HourOf(*row) for row in rows]


async def newest_of(
    session: AsyncSession, assets: Select[Any], keys: Sequence[str]
) -> list[tuple[str, str, datetime, float | None]]:
    """The newest number of each of ``keys`` of each asset selected by ``assets``:
    (asset, key, time, value)."""
    rows = await session.execute(
        select(LatestValue.asset_id, LatestValue.key, LatestValue.ts, LatestValue.value).where(
            LatestValue.asset_id.in_(assets.scalar_subquery()), LatestValue.key.in_(list(keys))
        )
    )
    return [(row.asset_id, row.key, row.ts, row.value) for row in rows]


async def numbers_like(
    session: AsyncSession,
    assets: Select[Any],
    key_patterns: Sequence[str],
    since: datetime,
    until: datetime,
) -> list[tuple[str, str, datetime, float]]:
    """The stored numbers of the assets selected by ``assets`` whose key matches one of
    the SQL ``LIKE`` patterns, in ``[since, until)``: (asset, key, time, value)."""
    p = TelemetryPoint
    rows = await session.execute(
        select(p.asset_id, p.key, p.ts, p.value).where(
            p.ts >= since,
            p.ts < until,
            p.value.is_not(None),
            p.asset_id.in_(assets.scalar_subquery()),
            or_(*(p.key.like(k) for k in key_patterns)),
        )
    )
    return [(row.asset_id, row.key, row.ts, row.value) for row in rows]
