"""Timetables delivered to the traffic controllers through the embedded broker, on both
databases: sent when stored, acknowledged and recorded, a controller behind shown, the
version in force sent again on reconnection, another controller's timetable out of reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from beffroi.core.context import Context, Runtime
from beffroi.devices import topics
from beffroi.devices.credentials import issue_credentials
from beffroi.devices.delivery import Reason, deliver
from beffroi.traffic import configuring, plans, timetables
from beffroi.traffic.delivery import TIMETABLES
from beffroi.traffic.schemas import ConfigIn, PlanIn, TimetableIn
from tests.integration.test_gateway import wait_for
from tests.integration.test_lighting_delivery import (
    Controller,
    _offline,
    _online,
    _true,
    running_gateway,
)
from tests.integration.traffic_support import CONFIG, controllers, plan

pytestmark = pytest.mark.asyncio
TABLE = {"entries": [{"days": [1, 2, 3, 4, 5, 6, 7], "start": "00:00", "plan": 1}]}


class TrafficController(Controller):
    """A traffic controller as a plain paho client: its timetable, its acknowledgements."""

    async def ack(self, payload: Any) -> None:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        await self._publish(self.topic(topics.timetable_ack(self.cabinet)), body)


async def _state(system: Context, cid: str) -> tuple[int, int | None, int | None, bool]:
    row = await timetables.get_timetable(system, cid)
    return row.version, row.delivered_version, row.acked_version, row.behind


async def _set_up(system: Context, *ids: str) -> None:
    await controllers(system, *ids)
    for cid in ids:
        await configuring.put_config(system, cid, ConfigIn.model_validate(CONFIG))
        await plans.put_plan(system, cid, PlanIn.model_validate(plan(1, 40, 30)))


async def test_timetables_reach_the_controllers_and_come_back_acknowledged(
    system: Context, runtime: Runtime, tmp_path: Path
) -> None:
    await _set_up(system, "TC-TAL-1", "TC-TAL-2")
    secrets = dict(await issue_credentials(system, ["TC-TAL-1", "TC-TAL-2"]))
    async with running_gateway("embedded", runtime, system, tmp_path) as (gateway, url):
        tc1 = TrafficController(url, "TC-TAL-1", secrets["TC-TAL-1"])
        await tc1.connect(subscribe_to=tc1.topic(topics.timetable("TC-TAL-1")))
        # TC-TAL-2 listens to TC-TAL-1's timetable: the broker lets nothing through.
        tc2 = TrafficController(url, "TC-TAL-2", secrets["TC-TAL-2"])
        await tc2.connect(subscribe_to=tc1.topic(topics.timetable("TC-TAL-1")))
        await wait_for(lambda: _online(gateway, "TC-TAL-1", "TC-TAL-2"))

        for cid in ("TC-TAL-1", "TC-TAL-2"):
            await timetables.put_timetable(system, cid, TimetableIn.model_validate(TABLE))
        await wait_for(lambda: _true(tc1.versions() == [1]))
        document = tc1.received[0]
        assert document["controller_id"] == "TC-TAL-1"
        assert document["timezone"] == "Europe/Paris"
        assert [p["cycle_s"] for p in document["plans"]] == [70]
        await tc1.ack({"version": 1})
        await wait_for(lambda: _same(_state(system, "TC-TAL-1"), (1, 1, 1, False)))
        assert await _state(system, "TC-TAL-2") == (1, 1, None, True)
        assert tc2.received == []
        behind = await timetables.list_timetables(system, behind=True)
        assert [t.controller_id for t in behind] == ["TC-TAL-2"]
        # An acknowledgement of a version never sent is ignored.
        ignored = gateway.timetables.acks_ignored
        await tc1.ack({"version": 7})
        await wait_for(lambda: _true(gateway.timetables.acks_ignored > ignored))

        # Away while its plan changes: version 2 waits, and comes on reconnection.
        await tc1.disconnect()
        await wait_for(lambda: _offline(gateway, "TC-TAL-1"))
        changed = PlanIn.model_validate(plan(1, 45, 35, version=1))
        await plans.put_plan(system, "TC-TAL-1", changed)
        await wait_for(lambda: _same(_state(system, "TC-TAL-1"), (2, 2, 1, True)))
        await tc1.connect(subscribe_to=tc1.topic(topics.timetable("TC-TAL-1")))
        await wait_for(lambda: _true(tc1.versions()[-1:] == [2]))
        assert tc1.received[-1]["plans"][0]["cycle_s"] == 80
        await tc1.ack({"version": 2})
        await wait_for(lambda: _same(_state(system, "TC-TAL-1"), (2, 2, 2, False)))
        await tc1.disconnect()
        await tc2.disconnect()
    # What was sent is marked: a compiled round sends nothing new.
    assert await deliver(TIMETABLES, system, Reason.COMPILED) == []


async def _same(state: Any, expected: tuple[Any, ...]) -> bool:
    return bool(await state == expected)
