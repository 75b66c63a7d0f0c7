"""Ingest benchmark: devices -> Mosquitto -> `beffroi gateway` -> database, end to end.

Prints, in one run, per backend and per form of the device API (each device on its own
topic; field gateways speaking for their children in bulk, one reading of each of up to
``--children`` lights of a cabinet per message):
- data points per second stored, sustained while publishers send QoS 1 messages (3
  values a reading) from separate processes for ``--duration`` seconds, with stored ==
  sent checked;
- the CPU seconds of the gateway, PostgreSQL, Mosquitto and the publishers meanwhile (they
  share the machine);
- the raw baselines on this machine: the broker delivering the same messages (per-device
  and bulk) to ``mosquitto_sub``, and PostgreSQL ``COPY`` of the same rows;
- p99 latency from publish to queryable at half the sustained rate (a probe device);
- the gateway's memory with the directory of every known device (``--scale 3`` of Dijon
  is about 108,000 devices).

    python -m bench.ingest [--duration 60] [--rate 12000] [--bulk-rate 150000]
                           [--form device] [--form bulk] [--children 25] [--publishers 2]
                           [--backend postgresql] [--backend sqlite] [--gateways 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tests.mqtt_support import start_mosquitto

from beffroi.accounts import service as accounts
from beffroi.accounts import tokens
from beffroi.accounts.schemas import TokenCreate, UserCreate
from beffroi.assets.importing import import_assets
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Runtime
from beffroi.core.principal import Role
from beffroi.db import Database
from beffroi.simulator.fleet import generate_fleet
from beffroi.telemetry.models import LatestValue, TelemetryPoint
from bench.common import (
    CpuMeter,
    free_port,
    postgres_available,
    postgres_backends,
    scratch_database,
)
from bench.publisher import Job, Outcome, run

PROBE = "SL-DIJ-00001"
POINTS_PER_READING = 3
BROKER_TUNING = "\n".join(
    [
        # The gateway may hold a whole batch unacknowledged: let the broker queue generously.
        "max_queued_messages 5000000",
        "max_inflight_messages 0",
        "max_keepalive 120",
    ]
)


@dataclass(frozen=True, slots=True)
class Figures:
    """What one backend measured."""

    backend: str
    form: str
    devices: int
    sent: int  # messages
    acked: int
    acked_points: int
    stored: int  # points
    seconds: float
    window_rates: list[float]
    p50_ms: float
    p99_ms: float
    probes: int
    rss_mb: float
    peak_rss_mb: float
    # CPU seconds per process group from the first publish until everything was stored.
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        """Points per second, end to end."""
        return self.stored / self.seconds if self.seconds else 0.0


async def _fleet(url: str, scale: float) -> tuple[dict[str, str], str]:
    """Register the fleet; returns the streetlights (with their cabinet) and a token
    allowed to read metrics."""
    db = Database(url)
    try:
        ctx = Runtime(load_settings(database_url=url), db).system_context("bench")
        await ensure_default_communes(ctx)
        items = list(enumerate(generate_fleet("dijon", scale=scale, seed=1), start=1))
        await import_assets(ctx, items, source="bench")
        await accounts.create_user(
            ctx, UserCreate(username="bench", password="bench-password-1", roles=[Role.ADMIN])
        )
        _, token = await tokens.create_token(ctx, TokenCreate(name="bench", username="bench"))
        lights = {a.id: a.parent_id or "" for _, a in items if a.type == "streetlight"}
        return lights, token
    finally:
        await db.dispose()


def _points_written(ports: list[int], token: str) -> int:
    """Points the gateways wrote, from their Prometheus counters (cheap to ask often,
    unlike counting rows of a table of millions)."""
    total = 0
    for port in ports:
        text = httpx.get(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).text
        for line in text.splitlines():
            if line.startswith("beffroi_ingest_points_total "):
                total += int(float(line.split()[1]))
    return total


async def _count(db: Database) -> int:
    async with db.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(TelemetryPoint))).scalar_one()
        )


def _rss(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextlib.contextmanager
def _gateways(
    url: str, broker_url: str, count: int, folder: Path, protocol: str
) -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    processes = []
    for n in range(count):
        port = free_port()
        env = {
            **os.environ,
            "BEFFROI_DATABASE_URL": url,
            "BEFFROI_MQTT_URL": broker_url,
            "BEFFROI_MQTT_CLIENT_ID": f"bench-gateway-{n + 1}",
            "BEFFROI_MQTT_SHARED_GROUP": "beffroi" if count > 1 else "",
            "BEFFROI_LOG_LEVEL": "WARNING",
            "BEFFROI_INGEST_BATCH_SIZE": "5000",
            "BEFFROI_INGEST_QUEUE_MAX": "50000",
            "BEFFROI_MQTT_PROTOCOL": protocol,
        }
        log = (folder / f"gateway-{n + 1}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "beffroi", "gateway", "--metrics-port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append((process, port))
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start: see {folder}")
            time.sleep(0.2)
    time.sleep(2)  # subscriptions in place
    try:
        yield processes
    finally:
        for process, _ in processes:
            process.terminate()
        for process, _ in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


Groups = list[tuple[str, tuple[str, ...]]]


def bulk_groups(lights: dict[str, str], children: int) -> Groups:
    """(cabinet, up to ``children`` of its lights) for each bulk message of a round."""
    by_cabinet: dict[str, list[str]] = {}
    for light, cabinet in lights.items():
        by_cabinet.setdefault(cabinet, []).append(light)
    return [
        (cabinet, tuple(members[start : start + children]))
        for cabinet, members in sorted(by_cabinet.items())
        for start in range(0, len(members), children)
    ]


def _publish(
    host: str,
    port: int,
    devices: list[str],
    rate: float,
    count: int,
    duration: float,
    publishers: int,
    groups: Groups | None = None,
) -> list[Outcome]:
    slices = [tuple(devices[n::publishers]) for n in range(publishers)]
    group_slices = [tuple((groups or [])[n::publishers]) for n in range(publishers)]
    start_at = time.time() + 1.0
    jobs = [
        Job(
            host,
            port,
            slices[n],
            rate / publishers,
            count // publishers,
            duration,
            start_at,
            f"bench-pub-{n}",
            group_slices[n],
        )
        for n in range(publishers)
    ]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(publishers) as pool:
        return pool.map(run, jobs)


async def _probe(
    db_url: str, host: str, port: int, duration: float, every_s: float, cabinet: str | None
) -> list[float]:
    """Publish a probe reading (in its cabinet's bulk form, given ``cabinet``) and time
    until it is queryable; repeat."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-probe", protocol=mqtt.MQTTv311
    )
    client.connect(host, port)
    client.loop_start()
    latencies = []
    db = Database(db_url)
    try:
        end = time.monotonic() + duration
        while time.monotonic() < end:
            sent = datetime.now(UTC)
            reading = {"ts": sent.isoformat(), "values": {"level_pct": 1}}
            topic = f"beffroi/v1/devices/{PROBE}/telemetry"
            if cabinet is not None:
                topic, reading = f"beffroi/v1/gateways/{cabinet}/telemetry", {PROBE: reading}
            payload = orjson.dumps(reading)
            start = time.perf_counter()
            client.publish(topic, payload, qos=1)
            while True:
                async with db.read() as session:
                    seen = (
                        await session.execute(
                            select(LatestValue.ts).where(
                                LatestValue.asset_id == PROBE, LatestValue.key == "level_pct"
                            )
                        )
                    ).scalar()
                if seen is not None and seen >= sent:
                    latencies.append(time.perf_counter() - start)
                    break
                if time.perf_counter() - start > 30:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(max(0.0, every_s - (time.perf_counter() - start)))
    finally:
        await db.dispose()
        client.disconnect()
        client.loop_stop()
    return latencies


async def bench_backend(args: argparse.Namespace, backend: str, form: str) -> Figures:
    """Fleet, broker, gateway(s), publishers, probe: one backend and one form end to end."""
    async with scratch_database(backend) as url:
        print(f"[{backend}, {form}] registering the fleet (scale {args.scale}) …", flush=True)
        lights, token = await _fleet(url, args.scale)
        probe_cabinet = lights.pop(PROBE) if form == "bulk" else None
        lights.pop(PROBE, None)
        devices = list(lights)
        groups = bulk_groups(lights, args.children) if form == "bulk" else None
        # Messages per second: the bulk form's rate is given in points.
        if groups:
            per_message = POINTS_PER_READING * len(devices) / len(groups)
            rate = args.bulk_rate / per_message
        else:
            per_message, rate = POINTS_PER_READING, args.rate
        db = Database(url)
        with tempfile.TemporaryDirectory(prefix="beffroi-ingest-") as folder:
            broker = start_mosquitto(Path(folder), allow_anonymous=True, extra_config=BROKER_TUNING)
            try:
                with _gateways(
                    url, broker.url, args.gateways, Path(folder), args.protocol
                ) as gateways:
                    print(
                        f"[{backend}, {form}] publishing {rate:,.0f} msg/s "
                        f"({rate * per_message:,.0f} points/s) for {args.duration:.0f} s …",
                        flush=True,
                    )
                    ports = [port for _, port in gateways]
                    samples: list[tuple[float, int]] = []

                    async def sample() -> None:
                        while True:
                            written = await asyncio.to_thread(_points_written, ports, token)
                            samples.append((time.monotonic(), written))
                            await asyncio.sleep(5)

                    sampler = asyncio.create_task(sample())
                    database = make_url(url).database or ""
                    meter = CpuMeter(
                        {
                            "gateway": lambda: [p.pid for p, _ in gateways],
                            "PostgreSQL": lambda: postgres_backends(database),
                            "Mosquitto": lambda: [broker.pid],
                        }
                    )
                    meter.start()
                    outcomes = await asyncio.to_thread(
                        _publish,
                        "127.0.0.1",
                        broker.port,
                        devices,
                        rate,
                        0,
                        args.duration,
                        args.publishers,
                        groups,
                    )
                    sent = sum(o.sent for o in outcomes)
                    acked = sum(o.acknowledged for o in outcomes)
                    acked_points = sum(o.points_acknowledged for o in outcomes)
                    first = min(o.first for o in outcomes)
                    deadline = time.monotonic() + 600
                    stored = 0
                    # What the broker acknowledged must all be stored (a publisher that gave
                    # up waiting for acknowledgements may not have delivered the rest).
                    while time.monotonic() < deadline:
                        written = await asyncio.to_thread(_points_written, ports, token)
                        if written >= acked_points:
                            break
                        await asyncio.sleep(0.1)
                    done = time.time()
                    cpu = meter.stop()
                    cpu["publishers"] = sum(o.cpu_s for o in outcomes)
                    stored = await _count(db)  # the exact figure, from the table
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
                    windows = [
                        (b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(samples)
                    ]
                    # Half of the rate just measured, in messages per second.
                    half_rate = stored / per_message / (done - first) / 2
                    print(f"[{backend}, {form}] latency probe at half rate …", flush=True)
                    half = asyncio.create_task(
                        asyncio.to_thread(
                            _publish,
                            "127.0.0.1",
                            broker.port,
                            devices,
                            half_rate,
                            0,
                            args.probe_s,
                            args.publishers,
                            groups,
                        )
                    )
                    await asyncio.sleep(3)
                    latencies = await _probe(
                        url, "127.0.0.1", broker.port, args.probe_s - 6, 0.05, probe_cabinet
                    )
                    await half
                    rss, peak = _rss(gateways[0][0].pid)
            finally:
                broker.stop()
        await db.dispose()
    latencies.sort()

    def percentile_ms(q: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    if acked != sent:
        print(f"[{backend}] WARNING: {sent - acked} messages not acknowledged by the broker")
    return Figures(
        backend,
        form,
        len(devices) + 1,
        sent,
        acked,
        acked_points,
        stored,
        done - first,
        windows,
        percentile_ms(0.5),
        percentile_ms(0.99),
        len(latencies),
        rss,
        peak,
        cpu,
    )


def _raw_broker(
    count: int, devices: list[str], publishers: int, groups: Groups | None = None
) -> tuple[float, int]:
    """Messages per second the broker delivers to mosquitto_sub (same messages, QoS 1; in
    the bulk form given ``groups``), and how many arrived."""
    channel = "gateways" if groups else "devices"
    with tempfile.TemporaryDirectory(prefix="beffroi-raw-") as folder:
        received = Path(folder) / "received"
        broker = start_mosquitto(Path(folder), allow_anonymous=True, extra_config=BROKER_TUNING)
        try:
            with received.open("wb") as sink:
                sub = subprocess.Popen(
                    ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
                     "-t", f"beffroi/v1/{channel}/+/telemetry", "-C", str(count), "-W", "300"],
                    stdout=sink,
                )  # fmt: skip
                time.sleep(1)
                outcomes = _publish(
                    "127.0.0.1", broker.port, devices, 0, count, 600, publishers, groups
                )
                # Until everything arrived, or nothing more arrives for 5 s.
                lines, still = -1, time.monotonic()
                end = time.time()
                while sub.poll() is None and time.monotonic() - still < 5:
                    now_lines = received.read_bytes().count(b"\n")
                    if now_lines != lines:
                        lines, still, end = now_lines, time.monotonic(), time.time()
                    time.sleep(0.05)
                sub.kill()
                sub.wait()
                lines = received.read_bytes().count(b"\n")
        finally:
            broker.stop()
    first = min(o.first for o in outcomes)
    return lines / (end - first), lines


async def _raw_copy(rows: int) -> float:
    """Rows per second PostgreSQL takes by COPY into a table keyed like telemetry_points."""
    async with scratch_database("postgresql") as url:
        conn = await asyncpg.connect(
            make_url(url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            await conn.execute(
                "CREATE TABLE raw_points (asset_id text, key text, ts timestamptz, value float8,"
                " text text, PRIMARY KEY (asset_id, key, ts))"
            )
            base = datetime.now(UTC) - timedelta(hours=1)
            records = [
                (f"SL-{n % 100_000:06d}", key, base + timedelta(microseconds=n), 1.0, None)
                for n in range(rows // 3)
                for key in ("level_pct", "power_w", "voltage_v")
            ]
            start = time.perf_counter()
            await conn.copy_records_to_table("raw_points", records=records)
            return len(records) / (time.perf_counter() - start)
        finally:
            await conn.close()


def _print_backend(r: Figures) -> None:
    missing = max(0, r.acked_points - r.stored)
    steady = statistics.median(r.window_rates) if r.window_rates else 0.0
    lowest = min(r.window_rates or [0.0])
    form = "each device on its own topic" if r.form == "device" else "in bulk, by cabinet"
    print(f"\n{r.backend}, {form}: {r.devices} devices known to the gateway", flush=True)
    print(f"  sent {r.sent} messages ({r.acked} acknowledged by the broker)")
    print(f"  stored {r.stored} points, of the {r.acked_points} acknowledged missing {missing}")
    print(f"  end to end      {r.rate:10,.0f} points/s over {r.seconds:.1f} s")
    print(f"  5 s windows     {steady:10,.0f} points/s median (lowest {lowest:,.0f})")
    print(
        f"  latency         p50 {r.p50_ms:.0f} ms, p99 {r.p99_ms:.0f} ms, publish to "
        f"queryable at half rate ({r.probes} probes)"
    )
    print(f"  gateway memory  {r.rss_mb:.0f} MB at the end, {r.peak_rss_mb:.0f} MB peak")
    print(
        "  CPU seconds     "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in r.cpu.items())
        + f", over {r.seconds:.1f} s on {os.cpu_count()} cores"
    )
    if r.backend == "postgresql":
        goal = 100_000 if r.form == "bulk" else 30_000
        verdicts = [
            (f"{goal:,} points/s", r.rate >= goal),
            ("p99 under 1 s", r.p99_ms < 1000),
            ("gateway under 300 MB", r.peak_rss_mb < 300),
            ("nothing lost", missing == 0),
        ]
        print("  targets: " + "; ".join(f"{n} {'met' if ok else 'NOT met'}" for n, ok in verdicts))


def _print_baselines(
    raw_broker: float | None, raw_bulk: float | None, raw_copy: float | None
) -> None:
    print("\nraw baselines on this machine", flush=True)
    if raw_broker is not None:
        print(f"  Mosquitto to mosquitto_sub  {raw_broker:10,.0f} points/s (per-device messages)")
    if raw_bulk is not None:
        print(f"  Mosquitto to mosquitto_sub  {raw_bulk:10,.0f} points/s (bulk messages)")
    if raw_copy is not None:
        print(f"  PostgreSQL COPY             {raw_copy:10,.0f} rows/s (same rows)")


async def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--rate", type=float, default=12_000, help="messages per second")
    parser.add_argument(
        "--bulk-rate", type=float, default=150_000, help="points per second offered in bulk"
    )
    parser.add_argument("--children", type=int, default=25, help="lights per bulk message")
    parser.add_argument("--form", action="append", choices=["device", "bulk"])
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--protocol", choices=["5", "3.1.1"], default="5")
    parser.add_argument("--scale", type=float, default=3.0)
    parser.add_argument("--probe-s", type=float, default=40)
    parser.add_argument("--backend", action="append", choices=["postgresql", "sqlite"])
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    backends = args.backend or ["postgresql", "sqlite"]
    if "postgresql" in backends and not await postgres_available():
        print("PostgreSQL unreachable: skipped")
        backends.remove("postgresql")
    print(
        f"Beffroi ingest benchmark — {args.publishers} publisher processes, QoS 1, "
        f"3 values per message, {args.gateways} gateway process(es)",
        flush=True,
    )
    for backend in backends:
        for form in args.form or ["bulk", "device"]:
            _print_backend(await bench_backend(args, backend, form))
    raw_broker = raw_bulk = raw_copy = None
    if not args.no_baselines:
        print("raw baselines …", flush=True)
        forms = args.form or ["bulk", "device"]
        n = int(args.rate * min(args.duration, 20))
        devices = [f"SL-{i:06d}" for i in range(100_000)]
        if "device" in forms:
            rate, arrived = await asyncio.to_thread(_raw_broker, n, devices, args.publishers)
            raw_broker = rate * POINTS_PER_READING
            if arrived != n:
                print(f"raw broker baseline: {arrived} of {n} messages arrived")
        if "bulk" in forms:
            # The same shape of bulk message as the gateway took: cabinets of fake lights.
            lights = {d: f"LC-{i // args.children:05d}" for i, d in enumerate(devices)}
            groups = bulk_groups(lights, args.children)
            m = int(args.bulk_rate * min(args.duration, 20) / POINTS_PER_READING / args.children)
            rate, arrived = await asyncio.to_thread(
                _raw_broker, m, devices, args.publishers, groups
            )
            raw_bulk = rate * POINTS_PER_READING * args.children
            if arrived != m:
                print(f"raw broker baseline (bulk): {arrived} of {m} messages arrived")
        if await postgres_available():
            raw_copy = await _raw_copy(n * 3)
    _print_baselines(raw_broker, raw_bulk, raw_copy)


if __name__ == "__main__":
    asyncio.run(main())
