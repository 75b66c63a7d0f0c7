"""Alarm storm benchmark: fault events through the ingest pipeline, with and without the
alarm area following the stream.

Prints, in one run, on a scratch database (PostgreSQL by default) holding the Dijon fleet:

1. a storm of ``--events`` fault events (10,000) paced over ``--seconds`` (10 s), among
   them ``--cabinets`` lighting cabinets losing their supply with every one of their
   lights reporting it too (half the lights before their cabinet, half after), the rest
   raises, repeats and clears on random assets of every type: the latency from handing a
   message to the gateway's pipeline to its commit (p50, p99, max), with the alarm area
   (alarms raised, repeated, cleared and grouped in the ingest transaction, monitoring
   rules evaluated) beside the raw baseline, the same messages stored with no alarms and
   no rules; the added p99 is the figure (target under 1 s);
2. the same storm handed over at once: messages per second with alarms and without;
3. grouping: every stricken cabinet has one root alarm and every light alarm behind it is
   grouped under it; the operators' list (root causes only) beside the alarms raised.

    python -m bench.alarms [--backend postgresql|sqlite] [--scale 1.0] [--events 10000]
                           [--seconds 10] [--cabinets 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import delete, func, select

from beffroi import collector, logs
from beffroi.alarms.ingest import AlarmObserver
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.assets.importing import import_assets
from beffroi.catalogue import CATALOGUE
from beffroi.cli.demo import DEMO_RULES
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Runtime
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.gateway.pipeline import IngestPipeline
from beffroi.gateway.source import Inbound
from beffroi.rules import editing as rule_editing
from beffroi.rules.engine import RuleEngine
from beffroi.simulator.fleet import generate_fleet
from beffroi.telemetry.directory import DeviceDirectory
from beffroi.telemetry.events import DeviceEventReceived
from beffroi.telemetry.store import BatchObserver, TelemetryStore
from bench.common import postgres_available, scratch_database

ROOT = "beffroi/v1"
SLICES_PER_S = 50


@dataclass(frozen=True, slots=True)
class Storm:
    """The messages of a storm and what they should produce."""

    events: list[tuple[str, str, bool, int]]  # asset, code, active, offset in ms
    cabinets: dict[str, list[str]]  # stricken cabinet -> its lights


@dataclass(frozen=True, slots=True)
class Run:
    """Latencies (seconds) of one pass over a storm."""

    label: str
    latencies: list[float]
    seconds: float

    def q(self, fraction: float) -> float:
        """A percentile of the latencies."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def rate(self) -> float:
        """Messages per second over the pass."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def storm(fleet: Sequence[tuple[str, str, str | None]], size: int, cabinets: int) -> Storm:
    """A reproducible storm over ``fleet`` (id, type, parent)."""
    rng = random.Random(7)
    lights_of: dict[str, list[str]] = defaultdict(list)
    for asset_id, type_, parent in fleet:
        if type_ == "streetlight" and parent:
            lights_of[parent].append(asset_id)
    stricken = dict(sorted(lights_of.items())[:: max(1, len(lights_of) // cabinets)][:cabinets])
    out: list[tuple[str, str, bool]] = []
    for cabinet, lights in stricken.items():
        half = len(lights) // 2
        out += [(light, "supplyLoss", True) for light in lights[:half]]
        out.append((cabinet, "supplyLoss", True))
        out += [(light, "supplyLoss", True) for light in lights[half:]]
    faulty = [(a, t) for a, t, _ in fleet if CATALOGUE[t].faults]
    behind = {a for cabinet, lights in stricken.items() for a in (cabinet, *lights)}
    raised: list[tuple[str, str]] = []
    while len(out) < size:
        roll = rng.random()
        if raised and roll < 0.25:
            asset_id, code = raised.pop(rng.randrange(len(raised)))
            out.append((asset_id, code, False))
        elif raised and roll < 0.4:
            asset_id, code = rng.choice(raised)
            out.append((asset_id, code, True))
        else:
            asset_id, type_ = rng.choice(faulty)
            code = rng.choice(CATALOGUE[type_].faults).code
            if code == "supplyLoss" and asset_id in behind:
                # Noise clearing a stricken light's supply loss before its cabinet's would
                # make "grouped under the cabinet" ambiguous: the storm keeps them apart.
                continue
            raised.append((asset_id, code))
            out.append((asset_id, code, True))
    # Cabinet storms spread over the run rather than all at its start.
    rng.shuffle(out)
    ordered = sorted(out, key=lambda e: e[1] != "supplyLoss")
    span = len(ordered)
    return Storm(
        [(a, c, active, i) for i, (a, c, active) in enumerate(_interleave(ordered, span, rng))],
        stricken,
    )


def _interleave(
    items: list[tuple[str, str, bool]], span: int, rng: random.Random
) -> list[tuple[str, str, bool]]:
    """Spread the cabinet storms through the others, keeping each one's order."""
    grouped = [i for i in items if i[1] == "supplyLoss"]
    rest = [i for i in items if i[1] != "supplyLoss"]
    slots = sorted(rng.sample(range(span), len(grouped)))
    out: list[tuple[str, str, bool]] = []
    g = r = 0
    for position in range(span):
        if g < len(grouped) and slots[g] == position:
            out.append(grouped[g])
            g += 1
        elif r < len(rest):
            out.append(rest[r])
            r += 1
    return out


async def _fleet(runtime: Runtime, scale: float) -> list[tuple[str, str, str | None]]:
    ctx = runtime.system_context("bench")
    await ensure_default_communes(ctx)
    items = list(enumerate(generate_fleet("dijon", scale=scale, seed=1), start=1))
    await import_assets(ctx, items, source="bench")
    return [(a.id, a.type, a.parent_id) for _, a in items]


def _message(mid: int, event: tuple[str, str, bool, int], base: datetime) -> Inbound:
    asset_id, code, active, offset = event
    ts = base + timedelta(milliseconds=offset)
    body = orjson.dumps({"ts": ts.isoformat(), "code": code, "active": active})
    return Inbound(f"{ROOT}/devices/{asset_id}/events", body, utcnow(), mid, 1, 0)


async def _pass(
    runtime: Runtime,
    label: str,
    the_storm: Storm,
    alarms: bool,
    base: datetime,
    seconds: float | None,
) -> Run:
    """Hand the storm to a gateway pipeline (paced over ``seconds``, or at once) and time
    each message until its commit, seen as its event on the hub."""
    directory = DeviceDirectory()
    await directory.refresh(runtime.db)
    observers: list[BatchObserver] = []
    if alarms:
        # As in the gateway: the alarm area with the monitoring rules it evaluates.
        rules = RuleEngine(directory.get, timezone=runtime.settings.timezone)
        await rules.refresh(runtime.db)
        observers.append(AlarmObserver(rules))
    pipeline = IngestPipeline(
        TelemetryStore(runtime.db, observers=observers),
        directory,
        runtime.events,
        lambda _items: None,
        root=ROOT,
        retention=timedelta(days=3650),
    )
    handed: dict[tuple[str, str, bool, datetime], float] = {}
    latencies: list[float] = []
    expected = len({(a, c, act, o) for a, c, act, o in the_storm.events})
    done = asyncio.Event()
    subscription = runtime.events.subscribe(DeviceEventReceived, maxsize=len(the_storm.events) + 10)

    async def watch() -> None:
        while len(latencies) < expected:
            event = await subscription.get()
            sent = handed.get((event.asset_id, event.code, event.active, event.ts))
            if sent is not None:
                latencies.append(time.perf_counter() - sent)
        done.set()

    stop = asyncio.Event()
    worker = asyncio.create_task(pipeline.run(stop))
    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    messages = [_message(i + 1, e, base) for i, e in enumerate(the_storm.events)]
    slices = max(1, int((seconds or 0) * SLICES_PER_S))
    per_slice = -(-len(messages) // slices)
    for n in range(slices):
        part = messages[n * per_slice : (n + 1) * per_slice]
        now = time.perf_counter()
        for event in the_storm.events[n * per_slice : (n + 1) * per_slice]:
            ts = base + timedelta(milliseconds=event[3])
            handed[(event[0], event[1], event[2], ts)] = now
        pipeline.deliver_many(part)
        if seconds:
            await asyncio.sleep(max(0.0, started + (n + 1) / SLICES_PER_S - time.perf_counter()))
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - started
    stop.set()
    await worker
    watcher.cancel()
    subscription.close()
    return Run(label, latencies, elapsed)


async def _rules(runtime: Runtime) -> None:
    """The demo's monitoring rules, so the alarm pass pays for evaluating them too."""
    ctx = runtime.system_context("bench")
    for rule in DEMO_RULES:
        await rule_editing.create_rule(ctx, rule)


async def _reset_alarms(runtime: Runtime) -> None:
    async with runtime.db.write() as session:
        await session.execute(delete(AlarmHistory))
        await session.execute(delete(Alarm))


async def _grouping(runtime: Runtime, the_storm: Storm) -> tuple[int, int, int, int, int]:
    """(cabinets with one root, light alarms grouped under it, light alarms expected,
    open top-level alarms, alarms raised)."""
    async with runtime.db.read() as session:
        rows = (
            await session.execute(
                select(Alarm.id, Alarm.asset_id, Alarm.parent_id).where(
                    Alarm.alarm_type == "supplyLoss"
                )
            )
        ).all()
        top = (
            await session.execute(
                select(func.count()).where(Alarm.parent_id.is_(None), Alarm.active_key.is_not(None))
            )
        ).scalar_one()
        total = (await session.execute(select(func.count()).select_from(Alarm))).scalar_one()
    by_asset = defaultdict(list)
    for row in rows:
        by_asset[row.asset_id].append(row)
    roots_ok = grouped = expected = 0
    for cabinet, lights in the_storm.cabinets.items():
        roots = by_asset.get(cabinet, [])
        if len(roots) != 1:
            continue
        roots_ok += 1
        expected += len(lights)
        grouped += sum(
            1 for light in lights for row in by_asset.get(light, []) if row.parent_id == roots[0].id
        )
    return roots_ok, grouped, sum(len(v) for v in the_storm.cabinets.values()), top, total


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


async def bench(args: argparse.Namespace) -> int:
    async with scratch_database(args.backend) as url:
        settings = load_settings(database_url=url)
        db = Database(url)
        runtime = Runtime(settings, db)
        try:
            fleet = await _fleet(runtime, args.scale)
            the_storm = storm(fleet, args.events, args.cabinets)
            lights = sum(len(v) for v in the_storm.cabinets.values())
            base = utcnow() - timedelta(hours=6)
            hour = timedelta(hours=1)
            await _rules(runtime)
            raw = await _pass(runtime, "raw", the_storm, False, base, args.seconds)
            alarmed = await _pass(runtime, "alarms", the_storm, True, base + hour, args.seconds)
            grouping = await _grouping(runtime, the_storm)
            await _reset_alarms(runtime)
            raw_burst = await _pass(runtime, "raw", the_storm, False, base + 2 * hour, None)
            alarm_burst = await _pass(runtime, "alarms", the_storm, True, base + 3 * hour, None)
        finally:
            await db.dispose()
    print(
        f"\nalarm storm: {len(the_storm.events):,} fault events over {args.seconds:g} s "
        f"({lights} of them behind {len(the_storm.cabinets)} cabinet supply losses), "
        f"{args.backend}, fleet scale {args.scale:g} ({len(fleet):,} assets)"
    )
    print(f"  {'':24}{'p50':>11}{'p99':>11}{'max':>11}")
    for run in (raw, alarmed):
        name = "raw (no alarms, no rules)" if run is raw else "with alarms"
        print(f"  {name:24}{_ms(run.q(0.5))}{_ms(run.q(0.99))}{_ms(max(run.latencies))}")
    added = alarmed.q(0.99) - raw.q(0.99)
    verdict = "met" if added < 1.0 else "NOT met"
    print(f"  added latency at p99: {added * 1000:.1f} ms (target < 1000 ms: {verdict})")
    print(
        f"burst (all at once): with alarms {alarm_burst.rate:,.0f} msg/s, "
        f"raw {raw_burst.rate:,.0f} msg/s ({alarm_burst.rate / raw_burst.rate:.2f}x)"
    )
    roots, grouped, expected, top, total = grouping
    print(
        f"grouping: {roots}/{len(the_storm.cabinets)} cabinets with one root alarm; "
        f"{grouped}/{expected} light alarms grouped under it; "
        f"{total:,} alarms raised, {top:,} active on the operators' list (root causes only)"
    )
    ok = roots == len(the_storm.cabinets) and grouped == expected
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cabinets", type=int, default=20)
    args = parser.parse_args()
    logs.configure("WARNING", "console")
    if args.backend == "postgresql" and not asyncio.run(postgres_available()):
        print("PostgreSQL is not reachable: use --backend sqlite", file=sys.stderr)
        return 2
    return asyncio.run(bench(args))


if __name__ == "__main__":
    collector.tune()  # the hub here collects garbage as the beffroi command does
    sys.exit(main())
