"""The crisis plans view in headless Chromium against a running hub: a Talant operator
starts the snow plan at level 2, it waits; a supervisor approves it from the approval
queue, ticks the checklist,
the group command goes to the simulated lights and the step turns done live; the run's
assets are shown on the map."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from beffroi.commands.reading import get_batch
from beffroi.core.context import Context
from beffroi.plans import progress, reading, templates
from beffroi.plans.schemas import CrisisPlanCreate
from tests.browser.conftest import ControlRoom, sign_in, sign_out

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)


async def _snow_plan(system: Context, lights: list[str]) -> int:
    body = {
        "name": "Plan neige Talant",
        "kind": "snow",
        "communes": ["talant"],
        "steps": [
            {"kind": "checklist", "title": "Préparer", "items": ["Saleuses prêtes"]},
            {
                "kind": "command",
                "title": "Éclairage plein feu",
                "min_level": 2,
                "type": "streetlight",
                "name": "dim",
                "params": {"level_pct": 100},
                "target": {"kind": "ids", "asset_ids": lights},
            },
        ],
    }
    return (await templates.create_plan(system, CrisisPlanCreate.model_validate(body))).id


async def test_a_snow_plan_started_approved_and_followed_live(
    control_room: ControlRoom, page: Page, system: Context
) -> None:
    lights = control_room.ids("talant", "streetlight")[:2]
    await _snow_plan(system, lights)
    await sign_in(page, control_room, "talant")
    await page.get_by_test_id("nav-plans").click()
    await expect(page.get_by_test_id("plan-row")).to_have_count(1)
    await page.get_by_test_id("plan-start").click()
    await page.get_by_test_id("dialog-level").select_option("2")
    await page.get_by_test_id("dialog-reason").fill("Neige cette nuit")
    await page.get_by_test_id("dialog-submit").click()
    run = page.get_by_test_id("plan-run")
    await expect(run).to_have_attribute("data-state", "awaiting_approval")
    # The operator may not approve: no button.
    await expect(run.get_by_test_id("run-approve")).to_have_count(0)
    await sign_out(page)

    # The supervisor finds it in the approval queue, beside the commands.
    await sign_in(page, control_room, "supervisor")
    await page.get_by_test_id("nav-approvals").click()
    waiting = page.locator("[data-testid=approval-item][data-kind=plan]")
    await expect(waiting).to_contain_text("Plan neige Talant")
    await expect(waiting).to_contain_text("op-talant")
    await waiting.get_by_test_id("approve").click()
    await expect(waiting).to_have_count(0)
    await page.get_by_test_id("nav-plans").click()
    await expect(run).to_have_attribute("data-state", "running")
    steps = run.get_by_test_id("run-step")
    await expect(steps.nth(0)).to_have_attribute("data-state", "running")
    await run.get_by_test_id("item-tick").click()
    await expect(steps.nth(0)).to_have_attribute("data-state", "done")
    await expect(steps.nth(1)).to_have_attribute("data-state", "running")
    await expect(run.get_by_test_id("step-item")).to_contain_text("sup")

    # The simulated lights obey; the plans' job (called here) ends the step, and the
    # page follows through the stream.
    run_id = int(await run.get_attribute("data-id") or 0)
    batch_id = (await reading.get_run(system, run_id)).steps[1].batch_id
    assert batch_id is not None
    async with asyncio.timeout(20):
        while (await get_batch(system, batch_id)).counts.get("succeeded") != len(lights):  # noqa: ASYNC110 - polling the batch: no event to await
            await asyncio.sleep(0.1)
    await progress.advance(control_room.runtime, run_id)
    await expect(steps.nth(1)).to_have_attribute("data-state", "done", timeout=10_000)
    await expect(run).to_have_attribute("data-state", "finished")
    await expect(run.get_by_test_id("step-outcome")).to_contain_text("2 succeeded")

    await run.get_by_test_id("run-map").click()
    await expect(page).to_have_url(f"{control_room.url}/#/map")
    # Only the run's two lights are left on the map.
    await expect(page.get_by_test_id("asset-count")).to_have_attribute("data-visible", "2")
