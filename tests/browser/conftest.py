"""The console in a real browser: a whole control room on loopback, driven by Chromium.

Each test gets the hub as ``make demo`` runs it – embedded broker, gateway, background
workers, API and console – over a small simulated fleet (Talant and Chenôve), and a
headless Debian Chromium driven by Playwright. Where there is no Chromium, or the console
is not built, the tests skip saying why; ``BEFFROI_TEST_REQUIRE_BROWSER=1`` (CI) makes
that a failure instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from beffroi import workers
from beffroi.assets import importing
from beffroi.catalogue import Domain
from beffroi.cli.serve import bind_socket, serve_app
from beffroi.communes.service import list_communes
from beffroi.console.static import STATIC_DIR
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.process import Process
from beffroi.devices.credentials import issue_credentials
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.simulator import Simulator, city_centre, load_sim_assets
from beffroi.simulator.fleet import generate_fleet
from beffroi.web.app import create_app
from tests.mqtt_support import start_embedded_broker
from tests.support import PASSWORD, make_person

if TYPE_CHECKING:
    from beffroi.broker.embedded import EmbeddedBroker

CHROMIUM = os.environ.get("BEFFROI_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("BEFFROI_TEST_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
COMMUNES = ("talant", "chenove")
# A November evening: the lights are on, whatever the hour the tests run at.
EVENING = datetime(2026, 11, 18, 17, 30, tzinfo=UTC)


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (BEFFROI_TEST_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, and a built console to show in it."""
    if not Path(CHROMIUM).is_file():
        _skip_or_fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    if not (STATIC_DIR / "index.html").is_file():
        _skip_or_fail("the console is not built: make web")
    return CHROMIUM


@dataclass
class ControlRoom:
    """A running hub and what the tests need to know of it."""

    url: str
    runtime: Runtime
    simulator: Simulator
    broker: EmbeddedBroker  # the devices' broker: its refused logins, ready to flush
    assets: dict[str, list[str]]  # commune → asset ids
    types: dict[str, str]  # asset id → type
    users: dict[str, str] = field(default_factory=dict)  # role name → username

    def ids(self, commune: str, kind: str | None = None) -> list[str]:
        """The asset ids of a commune (of one type)."""
        return [a for a in self.assets[commune] if kind is None or self.types[a] == kind]


async def _fleet(system: Context) -> tuple[dict[str, list[str]], dict[str, str]]:
    items = [a for a in generate_fleet("dijon", scale=0.1, seed=1) if a.commune in COMMUNES]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    by_commune: dict[str, list[str]] = {c: [] for c in COMMUNES}
    for item in items:
        by_commune[item.commune].append(item.id)
    return by_commune, {i.id: i.type for i in items}


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get(f"{url}/api/health")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"the hub did not answer at {url}")


@pytest.fixture
async def control_room(
    chromium: str, runtime: Runtime, system: Context
) -> AsyncIterator[ControlRoom]:
    """Broker, gateway, workers, API and console on loopback, with a simulated fleet."""
    assets, types = await _fleet(system)
    users = {
        "admin": ("admin", [Role.ADMIN], None, None),
        "talant": ("op-talant", [Role.OPERATOR], ["talant"], [Domain.LIGHTING, Domain.ROADS]),
        "chenove": ("op-chenove", [Role.OPERATOR], ["chenove"], [Domain.LIGHTING]),
        "supervisor": ("sup", [Role.SUPERVISOR], None, None),
        "viewer": ("viewer", [Role.VIEWER], None, None),
    }
    for username, roles, communes, domains in users.values():
        await make_person(system, username, roles, communes, domains)
    secrets = dict(await issue_credentials(system, None))
    stop = asyncio.Event()
    async with start_embedded_broker(runtime) as broker:
        gateway = Gateway(runtime, broker_address(runtime, broker.url, embedded=True))
        latitude, longitude = city_centre(list(await list_communes(system)))
        simulator = Simulator(
            await load_sim_assets(system),
            secrets,
            broker.url,
            root=runtime.settings.mqtt_root,
            start=EVENING,
            timestamps="wall",
            fault_rate=0.0,
            command_failure_rate=0.0,
            latitude=latitude,
            longitude=longitude,
        )
        sock = bind_socket("127.0.0.1", 0, fallback=False)
        host, port = sock.getsockname()[:2]

        async def room() -> None:
            # The fixture's set-up and tear-down may run in different tasks: the
            # process's task group lives in one task of its own.
            async with Process(stop) as process:
                process.start("gateway", gateway.run(stop))
                await gateway.wait_connected(20)
                process.start("simulator", simulator.run(stop))
                process.start("api", serve_app(create_app(runtime), sock, stop))
                workers.start(process, runtime, command_clock=False)

        running = asyncio.create_task(room(), name="control-room")
        try:
            url = f"http://{host}:{port}"
            await _wait_up(url)
            yield ControlRoom(
                url, runtime, simulator, broker, assets, types, {k: v[0] for k, v in users.items()}
            )
        finally:
            stop.set()
            await running
            sock.close()


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    """A headless Chromium of the machine's, never a downloaded one."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A fresh page (French, Paris time, a laptop's screen); its screenshot is saved as an
    artifact when the test ends, passed or failed."""
    context = await browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1400, "height": 900}
    )
    opened = await context.new_page()
    try:
        yield opened
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").rstrip("]")
        with contextlib.suppress(Exception):
            await opened.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        await context.close()


async def sign_out(page: Page) -> None:
    """Sign out and wait for the reloaded login form: a navigation started before that
    reload has finished is aborted by it (net::ERR_ABORTED)."""
    await page.get_by_test_id("logout").click()
    await page.get_by_test_id("login-username").wait_for()


async def sign_in(page: Page, room: ControlRoom, who: str) -> None:
    """Open the console and sign in as one of the room's users."""
    await page.goto(room.url)
    await page.get_by_test_id("login-username").fill(room.users[who])
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("logout").wait_for()
