"""The console's lighting pages in headless Chromium against a running hub: writing a
program with its 24 h preview (errors beside their fields, lost updates caught), reading
calendars month by month without edit rights, assigning a calendar to the map's
selection, and "why this level" in the asset panel."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from beffroi.core.context import Context
from beffroi.lighting import service
from beffroi.lighting.schemas import CalendarCreate, ProgramCreate, ProgramUpdate
from tests.browser.conftest import ARTIFACTS, ControlRoom, sign_in

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)

NIGHT = [
    {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
    {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
    {"anchor": "time", "at": "05:00", "level_pct": 100},
    {"anchor": "sunrise", "offset_min": 10, "level_pct": 0},
]
FULL = [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]


async def _library(system: Context) -> dict[str, int]:
    night = await service.create_program(
        system, ProgramCreate.model_validate({"name": "Nuit standard", "steps": NIGHT})
    )
    full = await service.create_program(
        system, ProgramCreate.model_validate({"name": "Pleine nuit", "steps": FULL})
    )
    rule = {"kind": "dates", "program_id": full.id, "dates": ["2026-12-24"], "annual": True}
    calendar = await service.create_calendar(
        system,
        CalendarCreate.model_validate(
            {
                "name": "Métropole",
                "rules": [{**rule, "label": "Réveillon"}],
                "default_program_id": night.id,
            }
        ),
    )
    return {"night": night.id, "full": full.id, "calendar": calendar.id}


async def _drawn(page: Page) -> None:
    await page.wait_for_function("() => window.__beffroi && window.__beffroi.drawnAt !== null")


async def test_a_supervisor_writes_a_program_with_its_preview(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-lighting").click()
    await page.get_by_test_id("program-new").click()
    editor = page.get_by_test_id("program-editor")
    # A new program starts at sunset, dims at 23:00 and ends at sunrise: drawn at once.
    await expect(editor.get_by_test_id("program-preview")).to_be_visible()
    await expect(editor.get_by_test_id("preview-sunset")).to_have_attribute(
        "data-time", re.compile(r"^\d\d:\d\d$")
    )
    await expect(editor.get_by_test_id("preview-sunrise")).to_have_attribute(
        "data-time", re.compile(r"^\d\d:\d\d$")
    )
    # A level out of range: the preview's refusal lands beside the field it names.
    await editor.get_by_test_id("step-1-level_pct").fill("120")
    error = editor.locator('[data-field="steps.1.level_pct"]')
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("100")
    await editor.get_by_test_id("step-1-level_pct").fill("40")
    await expect(error).to_be_hidden()
    await expect(editor.get_by_test_id("program-preview")).to_be_visible()
    # A fixed time before sunset in winter: the preview names the day and the field.
    await editor.get_by_test_id("preview-day").fill("2026-06-20")
    await editor.get_by_test_id("step-1-at").fill("21:00")
    timing = editor.locator('[data-field="steps.1.at"]')
    await expect(timing).to_contain_text("2026-06-20")
    await editor.get_by_test_id("step-1-at").fill("23:30")
    await expect(timing).to_be_hidden()
    # Saving without a name: the server names the field, the message sits beside it.
    await editor.get_by_test_id("program-save").click()
    await expect(editor.locator('[data-field="name"]')).to_be_visible()
    await editor.get_by_test_id("program-name").fill("Nuit test")
    await editor.get_by_test_id("program-save").click()
    listed = page.get_by_test_id("program-list").get_by_role("button", name=re.compile("Nuit test"))
    await expect(listed).to_be_visible()
    editor = page.get_by_test_id("program-editor")
    await expect(editor.get_by_test_id("program-version")).to_contain_text("version 1")
    await expect(editor.get_by_test_id("step-1-at")).to_have_value("23:30")
    await editor.screenshot(path=str(ARTIFACTS / "lighting-program-editor.png"))
    # Someone else changes it meanwhile: the save names the version it read and is refused.
    program_id = int(await listed.get_attribute("data-id") or 0)
    await service.update_program(
        system, program_id, ProgramUpdate(version=1, description="changé ailleurs")
    )
    await editor.get_by_test_id("program-description").fill("mon changement")
    await editor.get_by_test_id("program-save").click()
    await expect(editor.get_by_test_id("program-error")).to_contain_text("version 2")
    await editor.get_by_test_id("program-reload").click()
    editor = page.get_by_test_id("program-editor")
    await expect(editor.get_by_test_id("program-version")).to_contain_text("version 2")
    await expect(editor.get_by_test_id("program-description")).to_have_value("changé ailleurs")


async def test_a_viewer_reads_programs_and_the_calendar_month_by_month(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    ids = await _library(system)
    await sign_in(page, control_room, "viewer")
    await page.get_by_test_id("nav-lighting").click()
    editor = page.get_by_test_id("program-editor")
    await expect(editor.get_by_test_id("program-readonly")).to_be_visible()
    await expect(editor.get_by_test_id("program-preview")).to_be_visible()
    assert await page.get_by_test_id("program-save").count() == 0
    assert await page.get_by_test_id("program-new").count() == 0
    await expect(editor.get_by_test_id("step-0-level_pct")).to_be_disabled()
    await page.get_by_test_id("lighting-tab-calendars").click()
    await expect(page.get_by_test_id("rule-0")).to_contain_text("Réveillon")
    await expect(page.get_by_test_id("rule-default")).to_contain_text("Nuit standard")
    await page.get_by_test_id("calendar-month").fill("2026-12")
    eve = page.get_by_test_id("day-2026-12-24")
    await expect(eve).to_have_attribute("data-rule", "0")
    await expect(eve).to_have_attribute("data-program", str(ids["full"]))
    await expect(page.get_by_test_id("day-2026-12-23")).to_have_attribute("data-rule", "")
    await expect(page.get_by_test_id("day-2026-12-23")).to_have_attribute(
        "data-program", str(ids["night"])
    )
    await page.get_by_test_id("calendar-next").click()
    await expect(page.get_by_test_id("day-2027-01-31")).to_be_visible()
    await page.get_by_test_id("calendar-mode").select_option("year")
    await expect(page.locator(".l-day")).to_have_count(365)
    await expect(page.get_by_test_id("day-2027-12-24")).to_have_attribute("data-rule", "0")
    # Viewers have no map selection to assign from.
    await page.get_by_test_id("nav-map").click()
    assert await page.get_by_test_id("select-filter").count() == 0


async def test_a_calendar_is_assigned_to_the_map_selection_and_the_panel_says_why(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    room = control_room
    await _library(system)
    await sign_in(page, room, "supervisor")
    await _drawn(page)
    await page.get_by_test_id("filter-commune").select_option("talant")
    await page.get_by_test_id("select-filter").click()
    form = page.get_by_test_id("assign-form")
    await expect(form.get_by_test_id("assign-target")).to_contain_text("Talant")
    await form.get_by_test_id("assign-calendar").select_option(label="Métropole")
    await form.get_by_test_id("assign-submit").click()
    await expect(page.get_by_test_id("toast").last).to_contain_text("(1)")
    await page.get_by_test_id("selection-clear").click()
    # A Talant light now follows the calendar through its commune's assignment.
    light = room.ids("talant", "streetlight")[0]
    await page.get_by_test_id("asset-search").fill(light)
    await page.get_by_test_id("search-result").first.click()
    why = page.get_by_test_id("asset-panel").get_by_test_id("why")
    await expect(why.get_by_test_id("why-calendar")).to_have_text("Métropole")
    await expect(why.get_by_test_id("why-assignment")).to_have_text("Commune")
    await expect(why.get_by_test_id("why-program")).to_have_text(
        re.compile("Nuit standard|Pleine nuit")
    )
    await expect(why.get_by_test_id("why-level")).to_have_attribute(
        "data-level", re.compile(r"^\d+(\.\d+)?$")
    )
    await expect(why.get_by_test_id("why-explanation")).to_contain_text("talant")
    # Read again on demand (the level moves through the night, and nothing announces it).
    async with page.expect_response(re.compile(r"/lighting/assets/.+/why")) as reread:
        await why.get_by_test_id("why-refresh").click()
    assert (await reread.value).ok
    await expect(why.get_by_test_id("why-calendar")).to_have_text("Métropole")
    # Assigning the same commune again is refused, and the form says why.
    await page.keyboard.press("Escape")
    await page.get_by_test_id("select-filter").click()
    form = page.get_by_test_id("assign-form")
    await form.get_by_test_id("assign-calendar").select_option(label="Métropole")
    await form.get_by_test_id("assign-submit").click()
    await expect(form.get_by_test_id("assign-error")).to_be_visible()
    await page.get_by_test_id("selection-clear").click()
    # A polygon drawn on the map, limited to Chenôve: a polygon assignment.
    box = await page.locator(".leaflet-container").bounding_box()
    assert box is not None
    await page.get_by_test_id("draw-polygon").click()
    for fx, fy in ((0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)):
        await page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        await page.wait_for_timeout(400)  # distinct clicks, not a double-click
    await page.get_by_test_id("finish-polygon").click()
    form = page.get_by_test_id("assign-form")
    await expect(form.get_by_test_id("assign-target")).to_contain_text("polygone")
    await form.get_by_test_id("assign-calendar").select_option(label="Métropole")
    await form.get_by_test_id("assign-commune").select_option("chenove")
    await form.get_by_test_id("assign-submit").click()
    await expect(page.get_by_test_id("toast").last).to_contain_text("(1)")
    # The assignments tab lists both, the most specific (the polygon) first.
    await page.get_by_test_id("nav-lighting").click()
    await page.get_by_test_id("lighting-tab-assignments").click()
    rows = page.get_by_test_id("assignment-list").locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("Polygone")
    await expect(rows.nth(0)).to_contain_text("polygone de 4 sommets")
    await expect(rows.nth(0)).to_contain_text("Chenôve")
    await expect(rows.nth(1)).to_contain_text("Talant")
    await expect(rows.nth(1)).to_contain_text("Métropole")


async def test_a_supervisor_writes_a_calendar_and_sees_its_month(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    ids = await _library(system)
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-lighting").click()
    await page.get_by_test_id("lighting-tab-calendars").click()
    await expect(page.get_by_test_id("calendar-detail")).to_contain_text("Métropole")
    await page.get_by_test_id("calendar-new").click()
    editor = page.get_by_test_id("calendar-editor")
    await editor.get_by_test_id("calendar-name").fill("Week-ends")
    await editor.get_by_test_id("calendar-default").select_option(str(ids["night"]))
    await editor.get_by_test_id("rule-add").click()
    await editor.get_by_test_id("rule-0-kind").select_option("weekdays")
    await editor.get_by_test_id("rule-0-weekdays-sat").check()
    await editor.get_by_test_id("rule-0-weekdays-sun").check()
    await editor.get_by_test_id("rule-0-program").select_option(str(ids["full"]))
    # A date that does not exist: the server names it, the message sits beside the dates.
    await editor.get_by_test_id("rule-add").click()
    await editor.get_by_test_id("rule-1-dates").fill("2026-12-31, 2026-13-01")
    await editor.get_by_test_id("calendar-save").click()
    await expect(editor.locator('[data-field="rules.1.dates"]')).to_be_visible()
    await editor.get_by_test_id("rule-1-remove").click()
    await editor.get_by_test_id("calendar-save").click()
    detail = page.get_by_test_id("calendar-detail")
    await expect(detail.locator("h2")).to_contain_text("Week-ends")
    await expect(detail.locator("h2")).to_contain_text("version 1")
    # The calendar it was begun beside is untouched.
    listed = page.get_by_test_id("calendar-list").get_by_role("button")
    await expect(listed).to_have_count(2)
    await page.get_by_test_id("calendar-month").fill("2026-12")
    saturday = page.get_by_test_id("day-2026-12-05")
    await expect(saturday).to_have_attribute("data-rule", "0")
    await expect(saturday).to_have_attribute("data-program", str(ids["full"]))
    await expect(page.get_by_test_id("day-2026-12-07")).to_have_attribute("data-rule", "")
