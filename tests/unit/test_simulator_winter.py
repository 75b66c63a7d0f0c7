"""The simulated snow night: the generated fleet has vehicles of each kind in every
commune that gets some; a salting truck drives its salting route at a plausible speed,
reporting positions the catalogue accepts, and one round of it salts the whole route."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from shapely.geometry import shape

from beffroi.catalogue import CATALOGUE
from beffroi.simulator.assets import SimAsset
from beffroi.simulator.behaviours import BEHAVIOURS
from beffroi.simulator.fleet import generate_fleet
from beffroi.simulator.state import Device, Environment
from beffroi.simulator.winter import round_of, salting_route
from beffroi.vehicles.coverage import Fix, completion

NIGHT = datetime(2026, 1, 12, 3, 0, tzinfo=UTC)
# A vehicle's report reads nothing of the environment (no sun, no traffic): none is made.
NO_ENV = cast("Environment", None)


def vehicles() -> list[SimAsset]:
    return [
        SimAsset.from_asset(a) for a in generate_fleet(scale=1.0, seed=3) if a.type == "vehicle"
    ]


def test_the_fleet_has_vehicles_of_each_kind() -> None:
    fleet = vehicles()
    assert len(fleet) == 69
    kinds = Counter(v.attributes["kind"] for v in fleet)
    assert set(kinds) == {"salting_truck", "patrol", "field_crew"}
    # Every commune that has vehicles has a salting truck first.
    communes = {v.commune for v in fleet}
    assert communes == {v.commune for v in fleet if v.attributes["kind"] == "salting_truck"}
    for v in fleet:
        assert not CATALOGUE.attribute_errors("vehicle", dict(v.attributes))


def test_a_salting_truck_drives_its_route_and_salts_it() -> None:
    truck = next(v for v in vehicles() if v.attributes["kind"] == "salting_truck")
    device = Device(truck, CATALOGUE["vehicle"])
    spec = CATALOGUE["vehicle"]
    assert spec.report_interval_s == 5
    loop = round_of(truck.id, "salting_truck", truck.lon, truck.lat)
    seconds = int(loop.length_m / (loop.speed_kmh / 3.6)) + 10
    fixes = []
    for t in range(0, seconds, spec.report_interval_s):
        moment = NIGHT + timedelta(seconds=t)
        values = BEHAVIOURS["vehicle"].report(device, moment, NO_ENV, 5.0)
        for key, value in values.items():
            limits = spec.telemetry_key(key)
            assert limits is not None
            assert limits.minimum <= value <= limits.maximum, (key, value)
        assert 25 <= values["speed_kmh"] <= 40
        fixes.append(Fix(moment, values["lon"], values["lat"]))
    # Consecutive positions are what 5 s at that speed drives (no jump across town).
    step = loop.speed_kmh / 3.6 * 5
    route = shape(salting_route(truck.id, truck.lon, truck.lat))
    assert route.is_valid
    half = len(fixes) // 2
    assert completion(route, [fixes[:half]], 25.0) == pytest.approx(0.5, abs=0.08)
    assert completion(route, [fixes], 25.0) == pytest.approx(1.0, abs=0.01)
    assert step < 60


def test_a_field_crew_waits_and_the_same_moment_gives_the_same_place() -> None:
    crew = next(v for v in vehicles() if v.attributes["kind"] == "field_crew")
    device = Device(crew, CATALOGUE["vehicle"])
    report = BEHAVIOURS["vehicle"].report
    first = report(device, NIGHT, NO_ENV, 5.0)
    assert first["speed_kmh"] == 0
    assert report(device, NIGHT + timedelta(minutes=5), NO_ENV, 5.0) == first
    patrol = next(v for v in vehicles() if v.attributes["kind"] == "patrol")
    moving = Device(patrol, CATALOGUE["vehicle"])
    assert report(moving, NIGHT, NO_ENV, 5.0) == report(moving, NIGHT, NO_ENV, 5.0)
    assert report(moving, NIGHT, NO_ENV, 5.0) != report(
        moving, NIGHT + timedelta(seconds=5), NO_ENV, 5.0
    )
