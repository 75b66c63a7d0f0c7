"""The console's video view in headless Chromium against a running hub: a habilitated
agent opens a session with a reason (the reason dialog) and sees the wall of its cameras
with their signed URLs, steers one and ends it; an auditor finds it in the register,
exports it and verifies the chain; a manager records and revokes a habilitation; an
operator is offered no video view at all."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, expect

from beffroi.core.context import Context
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.video import habilitations
from beffroi.video.schemas import HabilitationCreate
from tests.browser.conftest import ControlRoom, sign_in, sign_out
from tests.integration.video_support import make_cameras
from tests.support import make_person

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)
REASON = "levée de doute sur alarme"
PARIS = ZoneInfo("Europe/Paris")  # the browser's zone (conftest's page)


async def _cast(room: ControlRoom, system: Context) -> None:
    """Cameras in Talant and Chenôve, an agent habilitated for Talant's, an auditor."""
    await make_cameras(system)
    await make_person(system, "agent", [Role.VIDEO_AGENT])
    await make_person(system, "auditor", [Role.AUDITOR])
    room.users.update(agent="agent", auditor="auditor")
    now = utcnow()
    body = HabilitationCreate(
        username="agent",
        authority="Préfecture de la Côte-d'Or",
        reference="arrêté 2026-118",
        communes=["talant"],
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )
    await habilitations.record_habilitation(system, body)


async def test_an_agent_watches_a_session_and_an_auditor_finds_it_in_the_register(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    room = control_room
    await _cast(room, system)
    await sign_in(page, room, "agent")
    await page.get_by_test_id("nav-video").click()
    # An agent views; the register and the habilitations are not theirs.
    await expect(page.get_by_test_id("video-tab-session")).to_be_visible()
    await expect(page.get_by_test_id("video-tab-register")).to_have_count(0)
    await expect(page.get_by_test_id("video-habilitation")).to_contain_text("arrêté 2026-118")
    # Only the cameras the habilitation covers are offered: Talant's, not Chenôve's.
    await expect(page.get_by_test_id("video-camera-CA-TAL-1")).to_be_visible()
    await expect(page.get_by_test_id("video-camera-CA-CHE-1")).to_have_count(0)
    await page.get_by_test_id("video-camera-CA-TAL-1").check()
    await page.get_by_test_id("video-camera-CA-TAL-2").check()
    await page.get_by_test_id("video-start").click()
    # The reason dialog: one of the configured reasons, and words of one's own.
    dialog = page.get_by_test_id("dialog")
    await dialog.get_by_test_id("dialog-reason").select_option(REASON)
    await dialog.get_by_test_id("dialog-reason_text").fill("Alarme intrusion école")
    await dialog.get_by_test_id("dialog-submit").click()
    wall = page.get_by_test_id("video-wall")
    tiles = wall.get_by_test_id("video-tile")
    await expect(tiles).to_have_count(2)
    tile = tiles.and_(page.locator('[data-camera="CA-TAL-1"]'))
    await expect(tile).to_contain_text("Caméra CA-TAL-1")
    await expect(tile.get_by_test_id("video-url")).to_contain_text("CA-TAL-1")
    expiry = await tile.get_by_test_id("video-expiry").get_attribute("data-expires")
    assert expiry
    await expect(page.get_by_test_id("video-session")).to_contain_text(REASON)
    # Steering within the session goes through.
    await tile.get_by_test_id("video-preset").fill("3")
    await tile.get_by_test_id("video-goto").click()
    await expect(page.get_by_test_id("toast").filter(has_text="goto_preset")).to_be_visible()
    await page.get_by_test_id("video-end").click()
    await expect(wall).to_have_count(0)

    await sign_out(page)
    await sign_in(page, room, "auditor")
    await page.get_by_test_id("nav-video").click()
    await expect(page.get_by_test_id("video-tab-session")).to_have_count(0)
    await page.get_by_test_id("register-camera").fill("CA-TAL-1")
    await page.get_by_test_id("register-kind").select_option("view.start")
    await page.get_by_test_id("register-search").click()
    rows = page.get_by_test_id("register-rows").get_by_test_id("register-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(REASON)
    await expect(rows.first).to_contain_text("agent")
    # The steering is registered too, and the whole register is as written.
    await page.get_by_test_id("register-kind").select_option("steering")
    await page.get_by_test_id("register-search").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("GotoPreset")
    href = await page.get_by_test_id("register-csv").get_attribute("href")
    assert href is not None
    assert "camera_id=CA-TAL-1" in href
    assert "kind=steering" in href
    answer = await page.request.get(room.url + href)
    assert answer.ok
    assert answer.headers["content-type"].startswith("text/csv")
    assert "CA-TAL-1" in await answer.text()
    await page.get_by_test_id("register-verify").click()
    await expect(page.get_by_test_id("register-verdict")).to_have_attribute("data-ok", "true")


async def test_an_operator_has_no_video_view(control_room: ControlRoom, page: Page) -> None:
    await sign_in(page, control_room, "talant")
    await expect(page.get_by_test_id("nav-map")).to_be_visible()
    await expect(page.get_by_test_id("nav-video")).to_have_count(0)


async def test_a_manager_records_and_revokes_a_habilitation(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    await make_person(system, "agent", [Role.VIDEO_AGENT])
    await sign_in(page, control_room, "admin")
    await page.get_by_test_id("nav-video").click()
    await page.get_by_test_id("video-tab-habilitations").click()
    await page.get_by_test_id("habilitation-record").click()
    dialog = page.get_by_test_id("dialog")
    today = utcnow().astimezone(PARIS).date()
    await dialog.get_by_test_id("dialog-username").fill("agent")
    await dialog.get_by_test_id("dialog-authority").fill("Préfecture de la Côte-d'Or")
    await dialog.get_by_test_id("dialog-reference").fill("arrêté 2026-200")
    await dialog.get_by_test_id("dialog-communes").fill("talant, chenove")
    await dialog.get_by_test_id("dialog-valid_from").fill(f"{today.isoformat()}T00:00")
    await dialog.get_by_test_id("dialog-valid_until").fill(f"{today + timedelta(days=30)}T00:00")
    await dialog.get_by_test_id("dialog-submit").click()
    row = page.get_by_test_id("habilitation-rows").get_by_test_id("habilitation-row")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("arrêté 2026-200")
    await expect(row).to_have_attribute("data-active", "true")
    await row.get_by_test_id("habilitation-revoke").click()
    await dialog.get_by_test_id("dialog-reason").fill("Mutation de l'agent")
    await dialog.get_by_test_id("dialog-submit").click()
    await expect(row).to_have_attribute("data-active", "false")
    await expect(row).to_contain_text("Mutation de l'agent")
    await expect(row.get_by_test_id("habilitation-revoke")).to_have_count(0)
