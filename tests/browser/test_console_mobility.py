"""The console's bus priority page in headless Chromium against a running hub: the delay
saved per intersection and line, the latest requests with their outcomes, and a
controller's traffic per lane with its CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.mobility import approaches
from beffroi.mobility.models import PriorityRequest, TrafficCount
from beffroi.mobility.schemas import ApproachCreate
from tests.browser.conftest import ControlRoom, sign_in

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)
CONTROLLER = "TC-BRW-1"
STOP = (5.0415, 47.3220)


async def _priority_and_counts(system: Context) -> None:
    item = AssetCreate(
        id=CONTROLLER,
        type="traffic_controller",
        name="Carrefour Darcy",
        commune="dijon",
        location=Point(coordinates=STOP),
        attributes={"bus_priority": True},
    )
    report = await importing.import_assets(system, [(1, item)], source="tests")
    assert not report.errors, report.errors
    approach = await approaches.create_approach(
        system,
        ApproachCreate(
            controller_id=CONTROLLER,
            name="northbound",
            direction="north",
            shape="sector",
            coordinates=[list(STOP)],
            radius_m=150,
        ),
    )
    now = utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    async with system.db.write() as session:
        for n, (outcome, saved) in enumerate((("succeeded", 12.0), ("failed", None))):
            session.add(
                PriorityRequest(
                    approach_id=approach.id,
                    controller_id=CONTROLLER,
                    commune_code="dijon",
                    vehicle_id=f"bus-{n}",
                    pass_key=f"t:{n}",
                    line="L5",
                    direction="north",
                    distance_m=90.0,
                    observed_at=now,
                    requested_at=now - timedelta(minutes=n),
                    outcome=outcome,
                    delay_saved_s=saved,
                )
            )
        for lane, vehicles in ((1, 420), (2, 210)):
            session.add(
                TrafficCount(
                    asset_id=CONTROLLER,
                    lane=lane,
                    period_min=60,
                    bucket=hour,
                    commune_code="dijon",
                    vehicles=vehicles,
                    flow_vph=float(vehicles),
                    occupancy_pct=18.5,
                    speed_kmh=None,
                    samples=60,
                )
            )


async def test_the_bus_priority_page_shows_delay_saved_requests_and_counts(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    await _priority_and_counts(system)
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-mobility").click()

    saved = page.get_by_test_id(f"mobility-saved-{CONTROLLER}-L5")
    await expect(saved).to_contain_text("2")  # requests
    await expect(saved.locator("[data-seconds]")).to_have_attribute("data-seconds", "12")
    await expect(saved).to_contain_text("0,2 min")
    requests = page.get_by_test_id("mobility-requests")
    await expect(requests.locator('[data-outcome="succeeded"]')).to_have_text("accordée")
    await expect(requests.locator('[data-outcome="failed"]')).to_have_text("refusée")

    await page.get_by_test_id("mobility-asset").fill(CONTROLLER)
    await page.get_by_test_id("mobility-asset").dispatch_event("change")
    lane1 = page.get_by_test_id(f"mobility-count-{CONTROLLER}-1")
    await expect(lane1.locator("[data-flow]")).to_have_attribute("data-flow", "420")
    await expect(lane1).to_contain_text("18,5 %")
    await expect(page.get_by_test_id(f"mobility-count-{CONTROLLER}-2")).to_contain_text("210")
    await expect(page.get_by_test_id("mobility-csv")).to_have_attribute(
        "href", f"/api/v1/mobility/counts.csv?period=60&asset_id={CONTROLLER}"
    )
    csv = await page.request.get(
        f"{control_room.url}/api/v1/mobility/counts.csv?period=60&asset_id={CONTROLLER}"
    )
    assert csv.ok
    assert (await csv.text()).splitlines()[1].startswith(f"{CONTROLLER},1,60,")
