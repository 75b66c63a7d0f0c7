"""Alarms end to end on both databases: fault events through the ingest pipeline,
silences, failed commands, root-cause grouping, and the decisions of people via the API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beffroi.alarms import raising
from beffroi.alarms.events import AlarmChanged
from beffroi.alarms.ingest import AlarmObserver
from beffroi.alarms.lifecycle import COMMAND_FAILED, COMMUNICATION_LOSS, AlarmSource
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets.importing import import_assets
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import Domain
from beffroi.commands import jobs as command_jobs
from beffroi.commands import service as commands
from beffroi.commands.history import Move, alarm_signals
from beffroi.commands.schemas import CommandCreate
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.telemetry import jobs
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.store import TelemetryStore
from tests.integration.test_ingest import Acks, message
from tests.support import Person, make_person

pytestmark = pytest.mark.asyncio
LIGHTS = 30


def _asset(asset_id: str, type_: str, commune: str, parent: str | None = None) -> AssetCreate:
    return AssetCreate(
        id=asset_id,
        type=type_,
        name=asset_id,
        commune=commune,
        location=Point(coordinates=(5.0, 47.33)),
        parent_id=parent,
    )


async def fleet(system: Context) -> None:
    """A Talant cabinet with 30 lights, a Chenôve light, a Dijon traffic controller."""
    items = [_asset("LC-1", "lighting_cabinet", "talant")]
    items += [_asset(f"SL-{n}", "streetlight", "talant", "LC-1") for n in range(1, LIGHTS + 1)]
    items += [
        _asset("SL-CHE", "streetlight", "chenove"),
        _asset("TC-1", "traffic_controller", "dijon"),
    ]
    await import_assets(system, list(enumerate(items, 1)))


async def pipeline_for(runtime: Runtime) -> IngestPipeline:
    """An ingest pipeline whose store raises alarms, as the gateway's does."""
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    return IngestPipeline(
        TelemetryStore(runtime.db, observers=[AlarmObserver()]),
        directory,
        runtime.events,
        Acks(),
        root="beffroi/v1",
        retention=timedelta(days=90),
    )


class Events:
    """Numbers the messages sent to a pipeline."""

    def __init__(self, pipeline: IngestPipeline) -> None:
        self.pipeline = pipeline
        self.mid = 0

    async def send(self, *items: tuple[str, str, bool, datetime]) -> None:
        batch = []
        for asset_id, code, active, ts in items:
            self.mid += 1
            body = {"ts": ts.isoformat(), "code": code, "active": active}
            batch.append(message(self.mid, f"devices/{asset_id}/events", body))
        await self.pipeline.process(batch)


async def alarms(runtime: Runtime, **where: Any) -> list[Alarm]:
    async with runtime.db.read() as session:
        stmt = select(Alarm).filter_by(**where).order_by(Alarm.id)
        return list((await session.execute(stmt)).scalars())


async def history(runtime: Runtime, alarm_id: int) -> list[tuple[str, str]]:
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(AlarmHistory.action, AlarmHistory.state)
            .where(AlarmHistory.alarm_id == alarm_id)
            .order_by(AlarmHistory.id)
        )
        return [(r.action, r.state) for r in rows]


async def test_a_fault_event_raises_one_alarm_that_repeats_and_clears(
    system: Context, runtime: Runtime
) -> None:
    await fleet(system)
    sender = Events(await pipeline_for(runtime))
    changes = runtime.events.subscribe(AlarmChanged)
    t0 = utcnow() - timedelta(minutes=10)
    await sender.send(("SL-1", "lampFailure", True, t0))
    await sender.send(("SL-1", "lampFailure", True, t0 + timedelta(minutes=1)))
    # The same message again (a redelivery) is stored once and counts nothing.
    sender.mid -= 1
    await sender.send(("SL-1", "lampFailure", True, t0 + timedelta(minutes=1)))
    [alarm] = await alarms(runtime, asset_id="SL-1")
    assert (alarm.alarm_type, alarm.severity, alarm.source) == ("lampFailure", "minor", "device")
    assert (alarm.state, alarm.occurrences) == ("active_unacknowledged", 2)
    assert alarm.last_seen_at == t0 + timedelta(minutes=1)
    assert (alarm.commune_code, alarm.domain) == ("talant", "lighting")
    # A clear older than the raising (a late message) changes nothing; a newer one clears.
    await sender.send(("SL-1", "lampFailure", False, t0 - timedelta(minutes=1)))
    assert (await alarms(runtime, asset_id="SL-1"))[0].state == "active_unacknowledged"
    await sender.send(("SL-1", "lampFailure", False, t0 + timedelta(minutes=2)))
    [alarm] = await alarms(runtime, asset_id="SL-1")
    assert (alarm.state, alarm.active_key) == ("cleared_unacknowledged", None)
    assert alarm.cleared_by == "device:SL-1"
    # The fault again: a new alarm, the old one stays in the history.
    await sender.send(("SL-1", "lampFailure", True, t0 + timedelta(minutes=3)))
    assert [a.state for a in await alarms(runtime, asset_id="SL-1")] == [
        "cleared_unacknowledged",
        "active_unacknowledged",
    ]
    assert await history(runtime, alarm.id) == [
        ("raised", "active_unacknowledged"),
        ("cleared", "cleared_unacknowledged"),
    ]
    seen = [e.action for e in changes.take()]
    assert seen == ["raised", "repeated", "cleared", "raised"]


async def test_the_list_pages_newest_first_and_refuses_a_forged_cursor(
    system: Context, runtime: Runtime, client: httpx.AsyncClient, admin: Person
) -> None:
    await fleet(system)
    sender = Events(await pipeline_for(runtime))
    t0 = utcnow() - timedelta(minutes=5)
    await sender.send(*[(f"SL-{n}", "lampFailure", True, t0) for n in range(1, 8)])
    newest_first = [a.id for a in reversed(await alarms(runtime))]
    assert len(newest_first) == 7
    for limit in (3, 7):
        seen: list[int] = []
        params: dict[str, Any] = {"limit": limit}
        while True:
            page = await client.get("/api/v1/alarms", params=params, headers=admin.headers)
            assert page.status_code == 200, page.text
            seen += [a["id"] for a in page.json()["items"]]
            if not page.json()["next_cursor"]:
                break
            params["cursor"] = page.json()["next_cursor"]
        assert seen == newest_first, limit
    forged = await client.get("/api/v1/alarms?cursor=12", headers=admin.headers)
    assert forged.status_code == 422
    assert [e["field"] for e in forged.json()["errors"]] == ["cursor"]


async def test_a_cabinet_supply_loss_groups_the_alarms_of_its_lights(
    system: Context, runtime: Runtime, client: httpx.AsyncClient, admin: Person
) -> None:
    await fleet(system)
    sender = Events(await pipeline_for(runtime))
    t0 = utcnow() - timedelta(minutes=5)
    # Half the lights report before the cabinet, half after: both ways end grouped.
    await sender.send(*[(f"SL-{n}", "supplyLoss", True, t0) for n in range(1, 16)])
    await sender.send(("LC-1", "supplyLoss", True, t0))
    await sender.send(*[(f"SL-{n}", "supplyLoss", True, t0) for n in range(16, LIGHTS + 1)])
    await sender.send(("SL-CHE", "lampFailure", True, t0))
    [root] = await alarms(runtime, asset_id="LC-1")
    lights = [
        a for a in await alarms(runtime, asset_type="streetlight") if a.commune_code == "talant"
    ]
    assert len(lights) == LIGHTS
    assert {a.parent_id for a in lights} == {root.id}
    page = (await client.get("/api/v1/alarms", headers=admin.headers)).json()
    assert [(a["asset_id"], a["children"]) for a in page["items"]] == [
        ("SL-CHE", 0),
        ("LC-1", LIGHTS),
    ]
    grouped = await client.get(
        "/api/v1/alarms", params={"parent_id": root.id}, headers=admin.headers
    )
    assert len(grouped.json()["items"]) == LIGHTS
    assert ("grouped", "active_unacknowledged") in await history(runtime, lights[0].id)
    # Acknowledging the root acknowledges what it groups.
    ack = await client.post(f"/api/v1/alarms/{root.id}/acknowledge", headers=admin.headers, json={})
    assert ack.status_code == 200, ack.text
    assert {a.state for a in await alarms(runtime, parent_id=root.id)} == {"active_acknowledged"}
    # Supply back at the cabinet; one light stays dark: once the root is cleared and
    # acknowledged, that light's alarm stands on its own.
    await sender.send(("LC-1", "supplyLoss", False, t0 + timedelta(minutes=1)))
    await sender.send(
        *[(f"SL-{n}", "supplyLoss", False, t0 + timedelta(minutes=1)) for n in range(2, LIGHTS + 1)]
    )
    [left] = await alarms(runtime, asset_id="SL-1")
    assert (left.state, left.parent_id) == ("active_acknowledged", None)
    page = (await client.get("/api/v1/alarms", headers=admin.headers)).json()
    assert [a["asset_id"] for a in page["items"]] == ["SL-CHE", "SL-1"]


async def test_a_silent_gateway_groups_the_silence_of_its_children(
    system: Context, runtime: Runtime
) -> None:
    await fleet(system)
    pipeline = await pipeline_for(runtime)
    t0 = utcnow() - timedelta(hours=2)
    await pipeline.process(
        [
            message(n, f"devices/{a}/telemetry", {"ts": t0.isoformat(), "values": {"power_w": 1}})
            for n, a in enumerate(["LC-1", "SL-1", "SL-2"], 1)
        ]
    )
    observer = AlarmObserver()
    later = utcnow()
    await jobs.mark_silent(runtime.db, later, after=observer.silenced)
    found = await alarms(runtime, alarm_type=COMMUNICATION_LOSS)
    assert sorted(a.asset_id for a in found) == ["LC-1", "SL-1", "SL-2"]
    root = next(a for a in found if a.asset_id == "LC-1")
    assert {a.parent_id for a in found if a.asset_id != "LC-1"} == {root.id}
    # Heard from again: the communication loss clears.
    await pipeline.process(
        [message(9, "devices/SL-1/telemetry", {"ts": later.isoformat(), "values": {"power_w": 1}})]
    )
    [back] = await alarms(runtime, asset_id="SL-1")
    assert back.state == "cleared_unacknowledged"


async def test_a_failed_command_raises_an_alarm_and_a_success_clears_it(
    system: Context, runtime: Runtime
) -> None:
    await fleet(system)
    sent = await commands.send_command(
        system,
        CommandCreate(asset_id="SL-1", name="dim", params={"level_pct": 40}, expires_in_s=60),
    )
    await command_jobs.close_overdue(runtime.db, utcnow() + timedelta(minutes=5))
    [alarm] = await alarms(runtime, alarm_type=COMMAND_FAILED)
    assert (alarm.asset_id, alarm.severity, alarm.source) == ("SL-1", "minor", "command")
    assert alarm.detail["command_id"] == sent.id
    assert alarm.detail["state"] == "expired"
    # The next command the light obeys clears it.
    later = utcnow() + timedelta(minutes=10)
    move = Move("x" * 32, "SL-1", None, "dim", "succeeded", "verified", later, "SL-1", "device")
    async with runtime.db.write() as session:
        await raising.apply(session, alarm_signals([move]), later)
    [alarm] = await alarms(runtime, alarm_type=COMMAND_FAILED)
    assert alarm.state == "cleared_unacknowledged"


async def test_two_transactions_raising_the_same_alarm_make_one(
    runtime: Runtime, system: Context
) -> None:
    await fleet(system)
    now = utcnow()

    async def raise_once() -> None:
        async with runtime.db.write() as session:
            signal = AlarmSignal("TC-1", "hardwareFault", True, now, AlarmSource.DEVICE)
            await raising.apply(session, [signal], now)
            await asyncio.sleep(0.05)

    await asyncio.gather(raise_once(), raise_once())
    [alarm] = await alarms(runtime, asset_id="TC-1")
    assert (alarm.occurrences, alarm.severity) == (2, "critical")


async def test_decisions_and_refused_transitions(
    system: Context, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    await fleet(system)
    sup = await make_person(system, "sup", [Role.SUPERVISOR])
    now = utcnow()
    async with runtime.db.write() as session:
        await raising.apply(
            session, [AlarmSignal("TC-1", "doorOpen", True, now, AlarmSource.DEVICE)], now
        )
    [alarm] = await alarms(runtime, asset_id="TC-1")
    url = f"/api/v1/alarms/{alarm.id}"

    async def post(action: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await client.post(f"{url}/{action}", json=body or {}, headers=sup.headers)

    assert (await post("unshelve")).status_code == 409
    shelved = await post("shelve", {"minutes": 30, "reason": "known, crew on site"})
    assert shelved.json()["shelved"] is True
    listed = (await client.get("/api/v1/alarms", headers=sup.headers)).json()["items"]
    assert listed == []
    listed = (await client.get("/api/v1/alarms?shelved=true", headers=sup.headers)).json()
    assert [a["id"] for a in listed["items"]] == [alarm.id]
    assert (await post("unshelve")).json()["shelved"] is False
    missing = await post("assign", {"user": "nobody"})
    assert missing.status_code == 422
    assert "nobody" in missing.text
    assert (await post("assign", {"user": "sup"})).json()["assigned_to"] == "sup"
    assert (await post("comments", {"text": "door forced, police called"})).status_code == 200
    assert (await post("acknowledge", {"text": "seen"})).json()["state"] == "active_acknowledged"
    again = await post("acknowledge")
    assert again.status_code == 409
    assert again.json()["current_state"] == "active_acknowledged"
    assert (await post("clear", {})).status_code == 422
    cleared = await post("clear", {"reason": "door closed by the crew"})
    assert cleared.json()["state"] == "cleared_acknowledged"
    assert (await post("clear", {"reason": "again"})).status_code == 409
    assert (await post("shelve", {"minutes": 5, "reason": "too late"})).status_code == 409
    assert (await post("assign", {"user": None})).status_code == 409
    detail = (await client.get(url, headers=sup.headers)).json()
    assert [h["action"] for h in detail["history"]] == [
        "raised",
        "shelved",
        "unshelved",
        "assigned",
        "commented",
        "acknowledged",
        "cleared",
    ]
    assert detail["history"][-1]["actor"] == "sup"
    async with runtime.db.read() as session:
        audited = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.outcome)
                .where(AuditEntry.target_type == "alarm")
                .order_by(AuditEntry.seq)
            )
        ).all()
    actions = [tuple(row) for row in audited]
    assert ("alarm.acknowledge", "success") in actions
    assert ("alarm.acknowledge.refused", "denied") in actions
    assert ("alarm.clear.refused", "denied") in actions
    summary = (await client.get("/api/v1/alarms/summary", headers=sup.headers)).json()
    assert summary["unacknowledged"] == 0


async def test_scope_and_domain(
    system: Context, runtime: Runtime, client: httpx.AsyncClient
) -> None:
    await fleet(system)
    now = utcnow()
    async with runtime.db.write() as session:
        await raising.apply(
            session,
            [
                AlarmSignal("SL-CHE", "lampFailure", True, now, AlarmSource.DEVICE),
                AlarmSignal("SL-1", "lampFailure", True, now, AlarmSource.DEVICE),
                AlarmSignal("TC-1", "doorOpen", True, now, AlarmSource.DEVICE),
            ],
            now,
        )
    chenove = (await alarms(runtime, asset_id="SL-CHE"))[0].id
    traffic = (await alarms(runtime, asset_id="TC-1"))[0].id
    talant_op = await make_person(system, "talant-op", [Role.OPERATOR], communes=["talant"])
    lighting_op = await make_person(
        system, "light-op", [Role.OPERATOR], communes=None, domains=[Domain.LIGHTING]
    )
    viewer = await make_person(system, "viewer", [Role.VIEWER])
    page = (await client.get("/api/v1/alarms", headers=talant_op.headers)).json()
    assert [a["asset_id"] for a in page["items"]] == ["SL-1"]
    assert (
        await client.get(f"/api/v1/alarms/{chenove}", headers=talant_op.headers)
    ).status_code == 404
    ack = await client.post(f"/api/v1/alarms/{chenove}/acknowledge", headers=talant_op.headers)
    assert ack.status_code == 404
    ack = await client.post(f"/api/v1/alarms/{traffic}/acknowledge", headers=lighting_op.headers)
    assert ack.status_code == 403
    assert "traffic" in ack.text
    ack = await client.post(f"/api/v1/alarms/{chenove}/acknowledge", headers=lighting_op.headers)
    assert ack.status_code == 200
    ack = await client.post(f"/api/v1/alarms/{traffic}/acknowledge", headers=viewer.headers)
    assert ack.status_code == 403
    assert (
        await client.get("/api/v1/alarms?severity=bad", headers=viewer.headers)
    ).status_code == 422


async def test_raise_clear_raise_in_one_batch(system: Context, runtime: Runtime) -> None:
    await fleet(system)
    sender = Events(await pipeline_for(runtime))
    t0 = utcnow() - timedelta(minutes=5)
    await sender.send(("TC-1", "detectorFault", True, t0))
    await sender.send(
        ("TC-1", "detectorFault", False, t0 + timedelta(seconds=1)),
        ("TC-1", "detectorFault", True, t0 + timedelta(seconds=2)),
        ("TC-1", "detectorFault", False, t0 + timedelta(seconds=3)),
        ("TC-1", "detectorFault", True, t0 + timedelta(seconds=4)),
    )
    found = sorted(await alarms(runtime, asset_id="TC-1"), key=lambda a: a.raised_at)
    assert [(a.state, a.raised_at) for a in found] == [
        ("cleared_unacknowledged", t0),
        ("cleared_unacknowledged", t0 + timedelta(seconds=2)),
        ("active_unacknowledged", t0 + timedelta(seconds=4)),
    ]
    assert await history(runtime, found[1].id) == [
        ("raised", "active_unacknowledged"),
        ("cleared", "cleared_unacknowledged"),
    ]
