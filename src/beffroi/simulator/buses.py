"""Buses for the demo: one line per controller with bus priority, its bus driving north
through the intersection and round again, published as a GTFS-Realtime VehiclePositions
feed on loopback, which the hub reads like the transit operator's (docs/mobility.md).

Also the approaches those buses use, seeded once, so that priority requests, outcomes
and the delay saved show in the console from the first minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from pyproj import Geod

from beffroi.assets import queries as assets
from beffroi.core.context import Context
from beffroi.mobility import approaches
from beffroi.mobility.approach import Position
from beffroi.mobility.feed import encode
from beffroi.mobility.schemas import ApproachCreate

GEOD = Geod(ellps="WGS84")
SPEED_MS = 5.0  # 18 km/h: a city bus between stops
BEFORE_M, AFTER_M = 500.0, 300.0  # a lap: from 500 m south of the stop line to 300 m north
APPROACH_M = 150.0


@dataclass(frozen=True, slots=True)
class Line:
    """A bus line through one intersection: its bus's lap, south to north."""

    route_id: str
    lon: float
    lat: float
    offset_s: float  # laps are staggered, so buses do not all ask at once


def line_id(n: int) -> str:
    """The demo line through the ``n``-th intersection."""
    return f"D{n}"


@dataclass(slots=True)
class BusFleet:
    """The demo's buses; ``positions`` is where each is at a given time."""

    lines: list[Line] = field(default_factory=list)

    def positions(self, now: float) -> list[Position]:
        """Every bus's position, heading north, with its lap as the trip."""
        lap_s = (BEFORE_M + AFTER_M) / SPEED_MS
        out: list[Position] = []
        for line in self.lines:
            lap, into = divmod(now + line.offset_s, lap_s)
            metres = into * SPEED_MS - BEFORE_M  # negative: south of the stop line
            lon, lat, _ = GEOD.fwd(line.lon, line.lat, 0.0 if metres >= 0 else 180.0, abs(metres))
            out.append(
                Position(
                    f"bus-{line.route_id}",
                    line.route_id,
                    f"{line.route_id}-{int(lap)}",
                    lon,
                    lat,
                    0.0,
                    now,
                )
            )
        return out


async def seed(ctx: Context, fleet: BusFleet) -> None:
    """The lines through every controller with bus priority, and their approaches (once)."""
    async with ctx.db.read() as session:
        controllers = [
            c
            for c in await assets.described(session, "traffic_controller")
            if c.attributes.get("bus_priority")
        ]
    lap_s = (BEFORE_M + AFTER_M) / SPEED_MS
    fleet.lines = [
        Line(line_id(n), c.lon, c.lat, (n * 37.0) % lap_s) for n, c in enumerate(controllers, 1)
    ]
    if await approaches.list_approaches(ctx):
        return
    for line, c in zip(fleet.lines, controllers, strict=True):
        await approaches.create_approach(
            ctx,
            ApproachCreate(
                controller_id=c.id,
                name=f"Ligne {line.route_id}, vers le nord",
                direction="north",
                lines=[line.route_id],
                shape="sector",
                coordinates=[[c.lon, c.lat]],
                radius_m=APPROACH_M,
                bearing_deg=0.0,
            ),
        )


@contextlib.asynccontextmanager
async def feed_on_loopback(fleet: BusFleet) -> AsyncIterator[str]:
    """Serve the fleet's feed over HTTP on loopback; yields its URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            async with asyncio.timeout(5):
                await reader.readuntil(b"\r\n\r\n")
            body = encode(fleet.positions(time.time()))
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            )
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/gtfs-rt/vehicle-positions"
    finally:
        server.close()
        await server.wait_closed()


def lines_of(positions: Sequence[Position]) -> set[str]:
    """The lines of some positions (for logs and tests)."""
    return {p.route_id for p in positions}
