"""The demo's snow night end to end on both databases: the generated vehicles get their
salting routes and crews, the simulated salting truck's reports go through the ingest
store, and its route is salted as it drives round it."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest

from beffroi.assets import importing
from beffroi.catalogue import CATALOGUE
from beffroi.cli.demo_winter import ROADS_TEAM, seed_winter
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.interventions import teams
from beffroi.interventions.lifecycle import Category
from beffroi.interventions.schemas import TeamCreate
from beffroi.simulator.assets import SimAsset
from beffroi.simulator.behaviours import BEHAVIOURS
from beffroi.simulator.fleet import generate_fleet
from beffroi.simulator.state import Device, Environment
from beffroi.simulator.winter import round_of
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.store import Batch, TelemetryStore
from beffroi.vehicles import positions, routes
from beffroi.vehicles.ingest import VehicleTracker

pytestmark = pytest.mark.asyncio


async def test_a_simulated_truck_salts_its_demo_route(runtime: Runtime, system: Context) -> None:
    fleet = [a for a in generate_fleet(scale=0.05, seed=2) if a.type == "vehicle"]
    report = await importing.import_assets(system, list(enumerate(fleet, 1)), source="tests")
    assert not report.errors, report.errors
    communes = sorted({a.commune for a in fleet})
    crew = await teams.create_team(
        system, TeamCreate(name=ROADS_TEAM, categories=[Category.SNOW], communes=communes)
    )
    await seed_winter(system)
    await seed_winter(system)  # once only
    trucks = [a for a in fleet if a.attributes["kind"] == "salting_truck"]
    made = (await routes.listed(system)).items
    assert len(made) == len(trucks) >= 1
    truck = SimAsset.from_asset(trucks[0])
    route = next(r for r in made if r.name.endswith(truck.id))

    # The truck drives round its route, reporting every 5 s, through the ingest store.
    device = Device(truck, CATALOGUE["vehicle"])
    loop = round_of(truck.id, "salting_truck", truck.lon, truck.lat)
    lap_s = int(loop.length_m / (loop.speed_kmh / 3.6)) + 10
    start = utcnow() - timedelta(seconds=lap_s + 60)
    store = TelemetryStore(runtime.db, [VehicleTracker()])
    readings = []
    for t in range(0, lap_s, 5):
        moment = start + timedelta(seconds=t)
        values = BEHAVIOURS["vehicle"].report(device, moment, cast("Environment", None), 5.0)
        readings.append(Readings(truck.id, tuple((k, moment, v, None) for k, v in values.items())))
    half = len(readings) // 2
    await store.write(Batch(readings=readings[:half]))
    midway = await routes.completion(system, route.id, start - timedelta(minutes=1), None)
    assert midway.completion == pytest.approx(0.5, abs=0.1)
    await store.write(Batch(readings=readings[half:]))
    done = await routes.completion(system, route.id, start - timedelta(minutes=1), None)
    assert done.completion > 0.98
    assert done.trucks == [truck.id]

    live = {v.asset_id: v for v in (await positions.live(system)).items}
    assert live[truck.id].kind == "salting_truck"
    crews = [a.id for a in fleet if a.attributes["kind"] != "salting_truck"]
    async with runtime.db.read() as session:
        from beffroi.assets.queries import attributes_of

        crewed = await attributes_of(session, crews)
    assert all(attrs["team_id"] == crew.id for attrs in crewed.values())
