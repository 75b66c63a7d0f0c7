"""The public portal (/open/) in headless Chromium: a visitor, not logged in, finds a dataset
in the catalogue, sees its rows, its map and its chart, and downloads it.

Only the API is served (no broker, no gateway): the portal reads nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from beffroi.cli.serve import bind_socket, serve_app
from beffroi.core.context import Context, Runtime
from beffroi.opendata import service
from beffroi.opendata.datasets import DATASETS
from beffroi.web.app import create_app
from tests.browser.conftest import ARTIFACTS, _wait_up
from tests.integration.opendata_world import build_world

# The browser half is the same on either database; the API under it is tested on both.
pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)


@pytest.fixture
async def hub(chromium: str, runtime: Runtime, system: Context) -> AsyncIterator[str]:
    """The API and the built pages on loopback, over a published open data world."""
    await build_world(runtime, system)
    await service.refresh_all(system)
    settings = runtime.settings.model_copy(update={"opendata_rate_limit": "10000/minute"})
    app = create_app(Runtime(settings, runtime.db))
    sock = bind_socket("127.0.0.1", 0, fallback=False)
    host, port = sock.getsockname()[:2]
    stop = asyncio.Event()
    serving = asyncio.create_task(serve_app(app, sock, stop), name="portal-hub")
    try:
        url = f"http://{host}:{port}"
        await _wait_up(url)
        yield url
    finally:
        stop.set()
        await serving
        sock.close()


async def test_a_visitor_finds_a_dataset_previews_it_and_downloads_it(hub: str, page: Page) -> None:
    answered = await page.goto(f"{hub}/open/")
    assert answered is not None
    assert answered.status == 200
    assert "script-src 'self'" in (await answered.header_value("content-security-policy") or "")
    cards = page.get_by_test_id("dataset-card")
    await expect(cards).to_have_count(len(DATASETS))

    await page.get_by_test_id("catalogue-search").fill("comptages")
    await expect(cards).to_have_count(1)
    await cards.get_by_test_id("dataset-link").click()
    await expect(page).to_have_url(f"{hub}/open/datasets/traffic-counts-hourly")
    await expect(page.get_by_test_id("dataset-title")).to_have_text("Comptages routiers horaires")

    rows = page.get_by_test_id("preview-row")
    await expect(rows.first).to_be_visible()
    assert await rows.count() > 1
    # The road of the world's Talant counter, in the table and as a point on the map.
    await expect(page.get_by_test_id("preview")).to_contain_text("Avenue du Mont Afrique")
    points = page.get_by_test_id("dataset-map").locator("path.leaflet-interactive")
    await expect(points.first).to_be_attached()
    await expect(page.get_by_test_id("dataset-chart").locator("canvas")).to_be_attached()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "portal-dataset.png"), full_page=True)

    async with page.expect_download() as downloading:
        await page.get_by_test_id("download-csv").click()
    download = await downloading.value
    path = await download.path()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "vehicles" in lines[0].split(";")
    # The whole snapshot, not the preview's page.
    assert len(lines) - 1 >= await rows.count()
    assert any("Avenue du Mont Afrique" in line for line in lines[1:])

    # A reload at the dataset's address shows it again (the server answers the portal's paths).
    await page.reload()
    await expect(page.get_by_test_id("dataset-title")).to_have_text("Comptages routiers horaires")
    await page.get_by_test_id("nav-catalogue").click()
    await expect(cards).to_have_count(len(DATASETS))


async def test_the_portal_speaks_english_and_fits_a_phone(hub: str, page: Page) -> None:
    await page.set_viewport_size({"width": 390, "height": 800})
    await page.goto(f"{hub}/open/datasets/traffic-counts-hourly?lang=en")
    await expect(page.get_by_test_id("nav-report")).to_have_text("Report a problem")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_test_id("preview-row").first).to_be_visible()
    # The wide table scrolls in its own box: the page itself never scrolls sideways.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
