"""The vehicles layer in headless Chromium against a running hub: a Talant operator sees
Talant's vehicles (never Chenôve's) and Talant's salting route coloured by its completion;
a vehicle moves on the map as its position comes through the live stream; a click on it
draws its track."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.interventions import opening, teams
from beffroi.interventions.lifecycle import Category
from beffroi.interventions.schemas import InterventionCreate, TeamCreate
from beffroi.telemetry.batch import Batch
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.store import TelemetryStore
from beffroi.vehicles import routes
from beffroi.vehicles.ingest import VehicleTracker
from beffroi.vehicles.schemas import RouteLine, SaltingRouteCreate
from tests.browser.conftest import ControlRoom, sign_in

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)
TRUCK, PATROL = "VEH-TAL-BROWSER", "VEH-CHE-BROWSER"
# An eastward street of Talant, about 900 m; the truck salts its first half.
STREET = [[5.000, 47.337], [5.012, 47.337]]


async def report(system: Context, asset_id: str, fixes: list[tuple[float, float]]) -> None:
    """Positions 5 s apart up to now, written and told to the hub as the gateway does."""
    now = utcnow()
    readings = [
        Readings(
            asset_id,
            (
                ("lon", now - timedelta(seconds=5 * (len(fixes) - i)), lon, None),
                ("lat", now - timedelta(seconds=5 * (len(fixes) - i)), lat, None),
                ("speed_kmh", now - timedelta(seconds=5 * (len(fixes) - i)), 30.0, None),
            ),
        )
        for i, (lon, lat) in enumerate(fixes)
    ]
    written = await TelemetryStore(system.db, [VehicleTracker()]).write(Batch(readings=readings))
    system.runtime.events.publish_many(written.events)


async def test_the_vehicles_layer_is_live_scoped_and_draws_tracks(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    items = [
        AssetCreate(
            id=asset_id,
            type="vehicle",
            name=asset_id,
            commune=commune,
            location=Point(coordinates=depot),
            attributes={"kind": kind},
        )
        for asset_id, commune, depot, kind in (
            (TRUCK, "talant", (5.02, 47.34), "salting_truck"),
            (PATROL, "chenove", (5.006, 47.292), "patrol"),
        )
    ]
    made = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not made.errors
    await routes.create(
        system,
        SaltingRouteCreate(
            name="Talant browser", geometry=RouteLine(type="LineString", coordinates=STREET)
        ),
    )
    half = [(5.000 + 0.006 * i / 19, 47.337) for i in range(20)]
    await report(system, TRUCK, half)
    await report(system, PATROL, [(5.006, 47.292)])

    await sign_in(page, control_room, "talant")
    map_ = page.get_by_test_id("map")
    await expect(map_).to_have_attribute("data-salting-routes", "1", timeout=15_000)
    assert 40 <= int(await map_.get_attribute("data-salted") or "0") <= 60
    ids = await page.evaluate("window.__beffroiVehicles.ids()")
    assert TRUCK in ids
    assert PATROL not in ids
    assert not set(ids) & set(control_room.ids("chenove", "vehicle"))

    # The truck reports further on: the map moves it without reloading.
    await report(system, TRUCK, [(5.0105, 47.3372)])
    await page.wait_for_function(
        f"() => window.__beffroiVehicles.position({TRUCK!r})[0] === 5.0105", timeout=10_000
    )

    # A click on the truck draws its last hour of track.
    box = await map_.bounding_box()
    assert box is not None
    x, y = await page.evaluate(f"window.__beffroiVehicles.at({TRUCK!r})")
    await page.mouse.click(box["x"] + x, box["y"] + y)
    await expect(map_).to_have_attribute("data-track-points", "21", timeout=10_000)


async def test_assigning_work_proposes_the_nearest_available_crew(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    near = await teams.create_team(
        system, TeamCreate(name="Neige près", categories=[Category.SNOW], communes=["talant"])
    )
    far = await teams.create_team(
        system, TeamCreate(name="Neige loin", categories=[Category.SNOW], communes=["talant"])
    )
    items = [
        AssetCreate(
            id=asset_id,
            type="vehicle",
            name=asset_id,
            commune="talant",
            location=Point(coordinates=(5.0, 47.33)),
            attributes={"kind": "field_crew", "team_id": team_id},
        )
        for asset_id, team_id in (("CREW-FAR", far.id), ("CREW-NEAR", near.id))
    ]
    made = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not made.errors
    await report(system, "CREW-FAR", [(5.03, 47.337)])
    await report(system, "CREW-NEAR", [(5.006, 47.337)])
    work = await opening.create_intervention(
        system,
        InterventionCreate(
            category=Category.SNOW,
            title="Plaque de verglas",
            commune="talant",
            location=Point(coordinates=(5.005, 47.337)),
        ),
    )

    await sign_in(page, control_room, "talant")
    await page.get_by_test_id("nav-interventions").click()
    card = page.locator(f"[data-testid=intervention-card][data-id='{work.id}']")
    await card.get_by_test_id("intervention-assign").click()
    choice = page.get_by_test_id("dialog-team")
    await expect(choice).to_have_value(str(near.id))
    options = await choice.locator("option").all_inner_texts()
    assert options[0].startswith("Neige près — 0.1 km")
    assert options[1].startswith("Neige loin — 1.9 km")
    await page.get_by_test_id("dialog-submit").click()
    await expect(card).to_have_attribute("data-status", "assigned")
