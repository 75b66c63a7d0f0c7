"""The console's road page in headless Chromium against a running hub: a closure drawn
(pasted), the text proposed for the sign nearby sent only on confirmation, the closure
ended and its sign cleared; and the situations drawn on the map."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.commands.models import Command
from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.roads import service
from beffroi.roads.schemas import SituationCreate
from tests.browser.conftest import ControlRoom, sign_in

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)
LINE = {"type": "LineString", "coordinates": [[5.000, 47.336], [5.010, 47.338]]}
SIGN = "PMV-TAL-ROADS"


async def _sign(system: Context) -> None:
    item = AssetCreate(
        id=SIGN,
        type="message_sign",
        name="PMV avenue du Mont Afrique",
        commune="talant",
        location=Point(coordinates=(5.006, 47.339)),
        attributes={"lines": 3, "width_chars": 16},
    )
    report = await importing.import_assets(system, [(1, item)], source="tests")
    assert not report.errors, report.errors


async def _commands(system: Context) -> list[tuple[str, str]]:
    async with system.db.read() as session:
        rows = await session.execute(
            select(Command.name, Command.asset_id)
            .where(Command.asset_id == SIGN)
            .order_by(Command.created_at)
        )
        return [(name, asset) for name, asset in rows]


async def test_a_closure_is_recorded_shown_on_its_sign_and_cleared(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    await _sign(system)
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-roads").click()
    await page.get_by_test_id("roads-new").click()
    form = page.get_by_test_id("roads-form")
    await form.get_by_test_id("rs-type").select_option("closure")
    await form.get_by_test_id("rs-title").fill("Réfection de chaussée")
    await form.get_by_test_id("rs-road").fill("Rue de l'Église")
    # No end: a closure needs one, and the refusal lands beside the field.
    await form.get_by_test_id("rs-geojson").fill(json.dumps(LINE))
    await form.get_by_test_id("rs-geojson").dispatch_event("change")
    await form.get_by_test_id("rs-save").click()
    error = form.locator('[data-field="ends_at"]')
    await expect(error).to_be_visible()
    ends = (utcnow() + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT%H:%M")
    await form.get_by_test_id("rs-ends").fill(ends)
    await form.get_by_test_id("rs-save").click()
    row = page.get_by_test_id("situation-row")
    await expect(row).to_have_count(1)
    await expect(row.get_by_test_id("situation-status")).to_have_text("en cours")
    # The sign nearby is proposed its text; nothing is sent before the confirmation.
    signs = page.get_by_test_id("roads-signs")
    text = signs.get_by_test_id("sign-text")
    await expect(text).to_have_value("RUE DE L'EGLISE\nFERMEE")
    assert await _commands(system) == []
    await signs.get_by_test_id("signs-send").click()
    await expect(signs.get_by_test_id("sign-row")).to_contain_text("RUE DE L'EGLISE")
    assert await _commands(system) == [("display", SIGN)]
    # Ended: the sign still showing it is proposed for clearing, cleared on confirmation.
    await row.get_by_test_id("situation-end").click()
    await page.get_by_test_id("dialog-reason").fill("Chaussée rouverte")
    await page.get_by_test_id("dialog").locator("button[type=submit]").click()
    await signs.get_by_test_id("signs-clear").click()
    await expect(signs.get_by_test_id("signs-none")).to_be_visible()
    assert await _commands(system) == [("display", SIGN), ("clear", SIGN)]


async def test_the_map_draws_the_open_situations(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    now = utcnow()
    for kind, hours in (("roadworks", 0), ("event", 24)):
        await service.create_situation(
            system,
            SituationCreate.model_validate(
                {
                    "type": kind,
                    "title": kind,
                    "geometry": LINE,
                    "starts_at": now + timedelta(hours=hours),
                    "ends_at": now + timedelta(hours=hours + 5),
                }
            ),
        )
    await sign_in(page, control_room, "viewer")
    await expect(page.get_by_test_id("map")).to_have_attribute("data-situations", "2")
    # Read-only: the page lists them, and offers no change.
    await page.get_by_test_id("nav-roads").click()
    await expect(page.get_by_test_id("situation-row")).to_have_count(2)
    await expect(page.get_by_test_id("roads-new")).to_be_hidden()
    await expect(page.get_by_test_id("situation-end")).to_have_count(0)
