"""Traffic timetables benchmark: validate and deliver the timetables of every controller
of the fleet (issue 17: the 113 controllers of the reference city, validated, delivered
and acknowledged in under 2 s), PostgreSQL and Mosquitto by default.

The hub (the gateway with its timetable delivery) runs in this process; the controllers
are the simulator's, in a process of their own, each on its own MQTT connection with its
own credentials. They keep the timetable they are sent, acknowledge its version and run it.

Prints, in one run (scratch database, dropped at the end):

1. the first delivery: every controller's configuration, plans and timetable checked by
   the validator and written (one transaction), then until every timetable is sent, and
   until every one is acknowledged in the database;
2. the raw baseline: the same documents and an acknowledgement for each, between two
   plain paho clients on the same broker, no hub at all.

    python -m bench.traffic_timetables [--scale 1.0] [--backend postgresql|sqlite]
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
from pathlib import Path
from typing import Any

import orjson
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
from beffroi.simulator import Simulator, load_sim_fleet
from beffroi.simulator.fleet import generate_fleet
from beffroi.simulator.fleet_traffic import setup_fleet
from beffroi.traffic.models import TrafficDelivery, TrafficTimetable
from bench.commands import _broker, _wait_online
from bench.common import postgres_available, scratch_database
from bench.lighting import raw_deliveries

TARGET_S = 2.0
CONTROLLER = "traffic_controller"


def _now() -> float:
    return time.perf_counter()


async def _register(url: str, scale: float) -> tuple[int, dict[str, str]]:
    """The fleet's traffic controllers and their secrets: (controllers, secrets)."""
    settings = load_settings(database_url=url)
    async with open_runtime(settings) as runtime:
        ctx = runtime.system_context("bench")
        await ensure_default_communes(ctx)
        fleet = [a for a in generate_fleet("dijon", scale=scale, seed=1) if a.type == CONTROLLER]
        report = await import_assets(ctx, list(enumerate(fleet, start=1)), source="bench")
        if report.errors:
            raise RuntimeError(f"fleet import failed: {report.errors[:3]}")
        secrets = dict(await issue_credentials(ctx, [a.id for a in fleet]))
        return len(fleet), secrets


def controllers_main(
    settings_data: dict[str, Any], broker_url: BrokerUrl, secrets: dict[str, str], report: Any
) -> None:
    """The simulated controllers, in real time, until SIGTERM or SIGINT; then their
    counters go back through ``report``."""
    current = Settings(**settings_data)
    logs.configure("WARNING", current.log_format)

    async def _main(stop: asyncio.Event) -> None:
        async with open_runtime(current) as runtime:
            ctx = runtime.system_context("bench-simulator")
            fleet, (latitude, longitude) = await load_sim_fleet(ctx, types=[CONTROLLER])
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
        engine = simulator.engine.stats
        report.send({"taken": engine.schedules_taken, "refused": engine.schedules_refused})

    process.run(_main)


async def _acked(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        stmt = (
            select(func.count())
            .select_from(TrafficDelivery)
            .join(TrafficTimetable)
            .where(TrafficDelivery.acked_version == TrafficTimetable.version)
        )
        return int((await session.execute(stmt)).scalar_one())


async def _round(
    runtime: Runtime, gateway: Gateway, timeout_s: float
) -> tuple[int, float, float | None, float | None]:
    """Validate and write every setup, then wait until every controller acknowledged:
    (controllers, validated and written s, all sent s, all acknowledged s)."""
    ctx = runtime.system_context("bench")
    sent_before = gateway.timetables.sent
    began = _now()
    done = await setup_fleet(ctx)
    written_s = _now() - began
    sent_s = acked_s = None
    while _now() - began < timeout_s:
        if sent_s is None and gateway.timetables.sent - sent_before >= len(done):
            sent_s = _now() - began
        if await _acked(runtime) >= len(done):
            acked_s = _now() - began
            break
        await asyncio.sleep(0.01)
    return len(done), written_s, sent_s, acked_s


async def bench(args: argparse.Namespace) -> int:
    """Fleet, broker, hub and simulated controllers: one delivery and the baseline."""
    async with scratch_database(args.backend) as url:
        print(f"[{args.backend}] registering the controllers (scale {args.scale}) …", flush=True)
        count, secrets = await _register(url, args.scale)
        settings = load_settings(database_url=url, log_level="WARNING")
        logs.configure("WARNING", settings.log_format)
        with tempfile.TemporaryDirectory(prefix="beffroi-traffic-") as tmp:
            async with open_runtime(settings) as runtime, contextlib.AsyncExitStack() as stack:
                host, port, hub_port, hub_url, _pid = await stack.enter_async_context(
                    _broker(args, runtime, Path(tmp))
                )
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
                        controllers_main,
                        (settings.model_dump(), BrokerUrl(host, port), secrets, end),
                        "bench-controllers",
                    )
                )
                end.close()
                online = await _wait_online(runtime, count, args.connect_timeout)
                print(f"[{args.backend}] {online} of {count} controllers online", flush=True)
                await asyncio.sleep(2)  # the last statuses' batches
                moved, written_s, sent_s, acked_s = await _round(runtime, gateway, args.timeout)
                async with runtime.db.read() as session:
                    documents = list(
                        (await session.execute(select(TrafficTimetable.document))).scalars()
                    )
                payloads = [orjson.dumps(d) for d in documents]
                raw: float | str
                try:
                    raw = await asyncio.to_thread(
                        raw_deliveries,
                        host,
                        hub_port,
                        settings.mqtt_username,
                        settings.hub_mqtt_password,
                        payloads,
                    )
                except (RuntimeError, OSError, threading.BrokenBarrierError) as exc:
                    raw = f"failed: {type(exc).__name__} {exc}"
                await _stop_hub()
        sim: dict[str, Any] = {}
        if await asyncio.to_thread(report.poll, 15):
            sim = report.recv()
    _print(args, count, moved, written_s, sent_s, acked_s, raw, payloads, sim)
    return 0


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:6.3f} s"


def _print(
    args: argparse.Namespace,
    count: int,
    moved: int,
    written_s: float,
    sent_s: float | None,
    acked_s: float | None,
    raw: float | str,
    payloads: list[bytes],
    sim: dict[str, Any],
) -> None:
    size = sum(len(p) for p in payloads) / max(len(payloads), 1)
    print(
        f"\nTraffic timetables — {count} controllers (Dijon at scale {args.scale:g}), "
        f"{args.backend}, {args.broker}; timetable documents of {size:,.0f} bytes on average"
    )
    print(f"\n  1. validate and deliver: {moved} controllers set up")
    print(f"     validated and written  {_s(written_s)}")
    print(f"     all sent               {_s(sent_s)}")
    print(f"     all acknowledged       {_s(acked_s)}")
    print(
        f"\n  2. raw baseline, two plain paho clients on the same broker: {len(payloads)} "
        "timetables out and an acknowledgement back for each (QoS 1): "
        + (raw if isinstance(raw, str) else _s(raw))
    )
    if acked_s is not None and not isinstance(raw, str) and raw > 0:
        print(f"     delivery: {acked_s / raw:.1f}x the raw baseline")
    if sim:
        print(
            f"\n  simulated controllers: {sim['taken']} timetables taken, {sim['refused']} refused"
        )
    met = acked_s is not None and acked_s < TARGET_S and moved == count
    print(
        f"\n  target (validated, delivered, acknowledged in under {TARGET_S:g} s): "
        + ("met" if met else "NOT met")
    )


async def main() -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="of the Dijon fleet")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--broker", choices=["mosquitto", "embedded"], default="mosquitto")
    parser.add_argument("--connect-timeout", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=30, help="seconds")
    args = parser.parse_args()
    if args.backend == "postgresql" and not await postgres_available():
        print("PostgreSQL unreachable: skipped (set BEFFROI_BENCH_POSTGRES_URL)")
        return 0
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await bench(args)
    except asyncio.CancelledError:
        print("\ninterrupted: processes stopped, scratch database dropped", flush=True)
        return 130


if __name__ == "__main__":
    collector.tune()
    sys.exit(asyncio.run(main()))
