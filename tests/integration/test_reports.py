"""Citizen reports end to end, on both databases: an Open311 client's flow over HTTP,
duplicates merged (and not), the citizen line, personal data kept out of every public
answer, event and audit entry, then purged; rate limits, bad input, EXIF stripped."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from PIL import Image
from sqlalchemy import select, update

from beffroi.config import Settings, load_settings
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.http.ratelimit import RateLimiter
from beffroi.interventions.models import Intervention, InterventionHistory
from beffroi.reports import jobs, queries
from beffroi.reports.models import Report, ReportContact, ReportPhoto
from beffroi.web.app import create_app
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio
O311 = "/open311/v2"
API = "/api/v1"
TALANT = (5.005, 47.337)
CHENOVE = (5.006, 47.292)
# Personal data the tests send: none of it may show anywhere public, nor in the log.
SECRETS = ("Jeanne", "Secretname", "jeanne.secret@example.org", "+33 6 12 34 56 78", "SpyCam 3000")


def jpeg_with_exif() -> bytes:
    """A small JPEG whose EXIF names its owner and camera."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam 3000"  # Make
    exif[0x013B] = "Jeanne Secretname"  # Artist
    exif[0x0112] = 1  # Orientation
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings with a read rate low enough to reach."""
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        reports_rate_read="40/minute",
        reports_rate_post="30/minute",
        reports_api_keys="pytest-app=abcdefghijklmnopqrstuvwxyz",
    )


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, with the rate limiter its lifespan would make."""
    app = create_app(runtime)
    app.state.rate_limiter = RateLimiter("memory://")
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.rate_limiter.close()


def form(
    service_code: str = "streetlight-out", at: tuple[float, float] = TALANT, **extra: str
) -> dict[str, str]:
    """A posted Open311 request."""
    return {
        "service_code": service_code,
        "lat": str(at[1]),
        "long": str(at[0]),
        "description": "The lamp in front of number 12 stays off",
        **extra,
    }


async def post(http: httpx.AsyncClient, data: dict[str, str], expect: int = 200, **kw: Any) -> Any:
    r = await http.post(f"{O311}/requests.json", data=data, **kw)
    assert r.status_code == expect, r.text
    return r.json()


def offset(at: tuple[float, float], north_m: float) -> tuple[float, float]:
    """A point ``north_m`` metres north of ``at``."""
    return (at[0], at[1] + north_m / 111_320)


async def test_an_open311_client_reports_and_follows_to_resolution(
    http: httpx.AsyncClient, runtime: Runtime, admin: Person
) -> None:
    discovery = (await http.get(f"{O311}/discovery.json")).json()
    endpoint = discovery["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    services = (await http.get(f"{O311}/services.json")).json()
    codes = {s["service_code"]: s for s in services}
    assert {"streetlight-out", "pothole", "graffiti", "snow-ice", "illegal-dumping"} <= set(codes)
    assert codes["traffic-light-fault"]["metadata"] is True
    definition = (await http.get(f"{O311}/services/traffic-light-fault.json")).json()
    assert definition["attributes"][0]["code"] == "all_dark"
    assert {v["key"] for v in definition["attributes"][0]["values"]} == {"yes", "no"}
    missing = await http.get(f"{O311}/services/no-such.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404

    data = form(
        first_name="Jeanne",
        last_name="Secretname",
        email="jeanne.secret@example.org",
        phone="+33 6 12 34 56 78",
        api_key="abcdefghijklmnopqrstuvwxyz",
    )
    photo = jpeg_with_exif()
    created = await post(http, data, files={"media": ("lamp.jpg", photo, "image/jpeg")})
    ticket = created[0]["service_request_id"]
    assert len(ticket) >= 16
    assert not ticket.isdigit()

    (one,) = (await http.get(f"{O311}/requests/{ticket}.json")).json()
    assert one["status"] == "open"
    assert one["service_code"] == "streetlight-out"
    assert one["lat"] == TALANT[1]
    assert one["long"] == TALANT[0]
    assert one["status_notes"].startswith("Received")
    assert one["expected_datetime"] is not None

    async with runtime.db.read() as session:
        report = (await session.execute(select(Report))).scalar_one()
        work = await session.get(Intervention, report.intervention_id)
        assert work is not None
        assert (work.source, work.category, work.commune_code) == ("report", "lighting", "talant")
        assert report.received_by == "open311:pytest-app"
        kept = await session.get(ReportPhoto, report.id)
    assert kept is not None
    assert b"Exif" not in kept.data
    assert b"SpyCam" not in kept.data
    assert Image.open(io.BytesIO(kept.data)).getexif() == {}

    # The crew is sent, then repairs: the citizen sees each step, never the team.
    team = (
        await http.post(
            f"{API}/teams",
            headers=admin.headers,
            json={"name": "Lights crew Dupuis", "categories": ["lighting"], "communes": ["talant"]},
        )
    ).json()
    iid = report.intervention_id
    r = await http.post(
        f"{API}/interventions/{iid}/assign", headers=admin.headers, json={"team_id": team["id"]}
    )
    assert r.status_code == 200, r.text
    (one,) = (await http.get(f"{O311}/requests/{ticket}.json")).json()
    assert one["status"] == "open"
    assert one["status_notes"].startswith("Scheduled")
    note = await http.post(
        f"{API}/reports/{report.id}/notes",
        headers=admin.headers,
        json={"text": "A new lamp is ordered."},
    )
    assert note.status_code == 201, note.text
    for status in ("in_progress", "resolved"):
        r = await http.post(
            f"{API}/interventions/{iid}/status",
            headers=admin.headers,
            json={"status": status, "note": "internal: Dupuis has the key"},
        )
        assert r.status_code == 200, r.text
    (one,) = (await http.get(f"{O311}/requests/{ticket}.json")).json()
    assert one["status"] == "closed"
    assert one["status_notes"] == "Repaired. A new lamp is ordered."
    assert [s["status"] for s in one["progress"]] == ["new", "assigned", "in_progress", "resolved"]
    assert one["expected_datetime"] is None
    listed = (await http.get(f"{O311}/requests.json", params={"status": "closed"})).json()
    assert [x["service_request_id"] for x in listed] == [ticket]
    assert (await http.get(f"{O311}/requests.json", params={"status": "open"})).json() == []
    by_id = (await http.get(f"{O311}/requests.json", params={"service_request_id": ticket})).json()
    public = json.dumps([one, listed, by_id, discovery, services], ensure_ascii=False)
    for secret in (*SECRETS, "Dupuis", "internal", str(team["id"]) + ","):
        assert secret not in public, secret

    # The staff see who called, to call back.
    detail = (await http.get(f"{API}/reports/{report.id}", headers=admin.headers)).json()
    assert detail["contact"]["email"] == "jeanne.secret@example.org"
    photo_back = await http.get(f"{API}/reports/{report.id}/photo", headers=admin.headers)
    assert photo_back.headers["content-type"] == "image/jpeg"
    assert b"SpyCam" not in photo_back.content


async def test_a_report_joins_nearby_open_work_of_its_category_only(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = (await post(http, form()))[0]["service_request_id"]
    near = (await post(http, form(at=offset(TALANT, 20))))[0]["service_request_id"]
    other_kind = (await post(http, form("graffiti")))[0]["service_request_id"]
    too_far = (await post(http, form(at=offset(TALANT, 300))))[0]["service_request_id"]
    async with runtime.db.read() as session:
        rows = {r.ticket: r for r in (await session.execute(select(Report))).scalars()}
    assert rows[near].intervention_id == rows[first].intervention_id
    assert rows[near].joined
    assert rows[other_kind].intervention_id != rows[first].intervention_id
    assert rows[too_far].intervention_id != rows[first].intervention_id
    assert not rows[other_kind].joined
    assert not rows[too_far].joined
    # Too old: the work was opened before the merge window.
    async with runtime.db.write() as session:
        await session.execute(update(Intervention).values(created_at=utcnow() - timedelta(days=30)))
    late = (await post(http, form(at=offset(TALANT, 10))))[0]["service_request_id"]
    async with runtime.db.read() as session:
        late_row = (await session.execute(select(Report).where(Report.ticket == late))).scalar_one()
        joined = (
            (
                await session.execute(
                    select(InterventionHistory).where(InterventionHistory.action == "report_joined")
                )
            )
            .scalars()
            .all()
        )
    assert not late_row.joined
    assert late_row.intervention_id not in {r.intervention_id for r in rows.values()}
    assert [h.detail for h in joined] == [{"report_id": rows[near].id}]


async def test_neighbours_reporting_at_once_make_one_work_order(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    await asyncio.gather(*(post(http, form(at=offset(TALANT, 3 * i))) for i in range(4)))
    async with runtime.db.read() as session:
        rows = list((await session.execute(select(Report))).scalars())
    assert len(rows) == 4
    assert len({r.intervention_id for r in rows}) == 1
    assert sorted(r.joined for r in rows) == [False, True, True, True]


async def test_personal_data_stays_out_of_events_audit_and_work_then_is_purged(
    http: httpx.AsyncClient, runtime: Runtime, system: Context, admin: Person
) -> None:
    subscription = runtime.events.subscribe()
    person = {
        "first_name": "Jeanne",
        "last_name": "Secretname",
        "email": "jeanne.secret@example.org",
        "phone": "+33 6 12 34 56 78",
    }
    await post(
        http, {**form(), **person}, files={"media": ("p.jpg", jpeg_with_exif(), "image/jpeg")}
    )
    await post(http, {**form(at=offset(TALANT, 5)), **person})
    operator = await make_person(system, "line-op", [Role.OPERATOR], communes=["talant"])
    r = await http.post(
        f"{API}/reports",
        headers=operator.headers,
        json={
            "service_code": "pothole",
            "commune": "Talant",
            "address_string": "rue des Rosiers",
            "description": "A deep hole",
            "caller": {**person},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["contact"]["last_name"] == "Secretname"
    assert r.json()["channel"] == "phone"
    events = [repr(e) for e in subscription.take()]
    subscription.close()
    assert events
    async with runtime.db.read() as session:
        audit = [
            repr((e.action, e.actor, e.target_id, e.details, e.reason))
            for e in (await session.execute(select(AuditEntry))).scalars()
        ]
        work = [
            repr((i.title, i.description, i.created_by))
            for i in (await session.execute(select(Intervention))).scalars()
        ]
        history = [
            repr((h.actor, h.detail))
            for h in (await session.execute(select(InterventionHistory))).scalars()
        ]
    assert any("report.create" in a for a in audit)
    for secret in SECRETS:
        for where, texts in (
            ("event", events),
            ("audit", audit),
            ("work", work),
            ("history", history),
        ):
            assert not any(secret in t for t in texts), (secret, where)
    anonymised = [a async for a in _anonymised(runtime)]
    assert len(anonymised) == 3
    assert not any(s in repr(anonymised) for s in SECRETS)
    assert all(a.lon is None or abs(a.lon - TALANT[0]) < 0.005 for a in anonymised)

    # Resolved work: its reports' personal data goes once the period has passed.
    async with runtime.db.write() as session:
        await session.execute(
            update(Intervention).values(status="closed", resolved_at=utcnow(), closed_at=utcnow())
        )
    ctx = runtime.system_context("scheduler:reports.purge")
    assert (await jobs.purge_personal_data(ctx)).report_ids == ()
    later = utcnow() + timedelta(days=runtime.settings.reports_purge_after_days + 1)
    purged = await jobs.purge_personal_data(ctx, now=later)
    assert len(purged.report_ids) == 3
    async with runtime.db.read() as session:
        assert (await session.execute(select(ReportContact))).first() is None
        assert (await session.execute(select(ReportPhoto))).first() is None
        assert all(
            r.purged_at is not None for r in (await session.execute(select(Report))).scalars()
        )
        last = (
            (await session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())))
            .scalars()
            .first()
        )
    assert last is not None
    assert last.action == "report.purge"
    assert (await jobs.purge_personal_data(ctx, now=later)).report_ids == ()


async def _anonymised(runtime: Runtime) -> AsyncIterator[queries.AnonymisedReport]:
    async with runtime.db.read() as session:
        async for row in queries.anonymised(session):
            yield row


async def test_the_public_side_is_rate_limited(http: httpx.AsyncClient) -> None:
    answers = [(await http.get(f"{O311}/services.json")).status_code for _ in range(41)]
    assert answers[:40] == [200] * 40
    assert answers[40] == 429
    r = await http.get(f"{O311}/services.json")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()[0]["code"] == 429


BAD: list[tuple[dict[str, str], Any, str]] = [
    ({k: v for k, v in form().items() if k != "service_code"}, None, "service_code"),
    (form("no-such-service"), None, "service_code"),
    (form(at=(5.0, 95.0)), None, "lat"),
    ({**form(), "lat": "north"}, None, "lat"),
    ({**form(), "long": "NaN"}, None, "long"),
    (form(at=(2.35, 48.85)), None, "lat"),  # Paris: outside the metropolis
    ({**form(), "description": "x" * 4001}, None, "description"),
    ({**form(), "email": "not-an-address"}, None, "email"),
    (form("traffic-light-fault"), None, "attribute[all_dark]"),
    ({**form(), "attribute[colour]": "red"}, None, "attribute[colour]"),
    ({**form(), "favourite": "x"}, None, "favourite"),
    (form(), {"media": ("a.gif", b"GIF89a....", "image/gif")}, "media"),
    (form(), {"media": ("a.jpg", b"\xff\xd8\xffnot really", "image/jpeg")}, "media"),
    ({**form(), "api_key": "wrong-key-wrong-key"}, None, "api_key"),
]


async def test_bad_reports_are_refused_naming_the_field(
    http: httpx.AsyncClient, runtime: Runtime
) -> None:
    for data, files, field in BAD:
        r = await http.post(f"{O311}/requests.json", data=data, files=files)
        assert r.status_code in (400, 403), r.text
        errors = r.json()
        assert isinstance(errors, list)
        assert errors[0]["code"] == r.status_code
        assert any(e["description"].startswith(f"{field}:") for e in errors), errors
    async with runtime.db.read() as session:
        assert (await session.execute(select(Report))).first() is None
        assert (await session.execute(select(Intervention))).first() is None


async def test_json_is_not_a_form(http: httpx.AsyncClient) -> None:
    r = await http.post(f"{O311}/requests.json", json=form())
    assert r.status_code == 400
    assert r.json()[0]["description"].startswith("body:")


async def test_staff_read_reports_of_their_communes_only(
    http: httpx.AsyncClient, system: Context, admin: Person
) -> None:
    await post(http, form(at=CHENOVE, first_name="Jeanne"))
    talant = await make_person(system, "op-talant", [Role.OPERATOR], communes=["talant"])
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    page = (await http.get(f"{API}/reports", headers=admin.headers)).json()
    (chenove,) = page["items"]
    assert chenove["commune"] == "chenove"
    assert (await http.get(f"{API}/reports", headers=talant.headers)).json()["items"] == []
    hidden = await http.get(f"{API}/reports/{chenove['id']}", headers=talant.headers)
    assert hidden.status_code == 404
    assert (await http.get(f"{API}/reports", headers=viewer.headers)).status_code == 403
    refused = await http.post(
        f"{API}/reports",
        headers=viewer.headers,
        json={"service_code": "graffiti", "commune": "talant", "description": "tags"},
    )
    assert refused.status_code == 403
    outside = await http.post(
        f"{API}/reports",
        headers=talant.headers,
        json={"service_code": "graffiti", "commune": "chenove", "description": "tags"},
    )
    assert outside.status_code == 403
    bad = await http.post(
        f"{API}/reports",
        headers=talant.headers,
        json={"service_code": "graffiti", "description": "tags"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "commune"


def xml(response: httpx.Response) -> ElementTree.Element:
    """An answer's XML (our own server's: no untrusted document is parsed here)."""
    return ElementTree.fromstring(response.content)  # noqa: S314


async def test_open311_answers_in_xml_too(http: httpx.AsyncClient) -> None:
    services = xml(await http.get(f"{O311}/services.xml"))
    assert services.tag == "services"
    assert "pothole" in [s.findtext("service_code") for s in services.findall("service")]
    created = await http.post(f"{O311}/requests.xml", data=form())
    assert created.headers["content-type"].startswith("text/xml")
    ticket = xml(created).findtext("request/service_request_id")
    assert ticket
    one = xml(await http.get(f"{O311}/requests/{ticket}.xml"))
    assert one.findtext("request/status") == "open"
    assert one.findtext("request/long") == str(TALANT[0])
    assert one.find("request/progress/step/status") is not None
    refused = await http.post(f"{O311}/requests.xml", data=form("nothing-like-it"))
    assert refused.status_code == 400
    error = xml(refused).find("error")
    assert error is not None
    assert error.findtext("code") == "400"
    assert (error.findtext("description") or "").startswith("service_code:")
