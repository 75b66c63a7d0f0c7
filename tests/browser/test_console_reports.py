"""The console's citizen reports page in headless Chromium: an operator of the citizen
line records a call (a service whose question appears with it), then finds the report in
the list with its ticket and public follow-up; a viewer has no such page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import ControlRoom, sign_in

pytestmark = pytest.mark.parametrize("template", ["sqlite"], indirect=True)


async def test_an_operator_records_a_call_and_sees_it_listed(
    control_room: ControlRoom, page: Page
) -> None:
    await sign_in(page, control_room, "talant")
    await page.get_by_test_id("nav-reports").click()
    form = page.get_by_test_id("report-form")
    await form.locator("#r-service").select_option("snow-ice")
    # The service's question is asked, its choices from Open311's definition.
    await form.locator("#r-a-surface").select_option("pavement")
    await form.locator("#r-commune").select_option("talant")
    await form.locator("#r-address").fill("place du marché")
    await form.locator("#r-description").fill("Trottoir verglacé devant l'école")
    await form.locator("#r-first_name").fill("Paul")
    await form.locator("#r-phone").fill("03 80 00 00 00")
    await form.get_by_test_id("report-submit").click()
    row = page.get_by_test_id("report-row").first
    await expect(row).to_contain_text("place du marché")
    await expect(row.get_by_test_id("report-status")).to_contain_text("ouvert")
    # The caller's details are not in the list.
    await expect(page.get_by_test_id("reports-list")).not_to_contain_text("Paul")


async def test_a_viewer_has_no_reports_page(control_room: ControlRoom, page: Page) -> None:
    await sign_in(page, control_room, "viewer")
    await expect(page.get_by_test_id("nav-map")).to_be_visible()
    await expect(page.get_by_test_id("nav-reports")).to_have_count(0)
