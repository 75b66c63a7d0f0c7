"""Which command's verification a newer command supersedes, end to end (API, broker,
gateway, devices scripted by the test), on both databases.

Only a newer command that actually set the state supersedes: one that succeeded. One
that was cancelled, expired, or was rejected by the device never reached the state, and
the older command is still judged against what the device reports. While a newer one is
on its way, a report of its state flags no mismatch on the older one.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from beffroi.commands import jobs
from beffroi.commands import service as commands
from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.schemas import CommandCreate
from beffroi.commands.tracker import CommandTracker
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.telemetry.decode import Readings, Reply, Status
from beffroi.telemetry.models import LatestValue
from beffroi.telemetry.store import Batch, TelemetryStore
from tests.integration.test_commands import (
    ROOT,
    Cabinet,
    Device,
    Hub,
    _batch,
    _counts,
    _more_lights,
    hub,
    wait_for,
)
from tests.mqtt_support import make_device_site

pytestmark = pytest.mark.asyncio


async def reported(runtime: Runtime, asset_id: str, key: str, value: float) -> bool:
    """Whether the latest stored value of ``key`` is ``value`` (the gateway stored it and
    judged the commands against it, in the same transaction)."""
    async with runtime.db.read() as session:
        stored = await session.scalar(
            select(LatestValue.value).where(
                LatestValue.asset_id == asset_id, LatestValue.key == key
            )
        )
    return stored == value


async def verification(h: Hub, command_id: str) -> str:
    body = await h.get("admin", f"/api/v1/commands/{command_id}")
    return str(body["verification"])


async def dim(h: Hub, light: Device, level: int, **timing: int) -> str:
    """Send ``dim(level)`` to the light; returns its id once the light received it."""
    response = await h.command(
        "talant", asset_id=light.device_id, name="dim", params={"level_pct": level}, **timing
    )
    assert response.status_code == 201, response.text
    command_id = str(response.json()["id"])
    received, _ = await light.next_command()
    assert received == command_id
    await wait_for(lambda: h.state_is(command_id, "sent"))
    return command_id


async def succeeded_unverified(h: Hub, light: Device, level: int) -> str:
    """A dim the light says it carried out, its report still to come."""
    command_id = await dim(h, light, level)
    await light.reply(command_id, "succeeded")
    await wait_for(lambda: h.state_is(command_id, "succeeded", "pending"))
    return command_id


async def end_without_effect(
    h: Hub, runtime: Runtime, light: Device, command_id: str, how: str
) -> None:
    """End a command that reached no state: cancelled by a person, expired on the hub's
    clock, or rejected by the device."""
    if how == "cancelled":
        response = await h.http.post(
            f"/api/v1/commands/{command_id}/cancel", headers=h.people["talant"].headers, json={}
        )
        assert response.status_code == 200, response.text
    elif how == "expired":
        # The hub's clock, a minute on: past the command's lifetime, well within the
        # older command's verification window.
        await jobs.close_overdue(runtime.db, utcnow() + timedelta(minutes=1))
    else:
        await light.reply(command_id, "rejected", reason="busy")
    await wait_for(lambda: h.state_is(command_id, how, "not_applicable"))


@pytest.mark.parametrize("how", ["cancelled", "expired", "rejected"])
async def test_a_newer_command_that_set_nothing_supersedes_nothing(
    how: str, runtime: Runtime, system: Context, tmp_path: Any
) -> None:
    async with hub("mosquitto", runtime, system, tmp_path) as h:
        light = h.light()
        await light.connect()
        try:
            await light.online()
            older = await succeeded_unverified(h, light, 40)
            # A lifetime the hub's clock can end (the shortest there is).
            timing = {"timeout_s": 5, "expires_in_s": 5} if how == "expired" else {}
            newer = await dim(h, light, 80, **timing)
            assert await verification(h, older) == "pending"
            await end_without_effect(h, runtime, light, newer, how)
            # The light still shows the older command's level: that verifies it.
            await light.report(level_pct=40.0)
            await wait_for(lambda: reported(runtime, light.device_id, "level_pct", 40.0))
            assert await verification(h, older) == "verified"

            # Verified, it stays so whatever a later command that sets nothing does.
            again = await dim(h, light, 10, **timing)
            await end_without_effect(h, runtime, light, again, how)
            assert await verification(h, older) == "verified"
        finally:
            await light.close()


async def test_a_newer_command_that_succeeded_supersedes_and_meanwhile_flags_nothing(
    runtime: Runtime, system: Context, tmp_path: Any
) -> None:
    async with hub("embedded", runtime, system, tmp_path) as h:
        light = h.light()
        await light.connect()
        try:
            await light.online()
            older = await succeeded_unverified(h, light, 40)
            newer = await dim(h, light, 80)
            # The light has dimmed to 80 and says so before its reply to the newer command:
            # the older one is not flagged for it, the newer one may have set the state.
            await light.report(level_pct=80.0)
            await wait_for(lambda: reported(runtime, light.device_id, "level_pct", 80.0))
            assert await verification(h, older) == "pending"
            await light.reply(newer, "succeeded")
            await wait_for(lambda: h.state_is(older, "succeeded", "superseded"))
            await light.report(level_pct=80.2)
            await wait_for(lambda: h.state_is(newer, "succeeded", "verified"))
            assert await verification(h, older) == "superseded"

            # With nothing on its way, a report that disagrees is flagged as before.
            third = await succeeded_unverified(h, light, 30)
            await light.report(level_pct=70.0)
            await wait_for(lambda: h.state_is(third, "succeeded", "mismatch"))
            assert await verification(h, newer) == "verified"
        finally:
            await light.close()


class QuietCabinet(Cabinet):
    """A lighting cabinet answering every command for its lights with ``answer``, or
    with nothing when it is None; and reporting its lights' levels in bulk."""

    answer: str | None = "succeeded"  # type: ignore[assignment]

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if self.answer is None:
            parts = msg.topic.split("/")
            with self._lock:
                self.received.append((parts[7], orjson.loads(msg.payload)))
            return
        super()._on_message(client, userdata, msg)

    async def levels(self, lights: list[str], level: float) -> None:
        """Every light reports ``level``, through its cabinet."""
        assert self.client is not None
        body = orjson.dumps({"ts": utcnow().isoformat(), "values": {"level_pct": level}})
        base = f"{ROOT}/gateways/{self.username}/devices"
        infos = [self.client.publish(f"{base}/{light}/telemetry", body, qos=1) for light in lights]
        for info in infos:
            await asyncio.to_thread(info.wait_for_publish, 10)


async def test_group_commands_supersede_only_when_they_succeed(
    runtime: Runtime, system: Context, tmp_path: Any
) -> None:
    async with hub("mosquitto", runtime, system, tmp_path) as h:
        lights = [h.site.child, *await _more_lights(system, h.site.gateway, 5)]
        await h.gateway.directory.refresh(runtime.db)  # it learns of the new lights
        cabinet = QuietCabinet(
            h.url, h.site.gateway, h.site.secrets[h.site.gateway], h.site.gateway
        )
        await cabinet.connect()
        target = {"kind": "ids", "asset_ids": lights}

        async def group(level: int) -> str:
            body = {"type": "streetlight", "name": "dim", "params": {"level_pct": level}}
            response = await _batch(h, "talant", **body, target=target)
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

        async def children(batch_id: str) -> dict[str, int]:
            page = await h.get("admin", f"/api/v1/command-batches/{batch_id}/commands?limit=100")
            out: dict[str, int] = {}
            for c in page["items"]:
                out[f"{c['state']}/{c['verification']}"] = (
                    out.get(f"{c['state']}/{c['verification']}", 0) + 1
                )
            return out

        async def all_are(batch_id: str, state: str) -> None:
            async def done() -> bool:
                return await _counts(h, batch_id) == {state: len(lights)}

            await wait_for(done, 20)

        try:
            await cabinet.lights_online(lights)
            first = await group(40)
            await all_are(first, "succeeded")
            # Rejected by every light, then cancelled while the lights stay silent: the
            # first batch is still awaiting its report, and the report verifies it.
            cabinet.answer = "rejected"
            await all_are(await group(80), "rejected")
            cabinet.answer = None
            silent = await group(10)
            await all_are(silent, "sent")
            cancelled = await h.http.post(
                f"/api/v1/command-batches/{silent}/cancel",
                headers=h.people["talant"].headers,
                json={},
            )
            assert cancelled.status_code == 200, cancelled.text
            assert await children(first) == {"succeeded/pending": len(lights)}
            await cabinet.levels(lights, 40.0)

            async def first_verified() -> bool:
                return await children(first) == {"succeeded/verified": len(lights)}

            await wait_for(first_verified)

            # A batch that succeeds supersedes the one before it, still unverified, on
            # every light at once; the lights' report then verifies the newer one.
            cabinet.answer = "succeeded"
            second = await group(60)
            await all_are(second, "succeeded")
            third = await group(20)
            await all_are(third, "succeeded")
            assert await children(second) == {"succeeded/superseded": len(lights)}
            await cabinet.levels(lights, 20.0)

            async def third_verified() -> bool:
                return await children(third) == {"succeeded/verified": len(lights)}

            await wait_for(third_verified)
            assert await children(first) == {"succeeded/verified": len(lights)}
            assert await children(second) == {"succeeded/superseded": len(lights)}
        finally:
            await cabinet.close()


async def test_within_one_batch_the_last_success_supersedes_and_a_failure_stays_unverified(
    runtime: Runtime, system: Context
) -> None:
    """Replies and readings in one batch, as the gateway's tracker sees them: the dispatcher
    sends, the store follows up (no broker: the order inside the batch is the test's)."""
    site = await make_device_site(system)
    light, other = site.child, site.other
    tracker = CommandTracker(root=ROOT, verify_window=timedelta(minutes=5))
    store = TelemetryStore(runtime.db, [tracker])
    now = utcnow()
    await store.write(
        Batch(
            statuses=[
                Status(light, True, None, now, "status", site.gateway),
                Status(other, True, None, now, "status", None),
            ]
        )
    )
    ids = {}
    for key, asset, level in (("older", light, 40), ("newer", light, 60), ("failed", other, 30)):
        body = CommandCreate(asset_id=asset, name="dim", params={"level_pct": level})
        ids[key] = (await commands.send_command(system, body)).id
    dispatcher = CommandDispatcher(
        runtime.db, runtime.events, lambda _topic, _payload: None, tracker, root=ROOT
    )
    assert await dispatcher.dispatch_due() == 3
    ts = utcnow()
    await store.write(
        Batch(
            replies=[
                Reply(light, ids["older"], "succeeded", {}, ts),
                Reply(light, ids["newer"], "succeeded", {}, ts),
                Reply(other, ids["failed"], "failed", {}, ts),
            ],
            readings=[
                Readings(light, (("level_pct", ts, 60.0, None),)),
                # The level the failed command asked for: it proves nothing of a failure.
                Readings(other, (("level_pct", ts, 30.0, None),)),
            ],
        )
    )
    outcome = {k: (await commands.get_command(system, i)) for k, i in ids.items()}
    assert {k: (c.state, c.verification) for k, c in outcome.items()} == {
        "older": ("succeeded", "superseded"),
        "newer": ("succeeded", "verified"),
        "failed": ("failed", "not_applicable"),
    }
