"""The video register (docs/video.md): tamper-evident, exported as CSV and PDF with the same
entries, purged after three years behind a checkpoint; retention deletes footage past
each camera's period except what a legal hold keeps, and holds take two people."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.video import jobs, register
from beffroi.video.lifecycle import EntryKind
from beffroi.video.models import RegisterEntry
from beffroi.video.register import Draft
from beffroi.video.vms import Period, simulated_vms
from tests.integration.video_support import API, Cast, habilitate, make_cameras, make_cast
from tests.integration.video_support import register as entries_of


@pytest.fixture
async def cast(system: Context) -> Cast:
    """Cameras, and the people who deal with them."""
    await make_cameras(system)
    return await make_cast(system)


async def _views(client: httpx.AsyncClient, cast: Cast) -> None:
    await habilitate(client, cast)
    body = {"cameras": ["CA-TAL-1", "CA-TAL-2"], "reason": "incident en cours"}
    session = (await client.post(f"{API}/sessions", json=body, headers=cast.agent.headers)).json()
    await client.post(f"{API}/sessions/{session['id']}/end", headers=cast.agent.headers)


async def _tamper(runtime: Runtime, sql: str) -> None:
    """Run ``sql`` with the no-edit guard lifted, as an intruder with DB access would."""
    async with runtime.db.engine.begin() as conn:
        if runtime.db.is_postgres:
            guard = "video_register_no_update"
            await conn.execute(text(f"ALTER TABLE video_register DISABLE TRIGGER {guard}"))
            await conn.execute(text(sql))
            await conn.execute(text(f"ALTER TABLE video_register ENABLE TRIGGER {guard}"))
        else:
            await conn.execute(text("DROP TRIGGER IF EXISTS video_register_no_update"))
            await conn.execute(text(sql))


async def test_an_edited_register_row_is_detected(
    client: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    await _views(client, cast)
    verify = f"{API}/register/verify"
    check = (await client.get(verify, headers=cast.auditor.headers)).json()
    assert check == {"ok": True, "checked": 4, "problems": []}

    # The database refuses an edit...
    with pytest.raises(DBAPIError, match="never edited"):
        async with runtime.db.write() as session:
            await session.execute(text("UPDATE video_register SET reason = 'x' WHERE seq = 2"))
    # ...and one made past its guard is found.
    await _tamper(runtime, "UPDATE video_register SET reason = 'nothing to see' WHERE seq = 2")
    check = (await client.get(verify, headers=cast.auditor.headers)).json()
    assert not check["ok"]
    assert check["problems"] == ["entry 2: content does not match its hash"]

    # A deleted entry, and entries cut from the end, are found too.
    await _tamper(runtime, "UPDATE video_register SET reason = NULL WHERE seq = 2")
    async with runtime.db.write() as session:
        await session.execute(text("DELETE FROM video_register WHERE seq = 4"))
    report = await register.verify(runtime.db)
    assert any("removed from the end" in p for p in report.problems)


async def test_the_exports_hold_the_entries(client: httpx.AsyncClient, cast: Cast) -> None:
    await _views(client, cast)
    entries = await entries_of(client, cast)
    export = f"{API}/register/export"
    response = await client.get(export, params={"format": "csv"}, headers=cast.auditor.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["seq"], r["kind"], r["camera_id"], r["agent"], r["reason"]) for r in rows] == [
        (str(e["seq"]), e["kind"], e["camera_id"], e["agent"], e["reason"]) for e in entries
    ]
    response = await client.get(export, params={"format": "pdf"}, headers=cast.auditor.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf_text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages
    )
    assert f"{len(entries)} entries" in pdf_text
    assert pdf_text.count("view.start") == 2
    assert pdf_text.count("view.end") == 2
    assert "CA-TAL-2" in pdf_text
    assert "incident en cours" in pdf_text
    # Filtered by kind, the exports and the search agree.
    only = await client.get(
        export, params={"format": "csv", "kind": "view.end"}, headers=cast.auditor.headers
    )
    assert len(list(csv.DictReader(io.StringIO(only.text)))) == 2
    response = await client.get(export, params={"format": "csv"}, headers=cast.agent.headers)
    assert response.status_code == 403


async def test_purge_keeps_the_chain_verifiable(runtime: Runtime, system: Context) -> None:
    old = [Draft(EntryKind.MASK, "CA-TAL-1", "talant", details={"n": n}) for n in range(3)]
    async with runtime.db.write() as session:
        await register.append(session, system.principal, old)
    middle = utcnow()
    async with runtime.db.write() as session:
        await register.append(session, system.principal, old[:2])
    async with runtime.db.write() as session:
        purged = await register.purge_before(session, middle)
    assert purged is not None
    assert purged.count == 3
    assert purged.through_seq == 3
    report = await register.verify(runtime.db)
    assert report.ok, report.problems
    assert report.checked == 2
    async with runtime.db.read() as session:
        left = (await session.execute(select(RegisterEntry.seq))).scalars().all()
    assert sorted(left) == [4, 5]
    # Editing a kept entry is still found; nothing is purged twice.
    async with runtime.db.write() as session:
        assert await register.purge_before(session, middle) is None
    await _tamper(runtime, "UPDATE video_register SET agent = 'x' WHERE seq = 5")
    assert not (await register.verify(runtime.db)).ok


async def test_retention_deletes_past_the_period_unless_held(
    client: httpx.AsyncClient, cast: Cast, system: Context
) -> None:
    vms = simulated_vms(system)  # 45 days of footage per camera
    now = utcnow()
    hours = f"{API}/holds"
    # A hold over days 35 to 33 ago on CA-TAL-2, asked by one manager...
    body = {
        "cameras": ["CA-TAL-2"],
        "period_start": (now - timedelta(days=35)).isoformat(),
        "period_end": (now - timedelta(days=33)).isoformat(),
        "reference": "PV 2026/1234, TJ Dijon",
        "reason": "réquisition du parquet",
    }
    hold = (await client.post(hours, json=body, headers=cast.manager.headers)).json()
    assert hold["state"] == "requested"
    # ...is not approved by the same one, nor by an agent.
    approve = f"{hours}/{hold['id']}/approve"
    assert (await client.post(approve, json={}, headers=cast.manager.headers)).status_code == 403
    assert (await client.post(approve, json={}, headers=cast.agent.headers)).status_code == 403
    placed = await client.post(approve, json={}, headers=cast.second.headers)
    assert placed.status_code == 200
    assert placed.json()["state"] == "placed"

    # Set CA-TAL-1's period to 10 days; the others keep the default 30.
    response = await client.put(
        f"{API}/cameras/CA-TAL-1/retention",
        json={"days": 10, "authorisation": "arrêté 2026-42"},
        headers=cast.manager.headers,
    )
    assert response.status_code == 200
    response = await client.put(
        f"{API}/cameras/CA-TAL-1/retention",
        json={"days": 31, "authorisation": "x"},
        headers=cast.manager.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "days"

    done = await jobs.apply_retention(system)
    assert done.cameras == 3
    assert done.deleted_cameras == 3
    held = Period(now - timedelta(days=35), now - timedelta(days=33))
    assert vms.has_footage("CA-TAL-2", held)
    assert not vms.has_footage("CA-CHE-1", held)
    assert vms.has_footage("CA-TAL-2", Period(now - timedelta(days=29), now - timedelta(days=28)))
    assert not vms.has_footage(
        "CA-TAL-1", Period(now - timedelta(days=12), now - timedelta(days=11))
    )
    deletions = await entries_of(client, cast, kind="deletion")
    by_camera = {e["camera_id"]: e for e in deletions}
    assert set(by_camera) == {"CA-TAL-1", "CA-TAL-2", "CA-CHE-1"}
    assert by_camera["CA-TAL-1"]["reason"] == "retention 10 days"
    assert by_camera["CA-TAL-2"]["details"]["kept_for_holds"] == [hold["id"]]
    assert len(by_camera["CA-TAL-2"]["details"]["spans"]) == 2  # around the held period
    # Run again the same day: nothing more to delete, nothing more registered.
    again = await jobs.apply_retention(system)
    assert again.deleted_cameras == 0
    assert len(await entries_of(client, cast, kind="deletion")) == 3

    # Lifting takes two people as well; until approved the footage stays.
    lift = f"{hours}/{hold['id']}/lift"
    assert (await client.post(lift, json={}, headers=cast.second.headers)).status_code == 422
    asked = await client.post(lift, json={"reason": "classement"}, headers=cast.second.headers)
    assert asked.json()["state"] == "lift_requested"
    await jobs.apply_retention(system)
    assert vms.has_footage("CA-TAL-2", held)
    assert (await client.post(approve, json={}, headers=cast.second.headers)).status_code == 403
    lifted = await client.post(approve, json={}, headers=cast.manager.headers)
    assert lifted.json()["state"] == "lifted"
    await jobs.apply_retention(system)
    assert not vms.has_footage("CA-TAL-2", held)
    kinds = [e["kind"] for e in await entries_of(client, cast)]
    assert kinds.count("hold.placed") == 1
    assert kinds.count("hold.lifted") == 1
    assert kinds.count("deletion") == 4


async def test_masks_extractions_and_transmissions(
    client: httpx.AsyncClient, cast: Cast, system: Context
) -> None:
    masks = f"{API}/cameras/CA-TAL-1/masks"
    window = [[0.1, 0.1], [0.3, 0.1], [0.3, 0.4]]
    response = await client.put(
        f"{masks}/2", json={"polygons": [window]}, headers=cast.manager.headers
    )
    assert response.status_code == 200, response.text
    assert simulated_vms(system).masks[("CA-TAL-1", 2)] == [window]
    response = await client.put(
        f"{masks}/2", json={"polygons": [[[0.1, 0.1], [2, 0]]]}, headers=cast.manager.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "polygons.0"
    listed = (await client.get(masks, headers=cast.auditor.headers)).json()
    assert [m["preset"] for m in listed] == [2]

    now = utcnow()
    extraction = {
        "camera_id": "CA-TAL-1",
        "start": (now - timedelta(hours=5)).isoformat(),
        "end": (now - timedelta(hours=4)).isoformat(),
        "reason": "réquisition",
    }
    # No habilitation: refused and registered.
    response = await client.post(f"{API}/extractions", json=extraction, headers=cast.agent.headers)
    assert response.status_code == 403
    await habilitate(client, cast)
    response = await client.post(f"{API}/extractions", json=extraction, headers=cast.agent.headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["export_id"].startswith("exp-")
    handover = {
        "extraction_id": made["id"],
        "requester": "Commissariat de Dijon",
        "reference": "réquisition 2026/77",
        "recipient": "OPJ Martin",
        "medium": "clé USB chiffrée",
    }
    response = await client.post(f"{API}/transmissions", json=handover, headers=cast.agent.headers)
    assert response.status_code == 201, response.text
    entries = await entries_of(client, cast)
    assert [(e["kind"], e["outcome"]) for e in entries] == [
        ("mask", "done"),
        ("extraction", "refused"),
        ("extraction", "done"),
        ("transmission", "done"),
    ]
    assert entries[-1]["details"]["recipient"] == "OPJ Martin"
    assert entries[-1]["details"]["export_id"] == made["export_id"]
