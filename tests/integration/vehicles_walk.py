"""The vehicles area's part of the commune-scope walk (test_commune_scope.py): Chenôve's
vehicle (with a position and a track), Chenôve's salting route and one over Talant and
Chenôve are the targets; Talant's vehicle, route and work order are the controls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from beffroi.core.context import Runtime
from beffroi.core.time import utcnow
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.store import Batch, TelemetryStore
from beffroi.vehicles.ingest import VehicleTracker

API = "/api/v1"
CHENOVE_VEHICLE = "VEH-CHE-WALK"
TALANT_VEHICLE = "VEH-TAL-WALK"
CHENOVE_LINE = [[5.003, 47.291], [5.010, 47.293]]
TALANT_LINE = [[5.000, 47.336], [5.010, 47.338]]


@dataclass(frozen=True, slots=True)
class Veh:
    """Vehicles: Chenôve's truck and routes (the targets), Talant's (the controls)."""

    chenove_routes: tuple[int, ...]
    talant_route: int
    talant_route_to_delete: int
    talant_intervention: int
    markers: tuple[str, ...] = (CHENOVE_VEHICLE, "sel-che-route")


def route_body(name: str, line: list[list[float]], communes: list[str] | None = None) -> Any:
    """A salting route to create."""
    body: dict[str, Any] = {"name": name, "geometry": {"type": "LineString", "coordinates": line}}
    if communes is not None:
        body["communes"] = communes
    return body


def vehicles_plan(v: Veh, call: Callable[..., Any]) -> dict[tuple[str, str], list[Any]]:
    """Chenôve's vehicle is neither listed nor tracked for Talant; Chenôve's routes are
    neither read, changed, deleted nor measured; no route is written in Chenôve."""
    since = {"since": (utcnow() - timedelta(hours=1)).isoformat()}
    route = f"{API}/salting-routes/{{salting_route_id}}"
    return {
        ("GET", f"{API}/vehicles"): [call(), call("Talant's", expect=200)],
        ("GET", f"{API}/vehicles/{{asset_id}}/track"): [
            call(),
            call("Chenôve vehicle", path={"asset_id": CHENOVE_VEHICLE}),
            call("Talant's", path={"asset_id": TALANT_VEHICLE}, expect=200),
        ],
        ("GET", f"{API}/interventions/{{intervention_id}}/nearest-crews"): [
            call(),
            call("Talant's", path={"intervention_id": v.talant_intervention}, expect=200),
        ],
        ("GET", f"{API}/salting-routes"): [
            call(),
            call("completion", query=since, expect=200),
        ],
        ("POST", f"{API}/salting-routes"): [
            call("in Chenôve", json=route_body("walk-che", TALANT_LINE, ["chenove"])),
            call("across Chenôve", json=route_body("walk-across", CHENOVE_LINE)),
            call("in Talant", json=route_body("walk-tal", TALANT_LINE), expect=201),
        ],
        ("GET", route): [
            call(),
            call("Talant's", path={"salting_route_id": v.talant_route}, expect=200),
        ],
        ("PATCH", route): [
            call(json={"level": 2}),
            call(
                "Talant's", path={"salting_route_id": v.talant_route}, json={"level": 2}, expect=200
            ),
        ],
        ("DELETE", route): [
            call(),
            call("Talant's", path={"salting_route_id": v.talant_route_to_delete}, expect=204),
        ],
        ("GET", f"{route}/completion"): [
            call(),
            call("Talant's", path={"salting_route_id": v.talant_route}, expect=200),
        ],
    }


async def build_vehicles(
    client: httpx.AsyncClient, headers: dict[str, str], runtime: Runtime, ok: Callable[..., Any]
) -> Veh:
    """Chenôve's salting truck with a track, Chenôve's route and one across both
    communes; Talant's truck, routes and a work order with a place."""
    for asset_id, commune, (lon, lat) in (
        (CHENOVE_VEHICLE, "chenove", (5.006, 47.292)),
        (TALANT_VEHICLE, "talant", (5.005, 47.337)),
    ):
        body = {
            "id": asset_id,
            "type": "vehicle",
            "name": f"Camion {asset_id}",
            "commune": commune,
            "location": {"type": "Point", "coordinates": [lon, lat]},
            "attributes": {"kind": "salting_truck"},
        }
        ok(await client.post(f"{API}/assets", json=body, headers=headers), 201)
        now = utcnow()
        points = tuple(
            p
            for i in range(3)
            for p in (
                ("lon", now - timedelta(seconds=10 - 5 * i), lon + i * 1e-4, None),
                ("lat", now - timedelta(seconds=10 - 5 * i), lat, None),
            )
        )
        store = TelemetryStore(runtime.db, [VehicleTracker()])
        await store.write(Batch(readings=[Readings(asset_id, points)]))
    made = [
        ok(await client.post(f"{API}/salting-routes", json=body, headers=headers), 201)["id"]
        for body in (
            route_body("sel-che-route", CHENOVE_LINE, ["chenove"]),
            route_body("sel-che-route both", TALANT_LINE, ["chenove", "talant"]),
            route_body("Talant walk", TALANT_LINE),
            route_body("Talant walk to delete", TALANT_LINE),
        )
    ]
    work = {
        "category": "snow",
        "title": "walk",
        "commune": "talant",
        "location": {"type": "Point", "coordinates": [5.005, 47.337]},
    }
    intervention = ok(await client.post(f"{API}/interventions", json=work, headers=headers), 201)
    return Veh(
        chenove_routes=(made[0], made[1]),
        talant_route=made[2],
        talant_route_to_delete=made[3],
        talant_intervention=intervention["id"],
    )
