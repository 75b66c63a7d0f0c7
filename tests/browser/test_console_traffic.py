"""The console's traffic pages in headless Chromium against a running hub: a supervisor
writes a plan, the validator's errors (short intergreen, short green) shown as they come
back before a valid plan is saved; a corridor shows its offsets, and a viewer gets no
editor."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.simulator.fleet_traffic import setup_fleet
from beffroi.telemetry.batch import Batch
from beffroi.telemetry.decode import Readings
from beffroi.telemetry.store import TelemetryStore
from beffroi.traffic import corridors
from beffroi.traffic.schemas import CorridorIn
from tests.browser.conftest import ControlRoom, sign_in
from tests.integration.traffic_support import controllers

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)


async def _controllers(system: Context) -> list[str]:
    """Two Talant controllers beside the fleet's, every one given its generated setup."""
    await controllers(system, "TC-TAL-1", "TC-TAL-2")
    await setup_fleet(system)
    return ["TC-TAL-1", "TC-TAL-2"]


async def test_a_supervisor_writes_a_plan_seeing_the_validators_errors(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    cid = (await _controllers(system))[0]
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-traffic").click()
    await page.get_by_test_id(f"traffic-open-{cid}").click()
    editor = page.get_by_test_id("plan-editor")
    problems = editor.get_by_test_id("plan-problems")
    await editor.get_by_test_id("plan-number").fill("9")
    await editor.get_by_test_id("plan-cycle").fill("70")
    # A split shorter than the change to the next stage: the intergreen is named.
    await editor.get_by_test_id("plan-split-S1").fill("5")
    await editor.get_by_test_id("plan-split-S2").fill("65")
    await editor.get_by_test_id("plan-check").click()
    await expect(problems).to_contain_text("the change to S2 needs")
    await expect(problems).to_contain_text("[intergreen]")
    # Long enough for the change, too short for K1's minimum green.
    await editor.get_by_test_id("plan-split-S1").fill("12")
    await editor.get_by_test_id("plan-split-S2").fill("58")
    await editor.get_by_test_id("plan-save").click()
    await expect(problems).to_contain_text("K1 gets")
    await expect(problems).to_contain_text("[min_green]")
    # Sound: checked valid, saved, listed.
    await editor.get_by_test_id("plan-split-S1").fill("40")
    await editor.get_by_test_id("plan-split-S2").fill("30")
    await editor.get_by_test_id("plan-check").click()
    await expect(problems).not_to_contain_text("[")
    await editor.get_by_test_id("plan-save").click()
    await expect(page.get_by_test_id("traffic-plan-9")).to_contain_text("70 s")


async def test_the_intersection_follows_its_controllers_reports(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    cid = (await _controllers(system))[0]

    async def report(stage: int, k1: str, k2: str) -> None:
        at = utcnow()
        values = (("stage", at, float(stage), None), ("group_1_state", at, None, k1))
        batch = Batch(readings=[Readings(cid, (*values, ("group_2_state", at, None, k2)))])
        await TelemetryStore(system.db).write(batch, at)

    await report(1, "green", "red")
    await sign_in(page, control_room, "talant")
    await page.get_by_test_id("nav-traffic").click()
    await page.get_by_test_id(f"traffic-open-{cid}").click()
    await expect(page.get_by_test_id("traffic-group-K1")).to_have_text("K1: green")
    await expect(page.get_by_test_id("traffic-fact-stage")).to_have_text("1")
    # The next report shows without opening the intersection again.
    await report(2, "red", "green")
    await expect(page.get_by_test_id("traffic-group-K2")).to_have_text("K2: green", timeout=10_000)
    await expect(page.get_by_test_id("traffic-group-K1")).to_have_text("K1: red")
    await expect(page.get_by_test_id("traffic-fact-stage")).to_have_text("2")


async def test_a_corridor_shows_its_offsets_and_a_viewer_edits_nothing(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    first, second = (await _controllers(system))[:2]
    corridor = await corridors.save_corridor(
        system,
        CorridorIn.model_validate(
            {
                "name": "Onde test",
                "members": [
                    {"controller_id": first},
                    {"controller_id": second, "distance_m": 500},
                ],
                "speed_kmh": 50,
                "cycle_s": 90,
                "plan": 2,
            }
        ),
    )
    await sign_in(page, control_room, "viewer")
    await page.get_by_test_id("nav-traffic").click()
    await page.get_by_test_id(f"traffic-open-{first}").click()
    await expect(page.get_by_test_id(f"traffic-intersection-{first}")).to_be_visible()
    await expect(page.get_by_test_id("plan-editor")).to_have_count(0)
    await page.get_by_test_id("traffic-tab-corridors").click()
    card = page.get_by_test_id(f"corridor-{corridor.id}")
    await expect(card.get_by_test_id(f"corridor-offset-{second}")).to_have_text("36 s")
    await expect(card.get_by_test_id(f"corridor-apply-{corridor.id}")).to_have_count(0)
