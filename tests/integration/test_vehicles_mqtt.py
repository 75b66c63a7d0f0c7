"""A simulated snow night through a real broker: the embedded broker, the gateway and the
simulator with a salting truck and a patrol; their positions reach the tracks and the
latest positions, one every 5 s of simulated time, the truck along its salting route."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

import pytest
from shapely.geometry import shape
from sqlalchemy import select, text

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context, Runtime
from beffroi.core.process import Process
from beffroi.core.time import utcnow
from beffroi.devices.credentials import issue_credentials
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.roads.geometry import Metric
from beffroi.simulator import Simulator, load_sim_assets
from beffroi.simulator.winter import salting_route
from beffroi.vehicles.models import TrackPoint
from tests.mqtt_support import start_embedded_broker

pytestmark = [pytest.mark.asyncio, pytest.mark.parametrize("template", ["sqlite"], indirect=True)]
DEPOT = (5.005, 47.337)


async def test_simulated_vehicles_report_through_the_broker(
    runtime: Runtime, system: Context
) -> None:
    items = [
        AssetCreate(
            id=asset_id,
            type="vehicle",
            name=asset_id,
            commune="talant",
            location=Point(coordinates=DEPOT),
            attributes={"kind": kind},
        )
        for asset_id, kind in (("VEH-MQTT-SALT", "salting_truck"), ("VEH-MQTT-PAT", "patrol"))
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors
    secrets = dict(await issue_credentials(system, None))
    stop = asyncio.Event()
    async with start_embedded_broker(runtime) as broker:
        gateway = Gateway(runtime, broker_address(runtime, broker.url, embedded=True))
        simulator = Simulator(
            await load_sim_assets(system),
            secrets,
            broker.url,
            root=runtime.settings.mqtt_root,
            # A quarter of an hour ago at 20 times real speed (5 s reports, four a second):
            # the simulated clock stays behind the wall clock for the whole test.
            start=utcnow() - timedelta(minutes=15),
            speed=20.0,
            fault_rate=0.0,
            latitude=DEPOT[1],
            longitude=DEPOT[0],
        )

        async def room() -> None:
            async with Process(stop) as process:
                process.start("gateway", gateway.run(stop))
                await gateway.wait_connected(20)
                process.start("simulator", simulator.run(stop))

        running = asyncio.create_task(room())
        try:
            deadline = time.monotonic() + 30
            counts: dict[str, int] = {}
            while time.monotonic() < deadline:
                async with runtime.db.read() as session:
                    rows = await session.execute(
                        text("SELECT asset_id, count(*) FROM vehicle_track GROUP BY asset_id")
                    )
                    counts = {r[0]: r[1] for r in rows}
                if len(counts) == 2 and min(counts.values()) >= 8:
                    break
                await asyncio.sleep(0.5)
        finally:
            stop.set()
            await running
    assert len(counts) == 2, counts
    assert min(counts.values()) >= 8, counts
    async with runtime.db.read() as session:
        t = TrackPoint
        stmt = select(t.ts, t.lon, t.lat, t.speed_kmh).where(t.asset_id == "VEH-MQTT-SALT")
        fixes = (await session.execute(stmt.order_by(t.ts))).all()
        latest = (
            await session.execute(text("SELECT count(*) FROM vehicle_positions"))
        ).scalar_one()
    assert latest == 2
    # One position every 5 s of simulated time, each on the truck's salting route.
    gaps = {(b.ts - a.ts).total_seconds() for a, b in itertools.pairwise(fixes)}
    assert gaps <= {5.0, 10.0}, gaps
    route = Metric(shape(salting_route("VEH-MQTT-SALT", *DEPOT)))
    assert max(route.distances_m([(f.lon, f.lat) for f in fixes])) < 1.0
    assert all(25 <= f.speed_kmh <= 40 for f in fixes)
    assert not route.projected.is_empty
