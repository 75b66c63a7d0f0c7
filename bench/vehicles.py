"""Vehicles benchmark: 500 service vehicles reporting every 5 s, stored as tracks and
latest positions and told to the map, beside the same fleet without vehicles.

One run, on the same database, broker and `beffroi gateway`, after a warm-up, phases
without and with vehicles in turn (``--rounds`` of them with vehicles, each between two
without), the medians compared, so that a drift of a shared machine cancels out:

- the baseline: the fleet's streetlights publishing (``--fleet-rate`` messages a second,
  3 values each) for ``--duration`` seconds;
- the same fleet with ``--vehicles`` vehicles publishing a position (4 values) every
  ``--every`` seconds beside it.

It prints the gateway's CPU (user + system, as a share of one core) in each, the load the
vehicles added, and checks every position reached the track and the latest positions.
Target (issue 19): the vehicles add under 5 % of a core.

    python -m bench.vehicles [--duration 60] [--rounds 2] [--vehicles 500] [--every 5]
                             [--fleet-rate 200] [--backend postgresql|sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import text
from tests.mqtt_support import start_mosquitto

from beffroi.assets.importing import import_assets
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Runtime
from beffroi.db import Database
from beffroi.simulator.fleet import generate_fleet
from bench.common import CpuMeter, bench_vehicles, postgres_available, scratch_database
from bench.ingest import BROKER_TUNING, _gateways
from bench.publisher import Job, run

ROOT = "beffroi/v1"
DRAIN_S = 5.0


async def _register(url: str, scale: float, vehicles: int) -> list[str]:
    """The fleet (its streetlights returned) and the bench's vehicles around Dijon."""
    db = Database(url)
    try:
        ctx = Runtime(load_settings(database_url=url), db).system_context("bench")
        await ensure_default_communes(ctx)
        fleet = [a for a in generate_fleet("dijon", scale=scale, seed=1) if a.type != "vehicle"]
        fleet += bench_vehicles(vehicles)
        report = await import_assets(ctx, list(enumerate(fleet, 1)), source="bench")
        assert not report.errors, report.errors[:3]
        return [a.id for a in fleet if a.type == "streetlight"]
    finally:
        await db.dispose()


def _drive(host: str, port: int, count: int, every: float, duration: float, start_at: float) -> int:
    """Publish ``count`` vehicles' positions every ``every`` s (QoS 1, each on its own
    topic, spread evenly over the period) for ``duration`` s; returns the messages sent."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-vehicles")
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    acked = threading.Semaphore(0)
    client.on_publish = lambda *_: acked.release()
    while time.time() < start_at:
        time.sleep(0.01)
    sent = 0
    step = every / count
    rounds = int(duration / every)
    for r in range(rounds):
        for n in range(count):
            due = start_at + r * every + n * step
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            angle = (r * every / 600 + n / count) * 2 * math.pi
            lon = 5.04 + 0.02 * math.cos(angle)
            lat = 47.32 + 0.013 * math.sin(angle)
            ts = datetime.fromtimestamp(due, UTC).isoformat(timespec="milliseconds")
            body = {
                "ts": ts,
                "values": {"lat": lat, "lon": lon, "speed_kmh": 30.0, "heading_deg": 90.0},
            }
            client.publish(
                f"{ROOT}/devices/VEH-BENCH-{n + 1:04d}/telemetry", orjson.dumps(body), qos=1
            )
            sent += 1
    deadline = time.time() + 30
    for _ in range(sent):
        if not acked.acquire(timeout=max(0.0, deadline - time.time())):
            break
    client.loop_stop()
    client.disconnect()
    return sent


def _measure(
    url: str,
    broker_port: int,
    gateway_pid: int,
    lights: list[str],
    args: argparse.Namespace,
    vehicles: bool,
) -> tuple[float, int]:
    """The gateway's CPU share of a core over one phase, and the vehicle messages sent."""
    meter = CpuMeter({"gateway": lambda: [gateway_pid]})
    start_at = time.time() + 1.0
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        fleet = pool.apply_async(
            run,
            (
                Job(
                    "127.0.0.1",
                    broker_port,
                    tuple(lights),
                    args.fleet_rate,
                    0,
                    args.duration,
                    start_at,
                    "fleet",
                ),
            ),
        )
        driven = (
            pool.apply_async(
                _drive,
                ("127.0.0.1", broker_port, args.vehicles, args.every, args.duration, start_at),
            )
            if vehicles
            else None
        )
        time.sleep(max(0.0, start_at - time.time()))
        meter.start()
        began = time.monotonic()
        fleet.get()
        sent = driven.get() if driven is not None else 0
        time.sleep(DRAIN_S)
        used = meter.stop()["gateway"]
        wall = time.monotonic() - began
    return used / wall, sent


async def _stored(url: str) -> tuple[int, int]:
    db = Database(url)
    try:
        async with db.read() as session:
            track = (await session.execute(text("SELECT count(*) FROM vehicle_track"))).scalar_one()
            latest = (
                await session.execute(text("SELECT count(*) FROM vehicle_positions"))
            ).scalar_one()
        return int(track), int(latest)
    finally:
        await db.dispose()


async def bench(backend: str, args: argparse.Namespace) -> None:
    """Both phases on one backend, printed."""
    async with scratch_database(backend) as url:
        lights = await _register(url, args.scale, args.vehicles)
        with tempfile.TemporaryDirectory(prefix="beffroi-vehicles-") as folder:
            broker = start_mosquitto(Path(folder), allow_anonymous=True, extra_config=BROKER_TUNING)
            try:
                with _gateways(url, broker.url, 1, Path(folder), "5") as gateways:
                    process, _ = gateways[0]

                    def phase(vehicles: bool) -> tuple[float, int]:
                        return _measure(url, broker.port, process.pid, lights, args, vehicles)

                    # A warm-up (the gateway's directory, statements, partitions), then
                    # the baseline on both sides of the measure with vehicles, so that a
                    # drift of the machine cancels out.
                    sent, baselines, loaded = (await asyncio.to_thread(phase, True))[1], [], []
                    for _ in range(args.rounds):
                        baselines.append((await asyncio.to_thread(phase, False))[0])
                        share, count = await asyncio.to_thread(phase, True)
                        loaded.append(share)
                        sent += count
                    baselines.append((await asyncio.to_thread(phase, False))[0])
            finally:
                broker.stop()
            track, latest = await _stored(url)
    rate = args.vehicles / args.every
    base, with_vehicles = statistics.median(baselines), statistics.median(loaded)
    added = with_vehicles - base
    print(
        f"[{backend}] fleet: {len(lights):,} streetlights publishing {args.fleet_rate:,.0f} msg/s"
    )
    print(
        f"[{backend}] baseline (the fleet without vehicles): gateway CPU {base:.1%} of a core "
        f"(median of {', '.join(f'{b:.1%}' for b in baselines)})"
    )
    print(
        f"[{backend}] with {args.vehicles} vehicles every {args.every:g} s ({rate:,.0f} msg/s): "
        f"gateway CPU {with_vehicles:.1%} of a core "
        f"(median of {', '.join(f'{v:.1%}' for v in loaded)})"
    )
    verdict = "OK" if added < 0.05 else "ABOVE TARGET"
    print(f"[{backend}] added by the vehicles: {added:.1%} of a core (target < 5 %: {verdict})")
    print(
        f"[{backend}] positions sent {sent:,}, in the track {track:,}, latest positions {latest:,}"
    )


def main() -> None:
    """Parse the arguments and run the benchmark on each backend asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--vehicles", type=int, default=500)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument(
        "--rounds", type=int, default=2, help="of a phase with vehicles between two without"
    )
    parser.add_argument("--fleet-rate", type=float, default=200.0)
    parser.add_argument("--scale", type=float, default=0.1, help="of the Dijon fleet")
    parser.add_argument("--backend", action="append", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    backends = args.backend or (["postgresql"] if asyncio.run(postgres_available()) else ["sqlite"])
    for backend in backends:
        asyncio.run(bench(backend, args))


if __name__ == "__main__":
    main()
