"""An override delivered in a schedule, through a real broker (Mosquitto), to a simulated
cabinet: the light it names reports the override's level, its neighbours the program's."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import orjson

from beffroi.devices import topics
from beffroi.lighting.calendar import parse_calendar
from beffroi.lighting.program import parse_program
from beffroi.lighting.schedule import content, override_json
from tests.integration.test_simulator_mqtt import EVENING, Spy, simulator, small_fleet
from tests.mqtt_support import start_mosquitto
from tests.unit.test_simulator_behaviours import LAT, LON

ROOT = "beffroi/v1"


async def test_a_delivered_override_lights_its_light_only(tmp_path: Path) -> None:
    fleet = small_fleet()
    lights = {a.id for a in fleet if a.parent_id == "LC-T1"}
    program = parse_program(
        {"steps": [{"anchor": "sunset", "level_pct": 30}, {"anchor": "sunrise", "level_pct": 0}]}
    )
    # An accident scene at 100 % on SL-T1, over the whole simulated stretch.
    accident = override_json(
        9, EVENING - timedelta(days=1), EVENING + timedelta(days=2), 100, ["SL-T1"]
    )
    body = content(
        cabinet_id="LC-T1",
        lat=LAT,
        lon=LON,
        timezone="Europe/Paris",
        calendar_id=1,
        calendar=parse_calendar({"default_program_id": 4}),
        programs={4: program},
        year=2024,
        overrides=[accident],
    )
    with start_mosquitto(tmp_path, allow_anonymous=True) as mosquitto:
        sim = simulator(mosquitto, fleet, bulk=True)
        stop = asyncio.Event()
        async with Spy(mosquitto, "spy-hub") as hub:
            task = asyncio.create_task(sim.run(stop))
            try:

                def levels() -> list[dict[str, float]]:
                    """The lights' levels, message by message of the cabinet's telemetry (a
                    light or a few in each)."""
                    return [
                        {c: r["values"]["level_pct"] for c, rs in b.items() for r in rs}
                        for t, b, _ in hub.on(topics.Channel.TELEMETRY, "LC-T1")
                        if t.bulk
                    ]

                await hub.wait_for(lambda: bool(levels()), "the cabinet's telemetry")
                await hub.client.publish(
                    topics.build(topics.schedule("LC-T1"), ROOT),
                    orjson.dumps({"version": 1, **body}),
                    qos=1,
                )
                await hub.wait_for(
                    lambda: (
                        [b for _, b, _ in hub.on(topics.Channel.SCHEDULE_ACK, "LC-T1")]
                        == [{"version": 1}]
                    ),
                    "the acknowledgement",
                )
                seen = len(levels())
                expected = {i: (100.0 if i == "SL-T1" else 30.0) for i in lights}

                def applied() -> bool:
                    latest: dict[str, float] = {}
                    for message in levels()[seen:]:
                        latest.update(message)
                    return {i: latest.get(i) for i in lights} == expected

                await hub.wait_for(applied, "the override on SL-T1, the program elsewhere")
            finally:
                stop.set()
                await asyncio.wait_for(task, 15)
