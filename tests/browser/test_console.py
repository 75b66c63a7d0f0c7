"""The console as its users work it, in headless Chromium against a running hub."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import aiomqtt
import pytest
from playwright.async_api import Locator, Page, expect

from beffroi.core.time import utcnow
from beffroi.lighting import service as lighting
from beffroi.lighting.override import OverrideTarget
from beffroi.lighting.schemas import (
    AssignmentCreate,
    CalendarCreate,
    OverrideCreate,
    ProgramCreate,
    TargetKind,
)
from beffroi.telemetry.decode import Reason, Rejection
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.browser.conftest import ControlRoom, sign_in, sign_out

# The browser half is the same on either database: it runs on the demo's (SQLite); the
# API under it is tested on both.
pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)


async def _drawn(page: Page) -> int:
    await page.wait_for_function("() => window.__beffroi && window.__beffroi.drawnAt !== null")
    return int(await page.evaluate("window.__beffroi.assetsLoaded"))


async def test_a_user_sees_the_map_of_their_communes_only(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    await sign_in(page, room, "admin")
    everything = len(room.assets["talant"]) + len(room.assets["chenove"])
    assert await _drawn(page) == everything
    await expect(page.get_by_test_id("asset-count")).to_have_text(str(everything))
    await sign_out(page)

    # Chenôve's operator: Chenôve's assets, but no camera (the law designates who sees them).
    await sign_in(page, room, "chenove")
    cameras = set(room.ids("chenove", "camera"))
    assert cameras, "the fleet needs a Chenôve camera"
    assert await _drawn(page) == len(room.assets["chenove"]) - len(cameras)
    shown = set(await page.evaluate("window.__beffroi.visibleAssetIds()"))
    assert shown == set(room.assets["chenove"]) - cameras
    assert not shown & set(room.assets["talant"])


async def _open_asset(page: Page, asset_id: str) -> None:
    await page.get_by_test_id("asset-search").fill(asset_id)
    await page.get_by_test_id("search-result").first.click()
    await expect(page.get_by_test_id("asset-panel")).to_be_visible()


async def test_an_operator_dims_a_streetlight_and_sees_it_done(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    light = room.ids("talant", "streetlight")[0]
    await sign_in(page, room, "talant")
    await _drawn(page)
    await _open_asset(page, light)
    panel = page.get_by_test_id("asset-panel")
    # Keyboard users land in the panel when it opens.
    inside = (
        "() => document.querySelector('[data-testid=asset-panel]').contains(document.activeElement)"
    )
    assert await page.evaluate(inside)
    await panel.get_by_test_id("command-dim").click()
    await panel.get_by_test_id("param-level_pct").fill("40")
    await panel.get_by_test_id("command-submit").click()
    row = panel.get_by_test_id("command-row").first
    await expect(row).to_have_attribute("data-state", "succeeded", timeout=20_000)
    # The light reports its new level, which the panel shows live, and which verifies it.
    level = panel.get_by_test_id("telemetry-level_pct")
    await expect(level).to_have_attribute("data-value", "40", timeout=20_000)
    await expect(row).to_have_attribute("data-verification", "verified", timeout=20_000)
    # The panel works from the keyboard: Escape closes it.
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()


async def test_an_alarm_from_the_field_is_acknowledged_from_the_list(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    light = room.ids("talant", "streetlight")[3]
    await sign_in(page, room, "talant")
    await page.get_by_test_id("nav-alarms").click()
    await page.get_by_test_id("alarm-list").wait_for()
    room.simulator.break_down(light, "lampFailure")
    row = page.get_by_test_id("alarm-row").filter(has_text=light)
    await expect(row).to_have_attribute("data-state", "active_unacknowledged", timeout=20_000)
    # From the keyboard: into the list, down to the row, "a" acknowledges it.
    await page.get_by_test_id("alarm-list").focus()
    await page.keyboard.press("ArrowDown")
    await expect(row).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("a")
    await expect(row).to_have_attribute("data-state", "active_acknowledged", timeout=10_000)


async def test_an_intervention_is_opened_from_an_alarm(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    cabinet = room.ids("talant", "lighting_cabinet")[0]
    await sign_in(page, room, "supervisor")
    await page.get_by_test_id("nav-alarms").click()
    room.simulator.break_down(cabinet, "supplyLoss")
    row = page.get_by_test_id("alarm-row").filter(has_text=cabinet)
    await expect(row).to_have_count(1, timeout=20_000)
    await row.get_by_test_id("alarm-create-intervention").click()
    form = page.get_by_test_id("intervention-create")
    await expect(form).to_be_visible()
    await form.get_by_test_id("intervention-title").fill("Armoire sans alimentation")
    await form.get_by_test_id("intervention-submit").click()
    card = page.get_by_test_id("intervention-card").filter(has_text="Armoire sans alimentation")
    await expect(card).to_have_attribute("data-status", "new", timeout=10_000)


async def test_a_polygon_of_lights_is_dimmed_with_a_progress_bar(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    await sign_in(page, room, "talant")
    await _drawn(page)
    # The map opens on the user's assets: a polygon just inside its edges takes them all.
    # A polygon well inside the map's edges, clear of the controls and hints there.
    box = await page.locator(".leaflet-container").bounding_box()
    assert box is not None
    await page.get_by_test_id("draw-polygon").click()
    for fx, fy in ((0.15, 0.2), (0.85, 0.2), (0.85, 0.85), (0.15, 0.85)):
        await page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        await page.wait_for_timeout(400)  # distinct clicks, not a double-click
    await page.get_by_test_id("finish-polygon").click()
    # Most of Talant's lights are inside (the map's edges cut off a few): the batch takes
    # exactly those the selection counts.
    counted = (
        await page.get_by_test_id("group-box").locator("li", has_text="Point lumineux").inner_text()
    )
    lights = int(counted.rsplit(":", 1)[1])
    assert 100 < lights <= len(room.ids("talant", "streetlight"))
    chooser = page.get_by_test_id("batch-command")
    option = chooser.locator("option", has_text="dim")
    await chooser.select_option(await option.get_attribute("value"))
    await page.get_by_test_id("param-level_pct").fill("60")
    await page.get_by_test_id("batch-reason").fill("Essai de gradation du quartier")
    await page.get_by_test_id("batch-submit").click()
    progress = page.get_by_test_id("batch-progress")
    await expect(progress).to_have_attribute("data-total", str(lights), timeout=10_000)
    await expect(progress).to_have_attribute("data-done", str(lights), timeout=60_000)


async def test_the_dashboard_shows_alarms_and_lighting_energy(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    room.simulator.break_down(room.ids("chenove", "streetlight")[0], "lampFailure")
    await sign_in(page, room, "supervisor")
    await page.get_by_test_id("nav-dashboard").click()
    board = page.get_by_test_id("dashboard")
    await expect(board).to_be_visible()
    minor = board.get_by_test_id("dashboard-alarms-minor")
    await expect(minor).to_have_attribute("data-count", "1", timeout=20_000)
    # The full-power baseline: every light's rated power while it was dark, never nothing
    # (the day starts at midnight, in the dark).
    full = board.get_by_test_id("dashboard-energy-full-power")
    await expect(full).to_have_attribute("data-wh", re.compile(r"^[1-9][0-9.]*$"))


# Each view's tab in French and in English.
VIEWS = {
    "map": ("Carte", "Map"),
    "alarms": ("Alarmes", "Alarms"),
    "interventions": ("Interventions", "Interventions"),
    "dashboard": ("Tableau de bord", "Dashboard"),
    "approvals": ("Approbations", "Approvals"),
}


def _view(page: Page, view: str) -> Locator:
    """What shows a view is on screen: the map's asset count, or the view's section."""
    if view == "map":
        return page.get_by_test_id("asset-count")
    return page.locator(f"section.view[data-view={view}]")


async def test_the_language_switches_from_every_view(control_room: ControlRoom, page: Page) -> None:
    room = control_room
    await sign_in(page, room, "supervisor")
    lang = "fr"
    assert await page.evaluate("document.documentElement.lang") == lang
    for view, (french, english) in VIEWS.items():
        await page.get_by_test_id(f"nav-{view}").click()
        await expect(_view(page, view)).to_be_visible()
        await page.get_by_test_id("lang-toggle").click()
        lang = "en" if lang == "fr" else "fr"
        # The toggle reloads the page: while it does, there may be no document element.
        await page.wait_for_function(f"() => document.documentElement?.lang === '{lang}'")
        # The console came back in the other language, on the same view.
        assert page.url.endswith(f"#/{view}"), page.url
        tab = page.get_by_test_id(f"nav-{view}")
        await expect(tab).to_have_text(english if lang == "en" else french)
        await expect(tab).to_have_attribute("aria-current", "page")
        await expect(_view(page, view)).to_be_visible()


async def test_the_console_offers_only_what_the_api_accepts(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    # The administrator manages accounts and does not approve (separation of duties): no
    # Approvals tab, and its address shows the map instead.
    await sign_in(page, room, "admin")
    await expect(page.get_by_test_id("nav-alarms")).to_be_visible()
    await expect(page.get_by_test_id("nav-approvals")).to_have_count(0)
    await page.goto(f"{room.url}/#/approvals")
    await expect(page.get_by_test_id("asset-count")).to_be_visible()
    await expect(page.locator("section.view[data-view=approvals]")).to_have_count(0)
    await sign_out(page)

    # Chenôve's operator works on lighting only: a traffic controller offers no command and
    # its alarm no handling; a light offers both.
    controller = room.ids("chenove", "traffic_controller")[0]
    light = room.ids("chenove", "streetlight")[0]
    await sign_in(page, room, "chenove")
    await _drawn(page)
    panel = page.get_by_test_id("asset-panel")
    await _open_asset(page, light)
    await expect(panel.get_by_test_id("command-dim")).to_be_visible()
    await page.keyboard.press("Escape")
    await _open_asset(page, controller)
    # The panel draws an asset's sections at once, commands included, once it has loaded it.
    await expect(panel.locator("dl.attributes")).to_contain_text(controller)
    await expect(panel.locator("section[aria-labelledby=panel-h-commands]")).to_be_visible()
    assert await panel.locator(".command-button").count() == 0
    await page.keyboard.press("Escape")

    await page.get_by_test_id("nav-alarms").click()
    room.simulator.break_down(controller, "hardwareFault")
    room.simulator.break_down(light, "lampFailure")
    controller_row = page.get_by_test_id("alarm-row").filter(has_text=controller)
    light_row = page.get_by_test_id("alarm-row").filter(has_text=light)
    await expect(light_row.get_by_test_id("alarm-ack")).to_be_visible(timeout=20_000)
    await expect(controller_row.get_by_test_id("alarm-open-asset")).to_be_visible(timeout=20_000)
    await expect(controller_row.get_by_test_id("alarm-ack")).to_have_count(0)


async def _refused(room: ControlRoom, username: str, password: str, client_id: str) -> None:
    """Try a CONNECT the devices' broker must refuse."""
    assert room.broker.port is not None
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(
            "127.0.0.1",
            room.broker.port,
            username=username,
            password=password,
            identifier=client_id,
            timeout=5,
        ):
            pass


async def test_a_supervisor_sees_why_a_device_cannot_connect(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    light = room.ids("talant", "streetlight")[2]
    for _ in range(3):
        await _refused(room, light, "not-its-secret", light)
    await _refused(room, light, "not-its-secret", "not-its-own")
    await room.broker.failures.flush(room.runtime.db)
    topic = f"{room.runtime.settings.mqtt_root}/devices/{light}/telemetry"
    text = '{"values": {"level_pct": "<b>high</b>"}}'
    binary = b"\xff\xfe\x00garbage"
    await TelemetryStore(room.runtime.db).write(
        Batch(
            rejections=[
                Rejection(
                    Reason.BAD_VALUE, "level_pct must be a number", topic, text.encode(), light
                ),
                Rejection(Reason.BAD_ENCODING, "payload is not UTF-8", topic, binary, light),
            ]
        )
    )

    await sign_in(page, room, "supervisor")
    await _drawn(page)
    await _open_asset(page, light)
    problems = page.get_by_test_id("asset-panel").get_by_test_id("connection-problems")
    await expect(problems.locator("h3")).to_have_text("Problèmes de connexion")
    wrong = problems.locator("[data-testid=login-failure][data-reason=wrong_secret]")
    await expect(wrong.get_by_test_id("login-failure-reason")).to_have_text("Secret erroné")
    await expect(wrong.get_by_test_id("login-failure-source")).to_have_text("MQTT")
    await expect(wrong.get_by_test_id("login-failure-count")).to_have_text("3 fois")
    # First and last refusal, in Paris time and French order.
    await expect(wrong.get_by_test_id("login-failure-times")).to_have_text(
        re.compile(r"^du \d\d/\d\d/\d{4} \d\d:\d\d:\d\d au \d\d/\d\d/\d{4} \d\d:\d\d:\d\d$")
    )
    stolen = problems.locator("[data-testid=login-failure][data-reason=client_id_mismatch]")
    await expect(stolen.get_by_test_id("login-failure-reason")).to_have_text(
        "Identifiant client différent"
    )
    await expect(stolen.get_by_test_id("login-failure-count")).to_have_text("1 fois")
    await expect(stolen.get_by_test_id("login-failure-where")).to_contain_text("client not-its-own")

    as_text = problems.locator("[data-testid=rejected-message][data-reason=bad_value]")
    await expect(as_text.get_by_test_id("rejected-reason")).to_have_text("Valeur invalide")
    await expect(as_text.get_by_test_id("rejected-detail")).to_have_text(
        "level_pct must be a number"
    )
    # The device's bytes are shown as text, never read as markup.
    payload = as_text.get_by_test_id("rejected-payload")
    await expect(payload).to_have_text(text)
    await expect(payload.locator("b")).to_have_count(0)
    await expect(as_text.get_by_test_id("rejected-size")).to_have_text(
        f"{len(text.encode())} octets"
    )
    await expect(as_text.get_by_test_id("payload-base64")).to_have_count(0)
    as_base64 = problems.locator("[data-testid=rejected-message][data-reason=bad_encoding]")
    await expect(as_base64.get_by_test_id("rejected-reason")).to_have_text("Pas en UTF-8")
    await expect(as_base64.get_by_test_id("rejected-payload")).to_have_text(
        base64.b64encode(binary).decode()
    )
    await expect(as_base64.get_by_test_id("payload-base64")).to_have_text("base64")
    await expect(as_base64.get_by_test_id("rejected-size")).to_have_text(f"{len(binary)} octets")

    # Refused again: "Refresh" reads the lists again.
    await _refused(room, light, "still-not-its-secret", light)
    await room.broker.failures.flush(room.runtime.db)
    await problems.get_by_test_id("problems-refresh").click()
    await expect(wrong.get_by_test_id("login-failure-count")).to_have_text("4 fois")

    # A device without trouble says so.
    quiet = room.ids("talant", "streetlight")[4]
    await page.keyboard.press("Escape")
    await _open_asset(page, quiet)
    await expect(problems.get_by_test_id("login-failures-none")).to_have_text(
        "Aucune connexion refusée ces 7 derniers jours"
    )
    await expect(problems.get_by_test_id("rejected-messages-none")).to_have_text(
        "Aucun message rejeté ces 7 derniers jours"
    )

    # English is a click away.
    await page.get_by_test_id("lang-toggle").click()
    await page.wait_for_function("() => document.documentElement?.lang === 'en'")
    await _drawn(page)
    await _open_asset(page, light)
    await expect(problems.locator("h3")).to_have_text("Connection problems")
    await expect(wrong.get_by_test_id("login-failure-reason")).to_have_text("Wrong secret")
    await expect(wrong.get_by_test_id("login-failure-count")).to_have_text("4 times")
    await expect(stolen.get_by_test_id("login-failure-count")).to_have_text("once")
    await expect(as_base64.get_by_test_id("rejected-size")).to_have_text(f"{len(binary)} bytes")
    await sign_out(page)

    # A viewer may not read ingest: the panel has no such section.
    await sign_in(page, room, "viewer")
    await _drawn(page)
    await _open_asset(page, light)
    panel = page.get_by_test_id("asset-panel")
    await expect(panel.locator("dl.attributes")).to_contain_text(light)
    await expect(panel.get_by_test_id("connection-problems")).to_have_count(0)


async def test_the_panel_says_why_a_light_is_at_its_level(
    control_room: ControlRoom, page: Page
) -> None:
    room = control_room
    light = room.ids("talant", "streetlight")[0]
    system = room.runtime.system_context("tests")
    full = [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]
    program = await lighting.create_program(
        system, ProgramCreate.model_validate({"name": "Pleine nuit", "steps": full})
    )
    calendar = await lighting.create_calendar(
        system, CalendarCreate(name="Métropole", default_program_id=program.id)
    )
    await lighting.create_assignment(
        system, AssignmentCreate(calendar_id=calendar.id, target=TargetKind.DEFAULT)
    )
    ends = utcnow() + timedelta(hours=1)
    await lighting.create_override(
        system,
        OverrideCreate(
            target=OverrideTarget.ASSETS,
            asset_ids=[light],
            level_pct=30,
            ends_at=ends,
            reason="Accident rue des Rosiers",
        ),
    )
    await sign_in(page, room, "talant")
    await _drawn(page)
    await _open_asset(page, light)
    section = page.get_by_test_id("asset-panel").get_by_test_id("why")
    # The override wins over the program (full light all night): 30 %, and why.
    await expect(section.get_by_test_id("why-level")).to_have_attribute("data-level", "30")
    override = section.get_by_test_id("why-override")
    await expect(override).to_contain_text("Accident rue des Rosiers")
    await expect(override).to_contain_text("tests")
    await expect(section.get_by_test_id("why-program")).to_have_text("Pleine nuit")
    await expect(section.get_by_test_id("why-explanation")).to_contain_text("wins over the program")
