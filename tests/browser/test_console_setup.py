"""What the console reads when it starts: the installation's time zone, and the reference
data (equipment types, communes, settings) fetched once however many views use them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, Request, expect

from beffroi.config import Settings, load_settings
from tests.browser.conftest import ControlRoom, sign_in

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)

# Not the browser's zone (the page runs in Paris time): the console must show the hub's.
ZONE = "America/New_York"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """A hub configured for New York time."""
    return load_settings(database_url=database_url, data_dir=tmp_path, timezone=ZONE)


async def test_times_read_in_the_configured_time_zone(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    light = room.ids("talant", "streetlight")[1]
    await sign_in(page, room, "supervisor")
    await page.get_by_test_id("nav-alarms").click()
    room.simulator.break_down(light, "lampFailure")
    raised = page.get_by_test_id("alarm-row").filter(has_text=light).locator("time").first
    await expect(raised).to_be_visible(timeout=20_000)
    at = datetime.fromisoformat(await raised.get_attribute("datetime") or "")
    # French order (day first) in New York time, six or five hours behind Paris.
    await expect(raised).to_have_text(f"{at.astimezone(ZoneInfo(ZONE)):%d/%m/%Y %H:%M:%S}")


async def test_reference_data_is_fetched_once(control_room: ControlRoom, page: Page) -> None:
    room = control_room
    fetched: Counter[str] = Counter()

    def count(request: Request) -> None:
        fetched[urlsplit(request.url).path] += 1

    cabinet = room.ids("chenove", "lighting_cabinet")[0]
    room.simulator.break_down(cabinet, "supplyLoss")
    page.on("request", count)
    await sign_in(page, room, "supervisor")
    await expect(page.get_by_test_id("asset-count")).to_be_visible()
    # Every view that names types or communes, and the intervention form that guesses the
    # trade from the asset's type.
    await page.get_by_test_id("nav-dashboard").click()
    await expect(page.get_by_test_id("dashboard")).to_be_visible()
    await page.get_by_test_id("nav-interventions").click()
    await expect(page.locator("section.view[data-view=interventions]")).to_be_visible()
    await page.get_by_test_id("nav-alarms").click()
    row = page.get_by_test_id("alarm-row").filter(has_text=cabinet)
    await expect(row).to_have_count(1, timeout=20_000)
    # The form reads the asset to guess its trade (and once read the types for it, too).
    async with page.expect_response(lambda r: r.url.endswith(f"/api/v1/assets/{cabinet}")):
        await row.get_by_test_id("alarm-create-intervention").click()
    await expect(page.get_by_test_id("intervention-category")).to_have_value("lighting")
    for path in ("/api/v1/types", "/api/v1/communes", "/api/v1/console/config"):
        assert fetched[path] == 1, (path, fetched[path])
