"""The operations log's side panel in headless Chromium against a running hub: Talant's
operator writes an entry that the supervisor's open panel shows live; the supervisor
amends it and the amendment reaches the operator's panel; Chenôve's operator sees
neither, and can write for Chenôve only; a viewer has no log."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import ControlRoom, sign_in, sign_out

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)
TEXT = "Accident rue de Dijon, deux véhicules, voie de droite fermée"


async def _open_log(page: Page) -> None:
    await page.get_by_test_id("log-toggle").click()
    await expect(page.get_by_test_id("log-panel")).to_be_visible()
    await expect(page.get_by_test_id("log-status")).to_have_text("Aucune entrée.")


async def test_desks_write_and_amend_the_log_live_within_their_communes(
    control_room: ControlRoom, page: Page, browser: Browser
) -> None:
    room = control_room
    await sign_in(page, room, "talant")
    await _open_log(page)
    context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        other = await context.new_page()
        await sign_in(other, room, "supervisor")
        await _open_log(other)

        # Talant's operator writes from the traffic desk; Talant is the only commune offered.
        log = page.get_by_test_id("log-panel")
        await expect(log.get_by_test_id("log-commune").locator("option")).to_have_count(1)
        await log.get_by_test_id("log-desk").select_option("traffic")
        await log.get_by_test_id("log-category").select_option("incident")
        await log.get_by_test_id("log-text").fill(TEXT)
        await log.get_by_test_id("log-submit").click()
        mine = log.get_by_test_id("log-entry")
        await expect(mine).to_have_count(1)
        await expect(mine.first).to_contain_text(TEXT)
        await expect(mine.first).to_contain_text("Circulation · Incident · Talant · op-talant")
        await expect(log.get_by_test_id("log-text")).to_have_value("")

        # The supervisor's open panel shows it without a reload, and amends it.
        theirs = other.get_by_test_id("log-panel").get_by_test_id("log-entry")
        await expect(theirs).to_have_count(1)
        await expect(theirs.first).to_contain_text(TEXT)
        await theirs.first.get_by_test_id("log-amend").click()
        await theirs.first.get_by_test_id("log-amend-text").fill("Dépanneuse arrivée à 22 h 10")
        await theirs.first.get_by_test_id("log-amend-submit").click()
        await expect(theirs.first.get_by_test_id("log-amendment")).to_contain_text("sup")
    finally:
        await context.close()
    # The entry stays as written; the amendment follows it, on the operator's screen too.
    await expect(mine.first.get_by_test_id("log-amendment")).to_contain_text(
        "Dépanneuse arrivée à 22 h 10"
    )
    await expect(mine.first.locator(".log-text")).to_have_text(TEXT)


async def test_another_commune_sees_nothing_and_a_viewer_has_no_log(
    control_room: ControlRoom, page: Page, browser: Browser
) -> None:
    room = control_room
    await sign_in(page, room, "talant")
    await page.get_by_test_id("log-toggle").click()
    log = page.get_by_test_id("log-panel")
    await log.get_by_test_id("log-text").fill(TEXT)
    await log.get_by_test_id("log-submit").click()
    await expect(log.get_by_test_id("log-entry")).to_have_count(1)

    context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        other = await context.new_page()
        await sign_in(other, room, "chenove")
        await _open_log(other)
        communes = other.get_by_test_id("log-panel").get_by_test_id("log-commune")
        await expect(communes.locator("option")).to_have_text(["Chenôve"])
    finally:
        await context.close()
    await sign_out(page)
    await sign_in(page, room, "viewer")
    await expect(page.get_by_test_id("nav-map")).to_be_visible()
    await expect(page.get_by_test_id("log-toggle")).to_have_count(0)
