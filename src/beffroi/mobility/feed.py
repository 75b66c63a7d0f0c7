"""The transit operator's GTFS-Realtime VehiclePositions feed: read, parsed, and (for the
simulator, the demo and the tests) written.

The protobuf bindings of the GTFS-Realtime specification do the parsing; what is checked
here is what bus priority relies on: a vehicle id, a route, a position inside WGS84.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2

from beffroi.mobility.approach import Position

MAX_FEED_BYTES = 20_000_000  # a city's fleet is a few hundred kB; more is not a feed


class FeedError(Exception):
    """The feed could not be read or is not a GTFS-Realtime message."""


class Feed(Protocol):
    """Where vehicle positions come from: the operator's URL, or the simulator in-process."""

    async def read(self) -> bytes:
        """One snapshot of the feed, as the bytes of a ``FeedMessage``."""
        ...


@dataclass(slots=True)
class HttpFeed:
    """The feed at ``url``, read with a timeout; one client kept for the process."""

    url: str
    timeout_s: float
    _client: httpx.AsyncClient | None = field(default=None, init=False)

    async def read(self) -> bytes:
        """GET the feed; a non-200 answer, a timeout or an oversized body is a FeedError."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        try:
            response = await self._client.get(self.url)
        except httpx.HTTPError as exc:
            raise FeedError(f"feed unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise FeedError(f"feed answered HTTP {response.status_code}")
        if len(response.content) > MAX_FEED_BYTES:
            raise FeedError("feed larger than 20 MB")
        return response.content

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """The usable positions of one snapshot, and how many entities were skipped."""

    positions: list[Position]
    skipped: int
    header_time: float


def parse(data: bytes) -> Parsed:
    """The vehicle positions of a ``FeedMessage``. Entities without a vehicle id, a route
    or a valid position are skipped and counted; a message that does not parse is a
    :class:`FeedError`."""
    message = gtfs_realtime_pb2.FeedMessage()
    try:
        message.ParseFromString(data)
    except (DecodeError, ValueError) as exc:
        raise FeedError("not a GTFS-Realtime FeedMessage") from exc
    if not message.HasField("header"):
        raise FeedError("GTFS-Realtime message without a header")
    header_time = float(message.header.timestamp or 0)
    out: list[Position] = []
    skipped = 0
    for entity in message.entity:
        position = _position(entity, header_time)
        if position is None:
            skipped += int(entity.HasField("vehicle"))
        else:
            out.append(position)
    return Parsed(out, skipped, header_time)


def _position(entity: gtfs_realtime_pb2.FeedEntity, header_time: float) -> Position | None:
    if not entity.HasField("vehicle"):
        return None
    v = entity.vehicle
    if not v.HasField("position"):
        return None
    vehicle_id = (v.vehicle.id or entity.id)[:64]
    route_id = v.trip.route_id[:16]
    lon, lat = float(v.position.longitude), float(v.position.latitude)
    if not vehicle_id or not route_id or not _valid(lon, lat):
        return None
    bearing = float(v.position.bearing) if v.position.HasField("bearing") else None
    if bearing is not None and not 0.0 <= bearing <= 360.0:
        bearing = None
    return Position(
        vehicle_id,
        route_id,
        v.trip.trip_id[:64],
        lon,
        lat,
        bearing,
        float(v.timestamp or header_time),
    )


def _valid(lon: float, lat: float) -> bool:
    return (
        math.isfinite(lon)
        and math.isfinite(lat)
        and -180.0 <= lon <= 180.0
        and -90.0 <= lat <= 90.0
        and (lon, lat) != (0.0, 0.0)
    )


def encode(positions: Iterable[Position], now: float | None = None) -> bytes:
    """A GTFS-Realtime VehiclePositions message of ``positions`` (the simulator's feed,
    the tests' and the benchmark's)."""
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = "2.0"
    message.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    message.header.timestamp = int(now if now is not None else time.time())
    for p in positions:
        entity = message.entity.add()
        entity.id = p.vehicle_id
        entity.vehicle.vehicle.id = p.vehicle_id
        entity.vehicle.trip.route_id = p.route_id
        if p.trip_id:
            entity.vehicle.trip.trip_id = p.trip_id
        entity.vehicle.position.longitude = p.lon
        entity.vehicle.position.latitude = p.lat
        if p.bearing is not None:
            entity.vehicle.position.bearing = p.bearing
        entity.vehicle.timestamp = int(p.timestamp)
    return bytes(message.SerializeToString())
