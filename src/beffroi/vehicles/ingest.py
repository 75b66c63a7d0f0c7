"""Vehicles' positions from the ingest stream, written in the batch's transaction.

Only the vehicle type reports ``lat`` and ``lon`` (the catalogue refuses unknown keys
before this), so the positions are told apart from other telemetry by their keys alone:
a batch without vehicles costs a scan of its points and no statement. A batch's positions
go in with one multi-row statement for the tracks and one for the latest positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.events import DomainEvent
from beffroi.db.upsert import dialect_insert
from beffroi.telemetry.decode import Rejection
from beffroi.telemetry.followup import Part, Stage, run_stage
from beffroi.telemetry.store import Seen
from beffroi.vehicles.events import VehicleMoved
from beffroi.vehicles.models import LatestPosition, TrackPoint

POSITION_KEYS = frozenset({"lat", "lon", "speed_kmh", "heading_deg"})
CHUNK = 1000
_COLUMNS = ("ts", "lon", "lat", "speed_kmh", "heading_deg")
TRACK: Table = TrackPoint.__table__  # type: ignore[assignment]
LATEST: Table = LatestPosition.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class Observed:
    """Hub events of the positions a batch brought (positions refuse no message)."""

    events: list[DomainEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def positions(points: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The positions among a batch's points (asset, key, ts, value, text): the values of
    one vehicle at one time gathered, kept when both ``lat`` and ``lon`` are there."""
    found: dict[tuple[str, datetime], dict[str, Any]] = {}
    for asset_id, key, ts, value, _ in points:
        if key in POSITION_KEYS:
            found.setdefault((asset_id, ts), {"asset_id": asset_id, "ts": ts})[key] = value
    return [
        {"speed_kmh": None, "heading_deg": None, **row}
        for row in found.values()
        if row.get("lat") is not None and row.get("lon") is not None
    ]


def newest(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest of ``rows`` per vehicle."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        current = out.get(row["asset_id"])
        if current is None or row["ts"] > current["ts"]:
            out[row["asset_id"]] = row
    return out


async def store(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[DomainEvent]:
    """Append ``rows`` to the tracks (a redelivered one changes nothing), move the latest
    positions (the newest timestamp wins), and return one event per vehicle moved."""
    if not rows:
        return []
    # The tables, not the mapped classes: Core's executemany, without the ORM's bulk
    # insert machinery per row (the ingest path's CPU is the gateway's).
    insert = dialect_insert(session, TRACK).on_conflict_do_nothing()
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert, list(rows[start : start + CHUNK]))
    latest = newest(rows)
    upsert = dialect_insert(session, LATEST)
    moved = upsert.on_conflict_do_update(
        index_elements=["asset_id"],
        set_={name: upsert.excluded[name] for name in _COLUMNS},
        where=upsert.excluded.ts > LATEST.c.ts,
    ).returning(LATEST.c.asset_id)
    # Only the vehicles whose latest position moved are told: a late, buffered position
    # goes into the track and moves nobody on the map.
    result = await session.execute(moved, list(latest.values()))
    return [VehicleMoved(**latest[asset_id]) for asset_id in sorted(set(result.scalars()))]


class VehicleTracker:
    """Follows the ingest stream for the vehicles' tracks (see ``TelemetryStore``)."""

    async def observe(self, session: AsyncSession, seen: Seen, now: datetime) -> Observed:
        """Write the positions the batch brought, as a follow-up stage of its own."""
        rows = positions(seen.points)
        if not rows:
            return Observed()

        async def write(part: Part) -> list[DomainEvent]:
            mine = rows if part is None else [r for r in rows if r["asset_id"] in part]
            return await store(session, mine)

        out = Observed()
        for events in await run_stage(
            session, Stage.VEHICLES, write, lambda: {r["asset_id"] for r in rows}
        ):
            out.events += events
        return out
