"""The console's lighting overrides and energy page in headless Chromium against a running
hub: an override made from the map's selection (its refusal beside the field, then in the
Overrides tab and in "why this level") and one from the asset panel, a critical one
awaiting a second supervisor's approval, a viewer without override controls (and the
schedules' delivery state), and the energy page's figures of a commune with its CSV."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect

from beffroi.core.context import Context
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.energy.models import EnergyDailyCommune
from beffroi.lighting import service
from beffroi.lighting.schemas import OverrideCreate
from tests.browser.conftest import ControlRoom, sign_in
from tests.support import make_person

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)
PARIS = ZoneInfo("Europe/Paris")  # the browser's zone (conftest's page)


async def _drawn(page: Page) -> None:
    await page.wait_for_function("() => window.__beffroi && window.__beffroi.drawnAt !== null")


async def _overrides_tab(page: Page) -> None:
    await page.get_by_test_id("nav-lighting").click()
    await page.get_by_test_id("lighting-tab-overrides").click()


async def test_an_override_from_the_selection_shows_and_a_critical_one_is_approved(
    control_room: ControlRoom, page: Page, browser: Browser, system: Context
) -> None:
    room = control_room
    await make_person(system, "sup2", [Role.SUPERVISOR])
    room.users["supervisor2"] = "sup2"
    await sign_in(page, room, "supervisor")
    await _drawn(page)
    await page.get_by_test_id("filter-commune").select_option("talant")
    await page.get_by_test_id("select-filter").click()
    form = page.get_by_test_id("override-form")
    await expect(form.get_by_test_id("override-target")).to_contain_text("Talant")
    await form.get_by_test_id("override-level").fill("30")
    await form.get_by_test_id("override-reason").fill("Marché de Noël")
    # An end before the start: the server's refusal lands beside the end.
    await form.get_by_test_id("override-ends").fill("2020-01-01T10:00")
    await form.get_by_test_id("override-submit").click()
    await expect(form.get_by_test_id("override-error-ends_at")).to_contain_text("after")
    await form.get_by_test_id("override-ends").fill(
        (utcnow().astimezone(PARIS).date() + timedelta(days=1)).isoformat() + "T06:00"
    )
    await form.get_by_test_id("override-submit").click()
    result = form.get_by_test_id("override-result")
    await expect(result).to_have_attribute("data-state", "active")
    await expect(form.get_by_test_id("override-error-ends_at")).to_be_hidden()
    # Lights out over the whole commune is critical: it waits for another supervisor.
    await form.get_by_test_id("override-level").fill("0")
    await expect(form.get_by_test_id("override-critical")).to_be_visible()
    await form.get_by_test_id("override-reason").fill("Coupure réseau")
    await form.get_by_test_id("override-submit").click()
    await expect(result).to_have_attribute("data-state", "pending_approval")
    await expect(result).to_contain_text("attente d'approbation")
    await page.get_by_test_id("selection-clear").click()
    # "Why this level": the active override at 30 % wins over any program.
    light = room.ids("talant", "streetlight")[0]
    await page.get_by_test_id("asset-search").fill(light)
    await page.get_by_test_id("search-result").first.click()
    why = page.get_by_test_id("asset-panel").get_by_test_id("why")
    await expect(why.get_by_test_id("why-override")).to_contain_text("30 %")
    await expect(why.get_by_test_id("why-override")).to_contain_text("Marché de Noël")
    await expect(why.get_by_test_id("why-level")).to_have_attribute("data-level", "30")
    # The panel offers an override of this light alone.
    await page.get_by_test_id("panel-override").click()
    own = page.get_by_test_id("asset-panel").get_by_test_id("override-form")
    await expect(own.get_by_test_id("override-target")).to_contain_text("1 ")
    await own.get_by_test_id("override-level").fill("70")
    await own.get_by_test_id("override-reason").fill("Accident")
    await own.get_by_test_id("override-submit").click()
    # The newest override wins: "why" is read again and says so.
    await expect(why.get_by_test_id("why-level")).to_have_attribute("data-level", "70")
    await expect(why.get_by_test_id("why-override")).to_contain_text("Accident")
    await page.keyboard.press("Escape")
    await _overrides_tab(page)
    active = page.get_by_test_id("overrides-active").locator("tbody tr")
    await expect(active).to_have_count(2)
    await expect(active.filter(has_text="Marché de Noël")).to_contain_text("Talant")
    await expect(active.filter(has_text="Accident")).to_contain_text(light)
    pending = page.get_by_test_id("overrides-pending").locator("tbody tr")
    await expect(pending).to_have_count(1)
    # Four-eyes: its author may cancel it, never approve it.
    await expect(pending.first.get_by_role("button", name="Annuler")).to_be_visible()
    await expect(pending.first.locator('[data-testid$="-approve"]')).to_have_count(0)

    # A second supervisor approves it: it applies now.
    context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    try:
        other = await context.new_page()
        await sign_in(other, room, "supervisor2")
        await _overrides_tab(other)
        waiting = other.get_by_test_id("overrides-pending").locator("tbody tr")
        await expect(waiting).to_have_count(1)
        await waiting.first.locator('[data-testid$="-approve"]').click()
        await expect(other.get_by_test_id("overrides-pending").locator("tbody tr")).to_have_count(0)
        now_active = other.get_by_test_id("overrides-active").locator("tbody tr")
        await expect(now_active).to_have_count(3)
        await expect(now_active.filter(has_text="Coupure réseau")).to_contain_text("sup2")
    finally:
        await context.close()
    # The author ends the lighting-out override now: it moves to the ended ones.
    await page.get_by_test_id("lighting-tab-overrides").click()
    page.once("dialog", lambda dialog: dialog.accept())
    cut = page.get_by_test_id("overrides-active").locator("tr", has_text="Coupure réseau")
    await cut.get_by_role("button", name="Terminer maintenant").click()
    ended = page.get_by_test_id("overrides-ended").locator("tbody tr")
    await expect(ended).to_have_count(1)
    await expect(ended.first).to_have_attribute("data-state", "cancelled")


async def test_a_viewer_sees_no_override_controls(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    room = control_room
    light = room.ids("talant", "streetlight")[0]
    body = {
        "target": "assets",
        "asset_ids": [light],
        "level_pct": 60,
        "ends_at": (utcnow() + timedelta(hours=3)).isoformat(),
        "reason": "Travaux",
    }
    await service.create_override(system, OverrideCreate.model_validate(body))
    await sign_in(page, room, "viewer")
    await _drawn(page)
    await expect(page.get_by_test_id("select-filter")).to_have_count(0)
    await page.get_by_test_id("asset-search").fill(light)
    await page.get_by_test_id("search-result").first.click()
    panel = page.get_by_test_id("asset-panel")
    await expect(panel.get_by_test_id("why-override")).to_contain_text("Travaux")
    await expect(panel.get_by_test_id("panel-override")).to_have_count(0)
    await page.keyboard.press("Escape")
    await _overrides_tab(page)
    row = page.get_by_test_id("overrides-active").locator("tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.get_by_role("button")).to_have_count(0)
    await expect(page.get_by_test_id("override-on-map")).to_have_count(0)
    # The override recompiled its cabinet's schedule: its delivery state shows, and the
    # filter asks the server for the cabinets behind only.
    await page.get_by_test_id("lighting-tab-schedules").click()
    schedules = page.get_by_test_id("schedule-list").locator("tbody tr")
    await expect(schedules.first.get_by_test_id("schedule-acked")).to_be_visible()
    async with page.expect_response(re.compile(r"/lighting/schedules\?behind=true")) as behind:
        await page.get_by_test_id("schedule-behind").check()
    assert (await behind.value).ok
    await expect(schedules.and_(page.locator('[data-behind="false"]'))).to_have_count(0)


async def test_the_energy_page_shows_a_communes_figures_and_its_csv(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    # The last three days metered in Talant: 36 kWh against a 100 kWh baseline.
    first = utcnow().astimezone(control_room.runtime.settings.zone).date() - timedelta(days=2)
    async with control_room.runtime.db.write() as session:
        for i in range(3):
            session.add(
                EnergyDailyCommune(
                    day=first + timedelta(days=i),
                    commune_code="talant",
                    lights=10,
                    energy_wh=10_000 + 2_000 * i,
                    offpeak_wh=5_000,
                    compared_wh=10_000 + 2_000 * i,
                    baseline_wh=100_000 / 3,
                    burning_h=120,
                    supply_wh=None,
                    supply_offpeak_wh=None,
                )
            )
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-energy").click()
    await expect(page.get_by_test_id("energy-communes")).to_contain_text("Talant")
    await page.get_by_test_id("energy-commune").select_option("talant")
    await expect(page.get_by_test_id("energy-status")).to_contain_text("Talant")
    await expect(page.get_by_test_id("energy-energy")).to_have_attribute("data-wh", "36000")
    savings = page.get_by_test_id("energy-savings")
    await expect(savings).to_have_attribute("data-savings", re.compile(r"^0\.64"))
    await expect(savings).to_have_attribute("data-meets", "false")
    await expect(
        page.get_by_test_id("energy-bars").locator("rect.e-value[data-period]")
    ).to_have_count(12)
    await expect(
        page.get_by_test_id("energy-trend").get_by_test_id("energy-target-line")
    ).to_have_count(1)
    await expect(page.get_by_test_id("energy-rows")).to_contain_text("36")
    # The CSV link carries the same filters and answers CSV.
    href = await page.get_by_test_id("energy-csv").get_attribute("href")
    assert href is not None
    assert "commune=talant" in href
    assert "granularity=month" in href
    answer = await page.request.get(control_room.url + href)
    assert answer.ok
    assert answer.headers["content-type"].startswith("text/csv")
    lines = (await answer.text()).splitlines()
    assert lines[0].startswith("period,key,")
    assert any("talant" in line and "36000" in line for line in lines[1:])
    # Day by day: the period moves to the last 31 days, one bar a day.
    await page.get_by_test_id("energy-granularity").select_option("day")
    await expect(
        page.get_by_test_id("energy-bars").locator("rect.e-value[data-period]")
    ).to_have_count(31)
    await expect(page.get_by_test_id("energy-maintenance")).to_be_visible()
    due_csv = await page.get_by_test_id("energy-due-csv").get_attribute("href")
    assert due_csv is not None
    answer = await page.request.get(control_room.url + due_csv)
    assert answer.ok
    assert answer.headers["content-type"].startswith("text/csv")
