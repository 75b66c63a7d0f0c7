"""Commands through a field gateway that speaks the bulk form, on both brokers: one
message for many children, replies in bulk, each command's life as on its own topic."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from beffroi.commands.models import Command
from beffroi.core.context import Context, Runtime
from tests.integration.test_commands import (
    ROOT,
    Cabinet,
    _batch,
    _counts,
    _more_lights,
    _rejected,
    direct,
    hub,
    wait_for,
)

pytestmark = pytest.mark.asyncio


class BulkCabinet(Cabinet):
    """A cabinet that announces the bulk form and answers each bulk message with its
    commands accepted, then succeeded in two replies; it keeps what it received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.silent = False  # receive, answer nothing (it is about to drop off)

    def _connect(self) -> None:
        super()._connect()
        assert self.client is not None
        self.client.subscribe(f"{ROOT}/gateways/{self.username}/commands/+", 1)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        parts = msg.topic.split("/")
        if parts[4] != "commands":  # a light's own command topic
            super()._on_message(client, _u, msg)
            return
        body = orjson.loads(msg.payload)
        with self._lock:
            self.messages.append((parts[5], body))
        if not self.silent:
            self.answer_bulk(parts[5], list(body["commands"].values()))

    def answer_bulk(self, message_id: str, command_ids: list[str]) -> None:
        assert self.client is not None
        topic = f"{ROOT}/gateways/{self.username}/commands/{message_id}/reply"
        half = len(command_ids) // 2
        self.client.publish(
            topic, orjson.dumps({key: {"status": "accepted"} for key in command_ids}), 1
        )
        for part in (command_ids[:half], command_ids[half:]):
            done = {c: {"status": self.answer} for c in part}
            self.client.publish(topic, orjson.dumps(done), qos=1)

    async def announce(self, lights: list[str]) -> None:
        """Online, speaking bulk version 1; its lights online in one bulk status."""
        await self.publish("status", {"online": True, "bulk": 1}, retain=True)
        await self.publish_bulk("status", {key: {"online": True} for key in lights})

    async def publish_bulk(self, channel: str, body: dict[str, Any]) -> None:
        assert self.client is not None
        topic = f"{ROOT}/gateways/{self.username}/{channel}"
        info = self.client.publish(topic, orjson.dumps(body), qos=1)
        await asyncio.to_thread(info.wait_for_publish, 10)


async def _commands_of(runtime: Runtime, batch_id: str) -> list[Command]:
    async with runtime.db.read() as session:
        found = await session.execute(select(Command).where(Command.batch_id == batch_id))
        return list(found.scalars())


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_a_batch_goes_in_bulk_to_a_bulk_gateway_and_one_by_one_elsewhere(
    kind: str, runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub(kind, runtime, system, tmp_path) as h:
        lights = [h.site.child, *await _more_lights(system, h.site.gateway, 11)]
        await h.gateway.directory.refresh(runtime.db)
        cabinet = BulkCabinet(h.url, h.site.gateway, h.site.secrets[h.site.gateway], h.site.gateway)
        loner = direct(h, h.site.other)  # a light of its own, in Chenôve
        await cabinet.connect()
        await loner.connect()
        try:
            await cabinet.announce(lights)
            await loner.online()
            body = {"type": "streetlight", "name": "dim", "params": {"level_pct": 30}}
            created = await _batch(
                h, "lighting", **body, target={"kind": "ids", "asset_ids": [*lights, h.site.other]}
            )
            assert created.status_code == 201, created.text
            batch = created.json()
            # The loner gets its command on its own topic, and answers there.
            command_id, payload = await loner.next_command()
            assert "commands" not in payload
            await loner.reply(command_id, "succeeded")

            async def all_succeeded() -> bool:
                return await _counts(h, batch["id"]) == {"succeeded": 13}

            await wait_for(all_succeeded, 20)
            # The cabinet's twelve lights went in one message, each with its own id.
            [(message_id, message)] = cabinet.messages
            assert set(message["commands"]) == set(lights)
            assert message["name"] == "dim"
            assert message["params"] == {"level_pct": 30}
            assert not cabinet.received  # nothing on the lights' own topics
            rows = {c.asset_id: c for c in await _commands_of(runtime, batch["id"])}
            assert {rows[light].id for light in lights} == set(message["commands"].values())
            assert {rows[light].sent_via for light in lights} == {h.site.gateway}
            assert rows[h.site.other].sent_via is None
            detail = await h.get("admin", f"/api/v1/commands/{rows[lights[3]].id}")
            states = [t["state"] for t in detail["transitions"]]
            assert states == ["created", "queued", "sent", "accepted", "succeeded"]
            sent = detail["transitions"][2]["detail"]
            assert sent == {"attempt": 1, "via": h.site.gateway, "message": message_id}
            assert detail["transitions"][4]["actor"] == lights[3]

            # The batch's children, a page at a time: each once (they share their
            # creation time; the cursor carries the id that breaks the tie).
            seen: list[str] = []
            cursor: str | None = None
            while True:
                query = f"limit=5&cursor={cursor}" if cursor else "limit=5"
                page = await h.get(
                    "admin", f"/api/v1/command-batches/{batch['id']}/commands?{query}"
                )
                seen += [c["id"] for c in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert sorted(seen) == sorted(c.id for c in rows.values())

            # Their state reported in bulk verifies them, as their own reports would.
            await cabinet.publish_bulk(
                "telemetry", {light: {"level_pct": 30.0, "power_w": 12.0} for light in lights}
            )

            async def verified() -> bool:
                found = await _commands_of(runtime, batch["id"])
                return sum(c.verification == "verified" for c in found) == len(lights)

            await wait_for(verified, 20)

            # A late duplicate changes nothing; a reply for a command it was never given
            # (the loner's) is refused for that entry alone, and counted.
            cabinet.answer = "failed"
            cabinet.answer_bulk(message_id, [rows[lights[0]].id, rows[h.site.other].id])
            await wait_for(lambda: _rejected(runtime, "unknown_command", 1))
            assert await _counts(h, batch["id"]) == {"succeeded": 13}
        finally:
            await cabinet.close()
            await loner.close()


@pytest.mark.parametrize("kind", ["mosquitto", "embedded"])
async def test_a_bulk_gateway_that_drops_off_mid_command_answers_when_back(
    kind: str, runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub(kind, runtime, system, tmp_path) as h:
        lights = [h.site.child, *await _more_lights(system, h.site.gateway, 3)]
        await h.gateway.directory.refresh(runtime.db)
        cabinet = BulkCabinet(h.url, h.site.gateway, h.site.secrets[h.site.gateway], h.site.gateway)
        cabinet.silent = True
        await cabinet.connect()
        try:
            await cabinet.announce(lights)
            body = {"type": "streetlight", "name": "dim", "params": {"level_pct": 55}}
            created = await _batch(
                h, "lighting", **body, target={"kind": "ids", "asset_ids": lights}
            )
            batch = created.json()

            async def received() -> bool:
                return bool(cabinet.messages)

            await wait_for(received, 20)
            await cabinet.close()  # gone before it answered
            await cabinet.connect()
            await cabinet.announce(lights)
            [(message_id, message)] = cabinet.messages
            # Its answer when back, and the same answer twice (a redelivered message).
            cabinet.answer_bulk(message_id, list(message["commands"].values()))
            cabinet.answer_bulk(message_id, list(message["commands"].values()))

            async def all_succeeded() -> bool:
                return await _counts(h, batch["id"]) == {"succeeded": len(lights)}

            await wait_for(all_succeeded, 20)
            for row in await _commands_of(runtime, batch["id"]):
                detail = await h.get("admin", f"/api/v1/commands/{row.id}")
                states = [t["state"] for t in detail["transitions"]]
                assert states == ["created", "queued", "sent", "accepted", "succeeded"], states
        finally:
            await cabinet.close()


async def test_four_eyes_retries_and_expiry_hold_over_the_bulk_form(
    runtime: Runtime, system: Context, tmp_path: Path
) -> None:
    async with hub("mosquitto", runtime, system, tmp_path) as h:
        lights = [h.site.child, *await _more_lights(system, h.site.gateway, 2)]
        await h.gateway.directory.refresh(runtime.db)
        cabinet = BulkCabinet(h.url, h.site.gateway, h.site.secrets[h.site.gateway], h.site.gateway)
        cabinet.silent = True
        await cabinet.connect()
        try:
            await cabinet.announce(lights)
            # Switching a whole commune off waits for a second person, bulk or not.
            off = {"type": "streetlight", "name": "switch", "params": {"on": False}}
            whole = {"kind": "commune", "commune": "talant"}
            held = (
                await _batch(h, "talant", **off, target=whole, reason="test", timeout_s=1)
            ).json()
            assert held["state"] == "awaiting_approval"
            own = await h.http.post(
                f"/api/v1/command-batches/{held['id']}/approve",
                headers=h.people["talant"].headers,
                json={},
            )
            assert own.status_code == 403
            await asyncio.sleep(0.5)
            assert not cabinet.messages  # nothing leaves before the approval
            approved = await h.http.post(
                f"/api/v1/command-batches/{held['id']}/approve",
                headers=h.people["super1"].headers,
                json={},
            )
            assert approved.status_code == 200, approved.text

            # Unanswered, each child is sent again after its timeout, still in bulk, and
            # ends with its own attempts counted.
            async def given_up() -> bool:
                counts = await _counts(h, held["id"])
                return counts.get("expired", 0) == len(lights)

            await wait_for(given_up, 30)
            assert len(cabinet.messages) == 3
            for _, message in cabinet.messages:
                assert set(message["commands"]) == set(lights)
                assert message["params"] == {"on": False}
            rows = await _commands_of(runtime, held["id"])
            assert {row.attempts for row in rows} == {3}
        finally:
            await cabinet.close()
