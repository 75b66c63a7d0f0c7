"""Lighting schedules benchmark: compile every cabinet's schedule and deliver it through the
broker until every controller has acknowledged it (issue 15: the whole Dijon fleet, about
1,500 cabinets, all acknowledged in under 5 s).

The hub (the gateway with its schedule delivery) runs in this process; the cabinets are
the simulator's, in a process of their own, each on its own MQTT connection with its own
credentials (a private Mosquitto provisioned with Beffroi's password and ACL files, or the
embedded broker). They keep the schedule they are sent, acknowledge its version and run
it. Only the cabinets are registered and simulated: compiling and delivering reads and
concerns the cabinets alone, and 34,000 simulated lights would only load the machine.

Prints, in one run (scratch database, PostgreSQL by default, dropped at the end):

1. the first delivery: compile every schedule (version 1), then until every one is sent,
   and until every one is acknowledged in the database;
2. the same after a program change (every cabinet gets version 2);
3. the raw baseline: the same messages (the very documents) and an acknowledgement for
   each, between two plain paho clients on the same broker, no hub at all.

    python -m bench.lighting [--scale 1.0] [--backend postgresql|sqlite]
                             [--broker mosquitto|embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from beffroi import collector, logs
from beffroi.assets.importing import import_assets
from beffroi.cli.common import spawned
from beffroi.communes.service import ensure_default_communes
from beffroi.config import BrokerUrl, Settings, load_settings
from beffroi.core import process
from beffroi.core.context import Runtime, open_runtime
from beffroi.devices.credentials import issue_credentials
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.gateway.source import no_delay
from beffroi.lighting import service
from beffroi.lighting.calendar import CalendarRule
from beffroi.lighting.models import LightingDelivery, LightingSchedule
from beffroi.lighting.program import ProgramStep
from beffroi.lighting.schemas import (
    AssignmentCreate,
    CalendarCreate,
    ProgramCreate,
    ProgramUpdate,
    TargetKind,
)
from beffroi.simulator import Simulator, load_sim_fleet
from beffroi.simulator.fleet import generate_fleet
from bench.commands import _broker, _wait_online
from bench.common import postgres_available, scratch_database

TARGET_ACKED_S = 5.0
# The embedded broker takes its time over a SUBSCRIBE with 1,500 sessions open.
SUBSCRIBE_TIMEOUT_S = 60.0
CABINET = "lighting_cabinet"
RAW_ROOT = "bench-raw"  # the baseline's topics: out of the hub's subscriptions
NIGHT = [
    {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
    {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
    {"kind": "presence", "anchor": "time", "at": "01:00", "level_pct": 20,
     "presence_level_pct": 80, "hold_s": 120},
    {"anchor": "time", "at": "05:00", "level_pct": 100},
    {"anchor": "sunrise", "offset_min": 10, "level_pct": 0},
]  # fmt: skip
FULL = [{"anchor": "sunset", "level_pct": 100}, {"anchor": "sunrise", "level_pct": 0}]


def _now() -> float:
    return time.perf_counter()


async def _register(url: str, scale: float) -> tuple[int, dict[str, str]]:
    """The Dijon fleet's cabinets, a program library assigned to everybody, and each
    cabinet's secret; returns (cabinets, secrets)."""
    settings = load_settings(database_url=url)
    async with open_runtime(settings) as runtime:
        ctx = runtime.system_context("bench")
        await ensure_default_communes(ctx)
        fleet = [a for a in generate_fleet("dijon", scale=scale, seed=1) if a.type == CABINET]
        report = await import_assets(ctx, list(enumerate(fleet, start=1)), source="bench")
        if report.errors:
            raise RuntimeError(f"fleet import failed: {report.errors[:3]}")
        steps = [ProgramStep.model_validate(s) for s in NIGHT]
        night = await service.create_program(ctx, ProgramCreate(name="Nuit", steps=steps))
        full_steps = [ProgramStep.model_validate(s) for s in FULL]
        full = await service.create_program(ctx, ProgramCreate(name="Pleine", steps=full_steps))
        rules = [
            CalendarRule.model_validate(
                {"kind": "dates", "program_id": full.id, "dates": ["2026-12-24"], "annual": True}
            ),
            CalendarRule.model_validate(
                {"kind": "holidays", "program_id": full.id, "holidays": ["any"]}
            ),
        ]
        calendar = await service.create_calendar(
            ctx, CalendarCreate(name="Métropole", rules=rules, default_program_id=night.id)
        )
        await service.create_assignment(
            ctx, AssignmentCreate(calendar_id=calendar.id, target=TargetKind.DEFAULT)
        )
        secrets = dict(await issue_credentials(ctx, [a.id for a in fleet]))
        return len(fleet), secrets


def cabinets_main(
    settings_data: dict[str, Any], broker_url: BrokerUrl, secrets: dict[str, str], report: Any
) -> None:
    """The simulated cabinets, in real time, until SIGTERM or SIGINT; then their counters
    go back through ``report``."""
    current = Settings(**settings_data)
    logs.configure("WARNING", current.log_format)

    async def _main(stop: asyncio.Event) -> None:
        async with open_runtime(current) as runtime:
            ctx = runtime.system_context("bench-simulator")
            fleet, (latitude, longitude) = await load_sim_fleet(ctx, types=[CABINET])
        simulator = Simulator(
            fleet,
            secrets,
            broker_url,
            root=current.mqtt_root,
            latitude=latitude,
            longitude=longitude,
            fault_rate=0.0,
            command_failure_rate=0.0,
        )
        await simulator.run(stop)
        stats, engine = simulator.stats, simulator.engine.stats
        report.send(
            {
                "connects": stats.connects,
                "refused": stats.refused,
                "dropped": stats.messages_dropped,
                "schedules_taken": engine.schedules_taken,
                "schedules_refused": engine.schedules_refused,
            }
        )

    process.run(_main)


@dataclass(frozen=True, slots=True)
class Round:
    """One compilation and delivery: seconds from its start to each milestone."""

    changed: int
    compiled_s: float
    sent_s: float | None
    acked_s: float | None
    acked: int


async def _acked(runtime: Runtime, version: int) -> int:
    async with runtime.db.read() as session:
        return int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(LightingDelivery)
                    .join(LightingSchedule)
                    .where(
                        LightingDelivery.acked_version == LightingSchedule.version,
                        LightingSchedule.version == version,
                    )
                )
            ).scalar_one()
        )


async def _round(runtime: Runtime, gateway: Gateway, version: int, timeout_s: float) -> Round:
    """Compile every schedule (to ``version``) and wait until every cabinet acknowledged."""
    ctx = runtime.system_context("bench")
    sent_before = gateway.schedules.sent
    began = _now()
    changed = await service.compile_schedules(ctx)
    compiled_s = _now() - began
    sent_s = acked_s = None
    acked = 0
    while _now() - began < timeout_s:
        if sent_s is None and gateway.schedules.sent - sent_before >= len(changed):
            sent_s = _now() - began
        acked = await _acked(runtime, version)
        if acked >= len(changed):
            acked_s = _now() - began
            break
        await asyncio.sleep(0.02)
    return Round(len(changed), compiled_s, sent_s, acked_s, acked)


def raw_deliveries(
    host: str, port: int, username: str, password: str, payloads: list[bytes]
) -> float:
    """Seconds for client A to publish each payload (QoS 1) on a topic of its own, client B
    to receive it and publish an acknowledgement (QoS 1), and A to receive them all."""
    done = threading.Event()
    ready = threading.Barrier(3, timeout=SUBSCRIBE_TIMEOUT_S)
    got = 0
    lock = threading.Lock()

    def client(name: str) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
        c.username_pw_set(username, password)
        c.max_inflight_messages_set(0)
        c.on_socket_open = no_delay
        return c

    a, b = client("bench-raw-hub"), client("bench-raw-cabinets")

    def on_ack(_c: mqtt.Client, _u: Any, _m: mqtt.MQTTMessage) -> None:
        nonlocal got
        with lock:
            got += 1
            if got == len(payloads):
                done.set()

    def on_schedule(c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        version = orjson.loads(m.payload)["version"]
        c.publish(m.topic + "/ack", orjson.dumps({"version": version}), qos=1)

    a.on_message, b.on_message = on_ack, on_schedule

    def subscribed(*_args: Any) -> None:
        ready.wait()

    a.on_subscribe = b.on_subscribe = subscribed
    a.connect(host, port)
    b.connect(host, port)
    a.loop_start()
    b.loop_start()
    a.subscribe(f"{RAW_ROOT}/gateways/+/schedule/ack", qos=1)
    b.subscribe(f"{RAW_ROOT}/gateways/+/schedule", qos=1)
    ready.wait()
    began = _now()
    for index, payload in enumerate(payloads):
        a.publish(f"{RAW_ROOT}/gateways/C{index:05d}/schedule", payload, qos=1)
    finished = done.wait(60)
    elapsed = _now() - began
    for c in (a, b):
        c.disconnect()
        c.loop_stop()
    if not finished:
        raise RuntimeError(f"raw baseline: {got} of {len(payloads)} acknowledgements")
    return elapsed


async def bench(args: argparse.Namespace) -> int:
    """Fleet, broker, hub and simulated cabinets: two rounds and the baseline."""
    async with scratch_database(args.backend) as url:
        print(f"[{args.backend}] registering the cabinets (scale {args.scale}) …", flush=True)
        cabinets, secrets = await _register(url, args.scale)
        settings = load_settings(database_url=url, log_level="WARNING")
        logs.configure("WARNING", settings.log_format)
        with tempfile.TemporaryDirectory(prefix="beffroi-lighting-") as tmp:
            async with open_runtime(settings) as runtime, contextlib.AsyncExitStack() as stack:
                host, port, hub_port, hub_url, _pid = await stack.enter_async_context(
                    _broker(args, runtime, Path(tmp))
                )
                print(f"[{args.backend}] {args.broker} broker on {hub_url}", flush=True)
                gateway = Gateway(
                    runtime, broker_address(runtime, hub_url, embedded=args.broker == "embedded")
                )
                stop = asyncio.Event()
                task = asyncio.create_task(gateway.run(stop), name="gateway")

                async def _stop_hub() -> None:
                    stop.set()
                    await asyncio.wait([task], timeout=60)

                stack.push_async_callback(_stop_hub)
                await gateway.wait_connected()
                report, end = multiprocessing.get_context("spawn").Pipe()
                stack.enter_context(
                    spawned(
                        cabinets_main,
                        (settings.model_dump(), BrokerUrl(host, port), secrets, end),
                        "bench-cabinets",
                    )
                )
                end.close()
                began = _now()
                online = await _wait_online(runtime, cabinets, args.connect_timeout)
                print(
                    f"[{args.backend}] {online:,} of {cabinets:,} cabinets online after "
                    f"{_now() - began:.0f} s",
                    flush=True,
                )
                await asyncio.sleep(2)  # the last statuses' batches (and their deliveries)
                first = await _round(runtime, gateway, 1, args.timeout)
                ctx = runtime.system_context("bench")
                program = next(p for p in await service.list_programs(ctx) if p.name == "Nuit")
                steps = [ProgramStep.model_validate(s) for s in NIGHT[:2] + NIGHT[3:]]
                await service.update_program(
                    ctx, program.id, ProgramUpdate(version=program.version, steps=steps)
                )
                second = await _round(runtime, gateway, 2, args.timeout)
                async with runtime.db.read() as session:
                    documents = list(
                        (await session.execute(select(LightingSchedule.document))).scalars()
                    )
                payloads = [orjson.dumps(d) for d in documents]
                user, password = settings.mqtt_username, settings.hub_mqtt_password
                raw: float | str
                try:
                    raw = await asyncio.to_thread(
                        raw_deliveries, host, hub_port, user, password, payloads
                    )
                except (RuntimeError, OSError, threading.BrokenBarrierError) as exc:
                    raw = f"failed: {type(exc).__name__} {exc}"
                await _stop_hub()
        sim: dict[str, Any] = {}
        if await asyncio.to_thread(report.poll, 15):
            sim = report.recv()
    _print(args, cabinets, first, second, raw, payloads, sim)
    return 0


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:6.2f} s"


def _print(
    args: argparse.Namespace,
    cabinets: int,
    first: Round,
    second: Round,
    raw: float | str,
    payloads: list[bytes],
    sim: dict[str, Any],
) -> None:
    size = sum(len(p) for p in payloads) / max(len(payloads), 1)
    print(
        f"\nLighting schedules — {cabinets:,} cabinets (Dijon at scale {args.scale:g}), "
        f"{args.backend}, {args.broker}; schedule documents of {size:,.0f} bytes on average"
    )
    for title, r in (("1. first delivery", first), ("2. after a program change", second)):
        print(f"\n  {title}: {r.changed:,} versions moved")
        print(f"     compiled          {_s(r.compiled_s)}")
        print(f"     all sent          {_s(r.sent_s)}")
        print(f"     all acknowledged  {_s(r.acked_s)}   ({r.acked:,} of {r.changed:,})")
    print(
        f"\n  3. raw baseline, two plain paho clients on the same broker: {len(payloads):,} "
        "schedules out and an acknowledgement back for each (QoS 1): "
        + (raw if isinstance(raw, str) else _s(raw))
    )
    for title, r in (("first delivery", first), ("program change", second)):
        if r.acked_s is not None and not isinstance(raw, str):
            print(f"     {title}: {r.acked_s / raw:.1f}x the raw baseline")
    if sim:
        print(
            f"\n  simulated cabinets: {sim.get('schedules_taken', 0):,} schedules taken, "
            f"{sim.get('schedules_refused', 0)} refused, {sim.get('connects', 0):,} connects, "
            f"{sim.get('refused', 0)} connections refused, {sim.get('dropped', 0)} dropped"
        )
    verdicts = [
        (r.acked_s is not None and r.acked_s < TARGET_ACKED_S and r.acked == r.changed)
        for r in (first, second)
    ]
    print(
        f"\n  target (all acknowledged in under {TARGET_ACKED_S:g} s): "
        + "; ".join(
            f"{name} {'met' if ok else 'NOT met'}"
            for name, ok in zip(("first delivery", "program change"), verdicts, strict=True)
        )
    )


async def main() -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="of the Dijon fleet")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--broker", choices=["mosquitto", "embedded"], default="mosquitto")
    parser.add_argument("--connect-timeout", type=float, default=300)
    parser.add_argument("--timeout", type=float, default=60, help="per round, seconds")
    args = parser.parse_args()
    if args.backend == "postgresql" and not await postgres_available():
        print("PostgreSQL unreachable: skipped (set BEFFROI_BENCH_POSTGRES_URL)")
        return 0
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    print(
        "Beffroi lighting schedules benchmark — hub (gateway and schedule delivery) in this"
        " process; simulated cabinets in their own",
        flush=True,
    )
    try:
        return await bench(args)
    except asyncio.CancelledError:
        print("\ninterrupted: processes stopped, scratch database dropped", flush=True)
        return 130


if __name__ == "__main__":
    collector.tune()
    sys.exit(asyncio.run(main()))
