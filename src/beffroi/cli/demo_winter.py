"""The demo's winter service: each simulated salting truck's round recorded as its
salting route, and the field crews and patrols crewed by the roads team, so that the
console shows routes being salted and an intervention has crews to propose (once)."""

from __future__ import annotations

from beffroi.assets import reading, service
from beffroi.assets.filters import AssetFilter
from beffroi.assets.schemas import AssetUpdate
from beffroi.core.context import Context
from beffroi.interventions import teams
from beffroi.simulator.winter import salting_route
from beffroi.vehicles import routes
from beffroi.vehicles.lifecycle import VEHICLE_TYPE
from beffroi.vehicles.schemas import RouteLine, SaltingRouteCreate

ROADS_TEAM = "Voirie"


async def seed_winter(ctx: Context) -> None:
    """Salting routes and crews for the demo's vehicles, when none is recorded yet."""
    if (await routes.listed(ctx)).items:
        return
    vehicles, _ = await reading.list_assets(ctx, AssetFilter(types=[VEHICLE_TYPE], limit=1000))
    crew = next((t.id for t in await teams.list_teams(ctx) if t.name == ROADS_TEAM), None)
    for vehicle in vehicles:
        kind = vehicle.attributes.get("kind")
        lon, lat = vehicle.location.coordinates
        if kind == "salting_truck":
            line = salting_route(vehicle.id, lon, lat)
            await routes.create(
                ctx,
                SaltingRouteCreate(
                    name=f"Circuit de salage {vehicle.id}",
                    communes=[vehicle.commune],
                    geometry=RouteLine(type="LineString", coordinates=line["coordinates"]),
                ),
            )
        elif crew is not None and "team_id" not in vehicle.attributes:
            attributes = {**vehicle.attributes, "team_id": crew}
            await service.update_asset(ctx, vehicle.id, AssetUpdate(attributes=attributes))
