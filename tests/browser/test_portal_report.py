"""The portal's "report a problem" and "follow my report" pages, checked on their own: the
built page runs in headless Chromium while every request it makes is answered here, as
Open311 GeoReport v2 answers (docs/reports.md), so no hub (and no reports area) is needed.

What is checked is the form's code: what it refuses to send, the multipart body it sends,
how it shows Open311's errors and the ticket, and how the follow page shows the progress.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Page, Route, expect

from beffroi.console.static import STATIC_DIR

ORIGIN = "http://localhost:9"  # localhost: a secure context, so geolocation works; never dialled
TICKET = "dG3kQ9"
SERVICES = [
    {
        "service_code": "streetlight-out",
        "service_name": "Lampadaire éteint",
        "description": "Un point lumineux qui ne s'allume plus",
        "metadata": False,
        "type": "realtime",
        "keywords": "lumière",
        "group": "Éclairage",
    },
    {
        "service_code": "pothole",
        "service_name": "Nid-de-poule",
        "description": "Un trou dans la chaussée",
        "metadata": False,
        "type": "realtime",
        "keywords": "route",
        "group": "Voirie",
    },
    {
        "service_code": "traffic-light-fault",
        "service_name": "Feu tricolore en panne",
        "description": "Un feu éteint ou bloqué",
        "metadata": True,
        "type": "realtime",
        "keywords": "feu",
        "group": "Circulation",
    },
]
ALL_DARK = {
    "variable": True,
    "code": "all_dark",
    "datatype": "singlevaluelist",
    "required": True,
    "datatype_description": "",
    "order": 1,
    "description": "Are all the signals of the junction dark?",
    "values": [{"key": "yes", "name": "Yes"}, {"key": "no", "name": "No"}],
}
REQUEST = {
    "service_request_id": TICKET,
    "status": "open",
    "status_notes": "Scheduled: a crew will come",
    "service_name": "Lampadaire éteint",
    "service_code": "streetlight-out",
    "description": "The lamp by the bus stop stays off",
    "agency_responsible": "Dijon métropole",
    "service_notice": "",
    "requested_datetime": "2026-12-07T08:00:00Z",
    "updated_datetime": "2026-12-07T09:00:00Z",
    "expected_datetime": "2026-12-08T17:00:00Z",
    "address": "Talant",
    "lat": 47.337,
    "long": 5.005,
    "media_url": None,
    "progress": [
        {"status": "new", "at": "2026-12-07T08:00:00Z", "note": "Report received"},
        {"status": "assigned", "at": "2026-12-07T09:00:00Z", "note": "Scheduled: a crew will come"},
    ],
}


@dataclass
class FakeOpen311:
    """Answers the page's requests: the built files, and Open311 as the reports area does."""

    posted: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    refuse_next: bool = False

    async def handle(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN).split("?")[0]
        if path.startswith("/assets/"):
            file = STATIC_DIR / path.lstrip("/")
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            await route.fulfill(body=file.read_bytes(), content_type=kind)
        elif path == "/open311/v2/services.json":
            await self.json(route, 200, SERVICES)
        elif path == "/open311/v2/services/traffic-light-fault.json":
            definition = {"service_code": "traffic-light-fault", "attributes": [ALL_DARK]}
            await self.json(route, 200, definition)
        elif path == "/open311/v2/requests.json" and request.method == "POST":
            self.posted.append(request.post_data_buffer or b"")
            self.content_types.append(await request.header_value("content-type") or "")
            if self.refuse_next:
                self.refuse_next = False
                error = {"code": 400, "description": "lat: outside the metropolis"}
                await self.json(route, 400, [error])
            else:
                await self.json(route, 201, [{"service_request_id": TICKET, "service_notice": ""}])
        elif path == f"/open311/v2/requests/{TICKET}.json":
            await self.json(route, 200, [REQUEST])
        elif path.startswith("/open311/v2/requests/"):
            await self.json(route, 404, [{"code": 404, "description": "no such request"}])
        elif path.startswith("/open"):
            page = (STATIC_DIR / "portal.html").read_text(encoding="utf-8")
            await route.fulfill(body=page, content_type="text/html")
        else:
            await route.fulfill(status=404, body="")

    @staticmethod
    async def json(route: Route, status: int, body: Any) -> None:
        await route.fulfill(status=status, body=json.dumps(body), content_type="application/json")


async def _portal(page: Page, path: str) -> FakeOpen311:
    fake = FakeOpen311()
    await page.route("**/*", fake.handle)
    await page.goto(f"{ORIGIN}{path}")
    return fake


async def test_the_form_sends_a_complete_report_and_shows_the_ticket(
    chromium: str, page: Page
) -> None:
    fake = await _portal(page, "/open/report")
    service = page.get_by_test_id("report-service")
    await expect(service.locator("option")).to_have_count(1 + len(SERVICES))

    # Nothing chosen, placed or said: refused here, naming each field, nothing sent.
    await page.get_by_test_id("report-send").click()
    errors = page.get_by_test_id("report-errors").locator("li")
    await expect(errors).to_have_count(3)
    for name in ("service_code", "lat", "description"):
        await expect(page.get_by_test_id("report-errors")).to_contain_text(name)
    assert fake.posted == []

    await service.select_option("traffic-light-fault")
    question = page.get_by_test_id("report-attribute-all_dark")
    await expect(question.locator("option")).to_have_count(3)
    await page.context.grant_permissions(["geolocation"], origin=ORIGIN)
    await page.context.set_geolocation({"latitude": 47.337, "longitude": 5.005})
    await page.get_by_test_id("report-locate").click()
    await expect(page.get_by_test_id("report-where")).to_contain_text("47.33700")
    await page.get_by_test_id("report-description").fill("The lamp by the bus stop stays off")
    await page.get_by_test_id("report-photo").set_input_files(
        {"name": "lamp.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\nfake"}
    )

    # The service's required question must be answered first.
    await page.get_by_test_id("report-send").click()
    await expect(errors).to_have_count(1)
    await expect(errors).to_contain_text("attribute[all_dark]")
    assert fake.posted == []
    await question.select_option("yes")

    # Open311's refusal is shown as it says it, and the report can be sent again.
    fake.refuse_next = True
    await page.get_by_test_id("report-send").click()
    await expect(page.get_by_test_id("report-errors")).to_have_text("lat: outside the metropolis")

    # A click on the map moves the problem; then the report goes through.
    await page.get_by_test_id("report-map").click(position={"x": 300, "y": 250})
    await expect(page.get_by_test_id("report-where")).not_to_contain_text("47.33700")
    await page.get_by_test_id("report-send").click()
    await expect(page.get_by_test_id("report-ticket")).to_have_text(TICKET)

    assert len(fake.posted) == 2
    assert fake.content_types[-1].startswith("multipart/form-data")
    body = fake.posted[-1].decode("latin-1")
    for name in ("service_code", "lat", "long", "description", "media", "attribute[all_dark]"):
        assert f'name="{name}"' in body, name
    assert "traffic-light-fault" in body
    assert 'name="attribute[all_dark]"\r\n\r\nyes\r\n' in body
    assert "The lamp by the bus stop stays off" in body
    assert 'filename="lamp.png"' in body
    # The first attempt was placed by the device, the second by the click, elsewhere.
    assert "47.337000" in fake.posted[0].decode("latin-1")
    assert "47.337000" not in body

    await page.get_by_role("link", name="Suivre ce signalement").click()
    await expect(page.get_by_test_id("follow-status")).to_have_text("En cours")


async def test_follow_shows_the_progress_of_a_ticket_or_says_it_is_unknown(
    chromium: str, page: Page
) -> None:
    await _portal(page, "/open/follow")
    await page.get_by_test_id("follow-ticket").fill(TICKET)
    await page.get_by_test_id("follow-show").click()
    await expect(page).to_have_url(f"{ORIGIN}/open/follow/{TICKET}")
    await expect(page.get_by_test_id("follow-status")).to_have_text("En cours")
    steps = page.get_by_test_id("follow-progress").locator("li")
    await expect(steps).to_have_count(2)
    await expect(steps.nth(1)).to_have_attribute("data-status", "assigned")
    await expect(steps.nth(1)).to_contain_text("Confié à une équipe")
    result = page.get_by_test_id("follow-result")
    await expect(result).to_contain_text("Scheduled: a crew will come")

    await page.get_by_test_id("follow-ticket").fill("nope")
    await page.get_by_test_id("follow-show").click()
    await expect(result).to_have_text("Aucun signalement ne porte ce numéro.")
