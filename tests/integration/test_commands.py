"""Remote commands end to end: the API, a real broker, the gateway's dispatcher and
tracker, and devices scripted by the test so every transition is under its control."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.catalogue import Domain
from beffroi.commands import jobs, service
from beffroi.commands.schemas import BatchCreate, CommandCreate, IdsTarget
from beffroi.config import BrokerUrl
from beffroi.core.audit import AuditEntry
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.devices.credentials import issue_credentials
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.telemetry.models import RejectionCount
from tests.integration.test_gateway import broker
from tests.mqtt_support import DeviceSite, make_device_site
from tests.support import Person, habilitate, make_person

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"
TALANT = (5.005, 47.337)


@dataclass
class Device:
    """A device (or a field gateway speaking for one) scripted by the test."""

    url: str
    username: str
    secret: str
    device_id: str
    gateway: str | None = None
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    client: mqtt.Client | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        if self.gateway:
            return f"{ROOT}/gateways/{self.gateway}/devices/{self.device_id}"
        return f"{ROOT}/devices/{self.device_id}"

    async def connect(self) -> None:
        """Connect off the event loop: the embedded broker runs on it."""
        await asyncio.to_thread(self._connect)

    def _connect(self) -> None:
        host, port = self.url.removeprefix("mqtt://").split(":")
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.username, protocol=mqtt.MQTTv311
        )
        client.username_pw_set(self.username, self.secret)
        client.on_message = self._on_message
        connected = threading.Event()

        def on_connect(c: mqtt.Client, *_: Any) -> None:
            c.subscribe(f"{self.base}/commands/+", 1)
            connected.set()

        client.on_connect = on_connect
        client.connect(host, int(port))
        client.loop_start()
        assert connected.wait(10), "device could not connect"
        self.client = client

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        command_id = msg.topic.rsplit("/", 1)[-1]
        with self._lock:
            self.received.append((command_id, orjson.loads(msg.payload)))

    async def publish(self, suffix: str, body: dict[str, Any], *, retain: bool = False) -> None:
        assert self.client is not None
        info = self.client.publish(
            f"{self.base}/{suffix}", orjson.dumps(body), qos=1, retain=retain
        )
        await asyncio.to_thread(info.wait_for_publish, 10)

    async def online(self) -> None:
        await self.publish("status", {"online": True, "firmware": "test"}, retain=True)

    async def reply(self, command_id: str, status: str, **detail: Any) -> None:
        await self.publish(f"commands/{command_id}/reply", {"status": status, "detail": detail})

    async def report(self, **values: Any) -> None:
        await self.publish("telemetry", {"ts": utcnow().isoformat(), "values": values})

    async def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            await asyncio.to_thread(self.client.loop_stop)
            self.client = None

    async def next_command(self, seconds: float = 10.0) -> tuple[str, dict[str, Any]]:
        """The first command received that the test has not taken yet."""
        async with asyncio.timeout(seconds):
            while True:
                with self._lock:
                    if self.received:
                        return self.received.pop(0)
                await asyncio.sleep(0.02)


async def wait_for(predicate: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while not await predicate():  # noqa: ASYNC110 - polling the API: no event to await
            await asyncio.sleep(0.05)


@dataclass
class Hub:
    """The API client, the people, the devices of :func:`make_device_site`."""

    http: httpx.AsyncClient
    url: str
    site: DeviceSite
    gateway: Gateway
    people: dict[str, Person]

    async def command(self, who: str, **body: Any) -> httpx.Response:
        return await self.http.post("/api/v1/commands", json=body, headers=self.people[who].headers)

    async def get(self, who: str, path: str) -> Any:
        response = await self.http.get(path, headers=self.people[who].headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def state_is(self, command_id: str, state: str, verification: str | None = None) -> bool:
        body = await self.get("admin", f"/api/v1/commands/{command_id}")
        return body["state"] == state and (
            verification is None or body["verification"] == verification
        )

    def light(self) -> Device:
        """The Talant streetlight, relayed by its cabinet."""
        return Device(
            self.url,
            self.site.gateway,
            self.site.secrets[self.site.gateway],
            self.site.child,
            gateway=self.site.gateway,
        )


@contextlib.asynccontextmanager
async def hub(
    kind: str, runtime: Runtime, system: Context, tmp_path: Path, **settings: Any
) -> AsyncIterator[Hub]:
    """Registry, people, broker, gateway and API, ready for commands."""
    site = await make_device_site(system)
    await _register(system, site)
    people = {
        "admin": await make_person(system, "admin", [Role.ADMIN]),
        "talant": await make_person(
            system, "talant", [Role.OPERATOR], ["talant"], [Domain.LIGHTING, Domain.ROADS]
        ),
        "lighting": await make_person(system, "lighting", [Role.OPERATOR], None, [Domain.LIGHTING]),
        "roads": await make_person(system, "roads", [Role.OPERATOR], None, [Domain.ROADS]),
        "super1": await make_person(system, "super1", [Role.SUPERVISOR]),
        "super2": await make_person(system, "super2", [Role.SUPERVISOR]),
        "video": await make_person(system, "video", [Role.VIDEO_AGENT]),
        "viewer": await make_person(system, "viewer", [Role.VIEWER]),
    }
    # A video agent steers cameras only within a habilitation (CSI L252-2).
    await habilitate(runtime, "video")
    if settings:
        runtime = Runtime(
            settings=runtime.settings.model_copy(update=settings),
            db=runtime.db,
            events=runtime.events,
        )
    from beffroi.web.app import create_app

    async with broker(kind, runtime, system, tmp_path) as running:
        gateway = Gateway(
            runtime,
            broker_address(
                runtime, BrokerUrl.parse(running.url), running.version, embedded=kind == "embedded"
            ),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        transport = httpx.ASGITransport(app=create_app(runtime))
        try:
            await gateway.wait_connected(20)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield Hub(http, running.url, site, gateway, people)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)


async def _register(system: Context, site: DeviceSite) -> None:
    """A traffic controller, a bollard and a camera in Talant, beside the site's lights."""
    items = [
        AssetCreate(id=i, type=t, name=i, commune="talant", location=Point(coordinates=TALANT))
        for i, t in (
            ("TC-TAL-1", "traffic_controller"),
            ("BO-TAL-1", "bollard"),
            ("CA-TAL-1", "camera"),
        )
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    site.secrets.update(dict(await issue_credentials(system, ["TC-TAL-1", "BO-TAL-1", "CA-TAL-1"])))


def direct(h: Hub, device_id: str) -> Device:
    return Device(h.url, device_id, h.site.secrets[device_id], device_id)


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_a_command_goes_through_every_state_and_is_verified(
    kind: str, runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub(kind, runtime, system, tmp_path) as h:
        light = h.light()
        await light.connect()
        try:
            await light.online()
            response = await h.command(
                "talant", asset_id=h.site.child, name="dim", params={"level_pct": 40}
            )
            assert response.status_code == 201, response.text
            created = response.json()
            assert created["state"] == "queued"
            assert created["verification"] == "pending"
            command_id, payload = await light.next_command()
            assert command_id == created["id"]
            assert payload["name"] == "dim"
            assert payload["params"] == {"level_pct": 40}
            assert payload["expires_at"]
            await wait_for(lambda: h.state_is(command_id, "sent"))
            await light.reply(command_id, "accepted")
            await wait_for(lambda: h.state_is(command_id, "accepted"))
            await light.reply(command_id, "succeeded")
            await wait_for(lambda: h.state_is(command_id, "succeeded", "pending"))
            await light.report(level_pct=40.2, power_w=20.0)
            await wait_for(lambda: h.state_is(command_id, "succeeded", "verified"))

            # A duplicate reply changes nothing; a reply to no command is rejected input.
            await light.reply(command_id, "failed")
            await light.reply("0123456789abcdef0123456789abcdef", "succeeded")
            await wait_for(lambda: _rejected(runtime, "unknown_command", 1))
            assert await h.state_is(command_id, "succeeded", "verified")

            detail = await h.get("talant", f"/api/v1/commands/{command_id}")
            states = [t["state"] for t in detail["transitions"]]
            assert states == ["created", "queued", "sent", "accepted", "succeeded"]
            assert detail["transitions"][0]["actor"] == "talant"
            assert detail["transitions"][3]["actor"] == h.site.child
            history = await h.get("talant", f"/api/v1/assets/{h.site.child}/commands")
            assert [c["id"] for c in history["items"]] == [command_id]
        finally:
            await light.close()
    async with runtime.db.read() as session:
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert "command.create" in actions


async def _rejected(runtime: Runtime, reason: str, count: int) -> bool:
    async with runtime.db.read() as session:
        rows = (
            await session.execute(
                select(RejectionCount.count).where(RejectionCount.reason == reason)
            )
        ).scalars()
        return sum(rows) >= count


async def test_a_reported_state_that_disagrees_is_flagged(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("mosquitto", runtime, system, tmp_path) as h:
        bollard = direct(h, "BO-TAL-1")
        await bollard.connect()
        try:
            await bollard.online()
            created = (
                await h.command("roads", asset_id="BO-TAL-1", name="lower", reason="delivery")
            ).json()
            assert created["state"] == "awaiting_approval", created
            approved = await h.http.post(
                f"/api/v1/commands/{created['id']}/approve",
                headers=h.people["super1"].headers,
                json={},
            )
            assert approved.status_code == 200, approved.text
            command_id, _ = await bollard.next_command()
            await bollard.reply(command_id, "succeeded")
            await wait_for(lambda: h.state_is(command_id, "succeeded"))
            await bollard.report(position="up")
            await wait_for(lambda: h.state_is(command_id, "succeeded", "mismatch"))
            await bollard.report(position="down")
            await wait_for(lambda: h.state_is(command_id, "succeeded", "verified"))
        finally:
            await bollard.close()


async def test_a_silent_device_is_retried_then_its_command_expires(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("mosquitto", runtime, system, tmp_path) as h:
        controller = direct(h, "TC-TAL-1")
        await controller.connect()
        try:
            await controller.online()
            response = await h.command(
                "admin",
                asset_id="TC-TAL-1",
                name="set_plan",
                params={"plan": 3},
                timeout_s=1,
                expires_in_s=30,
            )
            command_id = response.json()["id"]
            await wait_for(lambda: h.state_is(command_id, "expired"), 20)
            copies = [c for c, _ in controller.received if c == command_id]
            assert len(copies) == 3  # idempotent: sent again after each timeout
            detail = await h.get("admin", f"/api/v1/commands/{command_id}")
            assert detail["attempts"] == 3
            assert detail["result"] == {"reason": "no reply after 3 attempt(s)"}
            # A non-idempotent command is not sent twice.
            response = await h.command(
                "admin",
                asset_id="TC-TAL-1",
                name="priority_request",
                params={"line": "L4", "direction": "Quetigny"},
                timeout_s=1,
                expires_in_s=10,
            )
            once = response.json()["id"]
            await wait_for(lambda: h.state_is(once, "expired"), 20)
            assert [c for c, _ in controller.received].count(once) == 1
        finally:
            await controller.close()


async def test_an_offline_device_gets_its_command_when_it_comes_back(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("embedded", runtime, system, tmp_path) as h:
        light = h.light()
        waiting = (
            await h.command("lighting", asset_id=h.site.child, name="switch", params={"on": True})
        ).json()
        too_late = (
            await h.command(
                "lighting",
                asset_id=h.site.child,
                name="dim",
                params={"level_pct": 10},
                timeout_s=1,
                expires_in_s=5,
            )
        ).json()
        await wait_for(lambda: h.state_is(too_late["id"], "expired"), 15)
        assert await h.state_is(waiting["id"], "queued"), "sent to a device that is offline"
        await light.connect()
        try:
            await light.online()
            command_id, payload = await light.next_command(15)
            assert command_id == waiting["id"]
            assert payload["name"] == "switch"
            await light.reply(command_id, "succeeded")
            await wait_for(lambda: h.state_is(command_id, "succeeded"))
            await asyncio.sleep(0.5)
            assert all(c != too_late["id"] for c, _ in light.received)
        finally:
            await light.close()


async def test_four_eyes_scope_and_domains(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("embedded", runtime, system, tmp_path) as h:
        # Scope: an operator of Talant cannot command a streetlight in Chenôve.
        response = await h.command(
            "talant", asset_id=h.site.other, name="dim", params={"level_pct": 5}
        )
        assert response.status_code == 404
        # Domain: a lighting operator cannot command a traffic controller.
        response = await h.command(
            "lighting", asset_id="TC-TAL-1", name="set_plan", params={"plan": 2}
        )
        assert response.status_code == 403
        # Cameras do not exist for people the law does not designate: not found.
        response = await h.command(
            "lighting", asset_id="CA-TAL-1", name="goto_preset", params={"preset": 2}, reason="x"
        )
        assert response.status_code == 404
        # Cameras are steered only within a video session (test_video_sessions.py): the
        # generic route refuses their commands, whoever asks and with whatever reason.
        for who in ("admin", "video"):
            response = await h.command(
                who, asset_id="CA-TAL-1", name="goto_preset", params={"preset": 2}, reason="x"
            )
            assert response.status_code == 403
            assert "within a video session" in response.json()["detail"]
        # A viewer sends nothing; a command the type does not have is named.
        assert (
            await h.command("viewer", asset_id=h.site.child, name="dim", params={"level_pct": 5})
        ).status_code == 403
        response = await h.command("admin", asset_id=h.site.child, name="raise")
        assert response.status_code == 422
        assert "no command 'raise'" in response.text
        response = await h.command(
            "admin", asset_id=h.site.child, name="dim", params={"level_pct": 500}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "params.level_pct"

        # A mode change must name its automatic revert, at most 24 h away.
        response = await h.command(
            "admin",
            asset_id="TC-TAL-1",
            name="set_mode",
            params={"mode": "yellow_flash"},
            reason="works",
        )
        assert response.status_code == 422
        assert "revert_after_min" in response.text
        response = await h.command(
            "admin",
            asset_id="TC-TAL-1",
            name="set_mode",
            params={"mode": "yellow_flash", "revert_after_min": 1441},
            reason="works",
        )
        assert response.status_code == 422
        # Critical: a reason, then a second person, a supervisor.
        response = await h.command(
            "super1",
            asset_id="TC-TAL-1",
            name="set_mode",
            params={"mode": "all_red", "revert_after_min": 30},
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reason"
        response = await h.command(
            "super1",
            asset_id="TC-TAL-1",
            name="set_mode",
            params={"mode": "all_red", "revert_after_min": 30},
            reason="accident",
        )
        held = response.json()
        assert held["state"] == "awaiting_approval"
        assert held["critical"] is True
        approve = f"/api/v1/commands/{held['id']}/approve"
        own = await h.http.post(approve, headers=h.people["super1"].headers, json={})
        assert own.status_code == 403
        assert "four-eyes" in own.text
        operator = await h.http.post(approve, headers=h.people["roads"].headers, json={})
        assert operator.status_code == 403
        ok = await h.http.post(approve, headers=h.people["super2"].headers, json={"reason": "seen"})
        assert ok.status_code == 200
        assert ok.json()["state"] == "queued"
        again = await h.http.post(approve, headers=h.people["super2"].headers, json={})
        assert again.status_code == 409
        assert again.json()["current_state"] == "queued"

        # A refusal ends it; an unanswered request expires.
        refused = (
            await h.command("roads", asset_id="BO-TAL-1", name="raise", reason="market")
        ).json()
        unexplained = await h.http.post(
            f"/api/v1/commands/{refused['id']}/deny", headers=h.people["super2"].headers, json={}
        )
        assert unexplained.status_code == 422, "a refusal says why"
        deny = await h.http.post(
            f"/api/v1/commands/{refused['id']}/deny",
            headers=h.people["super2"].headers,
            json={"reason": "no"},
        )
        assert deny.json()["state"] == "rejected"
        forgotten = (
            await h.command("roads", asset_id="BO-TAL-1", name="raise", reason="market")
        ).json()
        await jobs.close_overdue(runtime.db, utcnow() + timedelta(hours=1))
        assert await h.state_is(forgotten["id"], "expired")
        cancel = await h.http.post(
            f"/api/v1/commands/{forgotten['id']}/cancel", headers=h.people["roads"].headers, json={}
        )
        assert cancel.status_code == 409

    async with runtime.db.read() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    for action in (
        "command.create",
        "command.approve",
        "command.deny",
        "command.approve.refused",
        "command.create.refused",
        "command.deny.refused",
    ):
        assert action in actions, action


async def _more_lights(system: Context, cabinet: str, count: int) -> list[str]:
    items = [
        AssetCreate(
            id=f"SL-TAL-{n:05d}",
            type="streetlight",
            name=f"Point lumineux {n}",
            commune="talant",
            location=Point(coordinates=(TALANT[0] + n * 1e-4, TALANT[1])),
            parent_id=cabinet,
        )
        for n in range(2, 2 + count)
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    return [i.id for i in items]


class Cabinet(Device):
    """A field gateway answering every command for its lights with one status."""

    answer = "succeeded"

    def _connect(self) -> None:
        super()._connect()
        assert self.client is not None
        self.client.subscribe(f"{ROOT}/gateways/{self.username}/devices/+/commands/+", 1)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        # beffroi/v1/gateways/{cabinet}/devices/{light}/commands/{command_id}
        parts = msg.topic.split("/")
        light, command_id = parts[5], parts[7]
        with self._lock:
            self.received.append((command_id, orjson.loads(msg.payload)))
        topic = f"{ROOT}/gateways/{self.username}/devices/{light}/commands/{command_id}/reply"
        client.publish(topic, orjson.dumps({"status": self.answer}), qos=1)

    async def lights_online(self, lights: list[str]) -> None:
        assert self.client is not None
        for light in lights:
            topic = f"{ROOT}/gateways/{self.username}/devices/{light}/status"
            self.client.publish(topic, orjson.dumps({"online": True}), qos=1, retain=True)
        await self.publish("status", {"online": True})


async def _batch(h: Hub, who: str, **body: Any) -> httpx.Response:
    return await h.http.post("/api/v1/command-batches", json=body, headers=h.people[who].headers)


async def _counts(h: Hub, batch_id: str) -> dict[str, int]:
    return dict((await h.get("admin", f"/api/v1/command-batches/{batch_id}"))["counts"])


async def test_group_commands_target_progress_cancel_retry_and_safety(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("mosquitto", runtime, system, tmp_path, batch_critical_size=40) as h:
        lights = [h.site.child, *await _more_lights(system, h.site.gateway, 30)]
        # Every way of choosing targets, within the caller's scope.
        polygon = {
            "type": "Polygon",
            "coordinates": [[[4.9, 47.2], [5.1, 47.2], [5.1, 47.4], [4.9, 47.4], [4.9, 47.2]]],
        }
        dim = {"type": "streetlight", "name": "dim", "params": {"level_pct": 30}}
        totals = {}
        for label, target in {
            "cabinet": {"kind": "cabinet", "cabinet_id": h.site.gateway},
            "commune": {"kind": "commune", "commune": "talant"},
            "ids": {"kind": "ids", "asset_ids": lights[:5]},
            "polygon": {"kind": "polygon", "polygon": polygon},
            "filter": {"kind": "filter", "q": "SL-TAL-0000"},
        }.items():
            response = await _batch(h, "talant", **dim, target=target)
            assert response.status_code == 201, (label, response.text)
            totals[label] = response.json()["total"]
        assert totals == {"cabinet": 31, "commune": 31, "ids": 5, "polygon": 31, "filter": 9}
        # Talant's operator reaches nothing in Chenôve, by any target.
        outside = await _batch(h, "talant", **dim, target={"kind": "commune", "commune": "chenove"})
        assert outside.status_code == 422
        # A commune outside the scope is as unknown as one that does not exist.
        assert "unknown commune 'chenove'" in outside.text
        outside = await _batch(
            h, "talant", **dim, target={"kind": "ids", "asset_ids": [h.site.other]}
        )
        assert outside.status_code == 422
        assert h.site.other in outside.text
        wrong = await _batch(
            h, "talant", **dim, target={"kind": "ids", "asset_ids": [h.site.gateway]}
        )
        assert wrong.status_code == 422
        assert "not a streetlight" in wrong.text
        # The devices are offline: everything waits, and a cancellation ends it all.
        queued = (
            await _batch(h, "talant", **dim, target={"kind": "ids", "asset_ids": lights[:3]})
        ).json()
        assert queued["counts"] == {"queued": 3}
        assert queued["verification"] == {"pending": 3}
        # The create call's answer (built from what it wrote) is what a reading says.
        read = await h.get("talant", f"/api/v1/command-batches/{queued['id']}")
        assert {k: read[k] for k in ("counts", "verification", "state", "total")} == {
            k: queued[k] for k in ("counts", "verification", "state", "total")
        }
        cancelled = await h.http.post(
            f"/api/v1/command-batches/{queued['id']}/cancel",
            headers=h.people["talant"].headers,
            json={},
        )
        assert cancelled.json()["counts"] == {"cancelled": 3}
        assert cancelled.json()["state"] == "cancelled"

        # Switching off a whole commune is critical: a reason, then a supervisor's approval.
        off = {"type": "streetlight", "name": "switch", "params": {"on": False}}
        response = await _batch(h, "talant", **off, target={"kind": "commune", "commune": "talant"})
        assert response.status_code == 422
        assert "whole commune" in response.text
        held = (
            await _batch(
                h, "talant", **off, target={"kind": "commune", "commune": "talant"}, reason="test"
            )
        ).json()
        assert held["state"] == "awaiting_approval"
        assert held["counts"] == {"awaiting_approval": 31}
        for batch in await h.get("admin", "/api/v1/command-batches"):
            if batch["state"] == "running":
                await h.http.post(
                    f"/api/v1/command-batches/{batch['id']}/cancel",
                    headers=h.people["admin"].headers,
                    json={},
                )
        await h.gateway.directory.refresh(runtime.db)  # it learns of the new lights
        cabinet = Cabinet(h.url, h.site.gateway, h.site.secrets[h.site.gateway], h.site.gateway)
        cabinet.answer = "failed"
        await cabinet.connect()
        try:
            await cabinet.lights_online(lights)
            approved = await h.http.post(
                f"/api/v1/command-batches/{held['id']}/approve",
                headers=h.people["super2"].headers,
                json={},
            )
            assert approved.status_code == 200, approved.text

            async def all_failed() -> bool:
                counts = await _counts(h, held["id"])
                return counts == {"failed": 31}

            await wait_for(all_failed, 20)
            cabinet.answer = "succeeded"
            retried = await h.http.post(
                f"/api/v1/command-batches/{held['id']}/retry",
                headers=h.people["talant"].headers,
                json={},
            )
            assert retried.status_code == 201, retried.text
            again = retried.json()
            assert again["retry_of"] == held["id"]
            assert again["total"] == 31
            # The retry is a batch by ids, judged on its own: no commune switched off.
            assert again["state"] == "running"

            async def all_succeeded() -> bool:
                return await _counts(h, again["id"]) == {"succeeded": 31}

            await wait_for(all_succeeded, 20)
            children = await h.get(
                "talant", f"/api/v1/command-batches/{again['id']}/commands?state=succeeded&limit=10"
            )
            assert len(children["items"]) == 10
            assert children["next_cursor"]
        finally:
            await cabinet.close()


@pytest.mark.parametrize(
    ("target", "field", "message"),
    [
        ({"kind": "ids"}, "target.ids.asset_ids", "Field required"),
        ({"kind": "group"}, "target.group.group_id", "Field required"),
        ({"kind": "cabinet"}, "target.cabinet.cabinet_id", "Field required"),
        ({"kind": "commune"}, "target.commune.commune", "Field required"),
        ({"kind": "polygon"}, "target.polygon.polygon", "Field required"),
        # A field of another kind would be silently ignored: it is refused instead.
        (
            {"kind": "commune", "commune": "talant", "cabinet_id": "LC-TAL-1"},
            "target.commune.cabinet_id",
            "Extra inputs are not permitted",
        ),
    ],
)
async def test_a_target_is_checked_against_the_shape_of_its_kind(
    client: httpx.AsyncClient,
    admin: Person,
    target: dict[str, Any],
    field: str,
    message: str,
) -> None:
    """Each kind of target has its own shape in the API: a target missing the field its kind
    needs (or holding another kind's) is a 422 naming it, before anything is looked up."""
    body = {"type": "streetlight", "name": "dim", "params": {"level_pct": 30}, "target": target}
    r = await client.post("/api/v1/command-batches", json=body, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": field, "message": message}]


async def test_a_batch_above_the_configured_size_is_critical(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("embedded", runtime, system, tmp_path, batch_critical_size=2) as h:
        lights = [h.site.child, *await _more_lights(system, h.site.gateway, 2)]
        body = {
            "type": "streetlight",
            "name": "dim",
            "params": {"level_pct": 80},
            "target": {"kind": "ids", "asset_ids": lights},
        }
        response = await _batch(h, "lighting", **body)
        assert response.status_code == 422
        assert "a batch of 3 commands" in response.json()["errors"][0]["message"]
        held = (await _batch(h, "lighting", **body, reason="event")).json()
        assert held["critical"]
        assert held["state"] == "awaiting_approval"
        own = await h.http.post(
            f"/api/v1/command-batches/{held['id']}/approve",
            headers=h.people["lighting"].headers,
            json={},
        )
        assert own.status_code == 403
        unexplained = await h.http.post(
            f"/api/v1/command-batches/{held['id']}/deny",
            headers=h.people["super1"].headers,
            json={},
        )
        assert unexplained.status_code == 422, "a refusal says why"
        async with runtime.db.read() as session:
            refusals = (
                await session.execute(
                    select(AuditEntry.target_id).where(
                        AuditEntry.action == "command_batch.deny.refused"
                    )
                )
            ).scalars()
            assert list(refusals) == [held["id"]], "and saying nothing is audited too"
        denied = await h.http.post(
            f"/api/v1/command-batches/{held['id']}/deny",
            headers=h.people["super1"].headers,
            json={"reason": "not tonight"},
        )
        assert denied.json()["state"] == "rejected"
        assert denied.json()["counts"] == {"rejected": 3}
    # Without the four-eyes rule a critical batch still needs its reason, then goes at once.
    relaxed = Runtime(
        settings=runtime.settings.model_copy(update={"batch_critical_size": 2, "four_eyes": False}),
        db=runtime.db,
        events=runtime.events,
    )
    out = await service.create_batch(
        relaxed.system_context("tests"),
        BatchCreate(
            type="streetlight",
            name="dim",
            params={"level_pct": 80},
            target=IdsTarget(kind="ids", asset_ids=lights),
            reason="event",
        ),
    )
    assert out.critical
    assert out.state == "running"
    assert out.counts == {"queued": 3}


async def test_a_command_written_by_another_process_wakes_the_dispatcher(
    backend: str, runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    """On PostgreSQL the API process's NOTIFY wakes the gateway's dispatcher at once; the
    poll interval (here a minute) is only the bound on SQLite."""
    if backend != "postgresql":
        pytest.skip("notifications are PostgreSQL's")
    async with hub("mosquitto", runtime, system, tmp_path, command_poll_ms=60_000) as h:
        light = h.light()
        await light.connect()
        try:
            await light.online()
            await asyncio.sleep(0.5)  # the status is stored; the dispatcher sleeps again
            # Another process: its own database connections and its own event hub.
            elsewhere = Runtime(
                settings=runtime.settings,
                db=Database(str(runtime.db.url.render_as_string(hide_password=False))),
            )
            try:
                out = await service.send_command(
                    elsewhere.system_context("api"),
                    CommandCreate(asset_id=h.site.child, name="dim", params={"level_pct": 70}),
                )
            finally:
                await elsewhere.db.dispose()
            command_id, _ = await light.next_command(5)
            assert command_id == out.id
        finally:
            await light.close()


async def test_commands_expire_on_time_with_no_gateway_running(
    runtime: Runtime, system: Context
) -> None:
    site = await make_device_site(system)
    out = await service.send_command(
        system,
        CommandCreate(
            asset_id=site.child, name="dim", params={"level_pct": 5}, timeout_s=1, expires_in_s=5
        ),
    )
    stop = asyncio.Event()
    clock = asyncio.create_task(jobs.run_clock(runtime.db, runtime.events, stop, 0.2))
    try:

        async def expired() -> bool:
            return (await service.get_command(system, out.id)).state == "expired"

        await wait_for(expired, 10)
    finally:
        stop.set()
        await clock
    detail = await service.get_command(system, out.id)
    assert detail.result == {"reason": "expired before it was sent"}
    assert detail.finished_at is not None
    assert detail.finished_at >= out.expires_at
