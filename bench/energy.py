"""Energy benchmark: the metropolis's yearly report over daily totals, on PostgreSQL.

Seeds ``energy_daily`` with 34,000 lights (and their cabinets) × 365 days by COPY, derives
``energy_daily_cabinets`` from it as the rollup does, then times, in the same run, the
yearly metropolis report through the service (target under 300 ms) beside a raw
``SELECT sum(energy_wh) FROM energy_daily WHERE day BETWEEN …`` over the same year.

With ``--with-rollup``, also imports the Dijon fleet into a second scratch database,
seeds two days of hourly rollups of its meters, and times one day's totals recomputed
(what the hourly job does twice).

    python -m bench.energy [--lights 34000] [--days 365] [--repeat 7] [--with-rollup]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from beffroi.assets.importing import import_assets
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Runtime
from beffroi.db import Database
from beffroi.energy import report
from beffroi.energy.rollup import roll_days
from beffroi.energy.schemas import Granularity, Level
from beffroi.simulator.fleet import generate_fleet
from bench.common import Timing, postgres_available, scratch_database

TARGET_S = 0.3
FIRST = date(2025, 1, 1)
LIGHTS_PER_CABINET = 30
COMMUNES = ("dijon", "talant", "chenove", "fontaine-les-dijon", "quetigny", "longvic")

SUMMARY = """
INSERT INTO energy_daily_cabinets
SELECT day, cabinet_id, commune_code,
       count(*) FILTER (WHERE asset_type = 'streetlight'),
       coalesce(sum(energy_wh) FILTER (WHERE asset_type = 'streetlight'), 0),
       coalesce(sum(offpeak_wh) FILTER (WHERE asset_type = 'streetlight'), 0),
       coalesce(sum(energy_wh) FILTER (WHERE asset_type = 'streetlight'
                                       AND baseline_wh IS NOT NULL), 0),
       coalesce(sum(baseline_wh) FILTER (WHERE asset_type = 'streetlight'), 0),
       coalesce(sum(burning_h) FILTER (WHERE asset_type = 'streetlight'), 0),
       sum(energy_wh) FILTER (WHERE asset_type = 'lighting_cabinet'),
       sum(offpeak_wh) FILTER (WHERE asset_type = 'lighting_cabinet')
FROM energy_daily GROUP BY day, cabinet_id, commune_code
"""

COMMUNES_SUMMARY = """
INSERT INTO energy_daily_communes
SELECT day, commune_code, sum(lights), sum(energy_wh), sum(offpeak_wh), sum(compared_wh),
       sum(baseline_wh), sum(burning_h), sum(supply_wh), sum(supply_offpeak_wh)
FROM energy_daily_cabinets GROUP BY day, commune_code
"""


def _rows(lights: int, days: int) -> Iterator[tuple[object, ...]]:
    """Plausible daily rows, generated as COPY takes them (twelve million tuples held at
    once would need gigabytes): 20-150 W LEDs burning 8-16 h at 70 % on average."""
    rng = random.Random(1)
    cabinets = max(1, lights // LIGHTS_PER_CABINET)
    for n in range(lights):
        cabinet = f"LC-{n % cabinets:05d}"
        commune = COMMUNES[(n % cabinets) % len(COMMUNES)]
        watts = rng.choice((20, 30, 40, 55, 75, 100, 150))
        former = watts * 3.3
        for d in range(days):
            day = FIRST + timedelta(days=d)
            hours = 12 + 4 * math.cos(2 * math.pi * d / 365)
            energy = watts * hours * 0.7
            yield (
                (
                    f"SL-{n:06d}",
                    day,
                    "streetlight",
                    commune,
                    cabinet,
                    energy,
                    energy * 0.6,
                    hours,
                    former * 4100 / 365,
                )
            )
    for c in range(cabinets):
        for d in range(days):
            day = FIRST + timedelta(days=d)
            yield (
                (
                    f"LC-{c:05d}",
                    day,
                    "lighting_cabinet",
                    COMMUNES[c % len(COMMUNES)],
                    f"LC-{c:05d}",
                    30_000.0,
                    18_000.0,
                    None,
                    None,
                )
            )


async def _seed(url: str, lights: int, days: int) -> tuple[int, float]:
    parts = make_url(url)
    conn = await asyncpg.connect(
        host=parts.host,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        database=parts.database,
    )
    try:
        start = time.perf_counter()
        copied = await conn.copy_records_to_table(
            "energy_daily",
            records=_rows(lights, days),
            columns=[
                "asset_id",
                "day",
                "asset_type",
                "commune_code",
                "cabinet_id",
                "energy_wh",
                "offpeak_wh",
                "burning_h",
                "baseline_wh",
            ],
        )
        # Seeding only: the sums of a whole year at once spill to disk at the default 4 MB.
        await conn.execute("SET work_mem = '256MB'")
        await conn.execute(SUMMARY)
        await conn.execute(COMMUNES_SUMMARY)
        await conn.execute(
            "ANALYZE energy_daily; ANALYZE energy_daily_cabinets; ANALYZE energy_daily_communes"
        )
        return int(copied.split()[-1]), time.perf_counter() - start
    finally:
        await conn.close()


async def _time(call: object, repeat: int) -> Timing:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return Timing(tuple(samples))


def _rollups(lights: list[str], cabinets: list[str], day: date) -> Iterator[tuple[object, ...]]:
    """Hourly rollups of every light's and cabinet's counters over ``day`` and the day
    before (its lookback), readings every 15 minutes."""
    start = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
    metered: list[tuple[str, tuple[str, ...]]] = [(a, ("energy_wh", "lamp_hours")) for a in lights]
    metered += [(c, ("energy_wh",)) for c in cabinets]
    for asset_id, keys in metered:
        for key in keys:
            value = 1000.0
            for hour in range(48):
                step = 10.0 if key == "energy_wh" else 0.25
                low, value = value + step, value + 4 * step
                yield (
                    asset_id,
                    key,
                    start + timedelta(hours=hour),
                    4,
                    2 * (low + value),
                    low,
                    value,
                )


async def rollup_run(url: str, repeat: int) -> Timing:
    """The whole fleet imported (its 34,000 lights), two days of hourly rollups seeded,
    then one day's totals recomputed ``repeat`` times."""
    db = Database(url)
    try:
        ctx = Runtime(load_settings(database_url=url), db).system_context("bench")
        await ensure_default_communes(ctx)
        items = list(enumerate(generate_fleet("dijon", scale=1.0, seed=1), start=1))
        await import_assets(ctx, items, source="bench")
        lights = [a.id for _, a in items if a.type == "streetlight"]
        cabinets = [a.id for _, a in items if a.type == "lighting_cabinet"]
        day = FIRST + timedelta(days=400)
        parts = make_url(url)
        conn = await asyncpg.connect(
            host=parts.host,
            port=parts.port,
            user=parts.username,
            password=parts.password,
            database=parts.database,
        )
        try:
            await conn.copy_records_to_table(
                "telemetry_rollups",
                records=_rollups(lights, cabinets, day),
                columns=["asset_id", "key", "bucket", "count", "sum", "min", "max"],
            )
            await conn.execute("ANALYZE telemetry_rollups; ANALYZE assets")
        finally:
            await conn.close()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            done = await roll_days(db, ctx.settings, day, day)
            samples.append(time.perf_counter() - start)
        print(f"one day's totals: {done.assets:,} asset rows, {done.cabinets:,} cabinet rows")
        return Timing(tuple(samples))
    finally:
        await db.dispose()


async def run(lights: int, days: int, repeat: int, with_rollup: bool) -> None:
    """Seed, then time the service's report and the raw sum, and print both."""
    async with scratch_database("postgresql") as url:
        count, seeded = await _seed(url, lights, days)
        print(f"seeded {count:,} daily rows ({lights:,} lights, {days} days) in {seeded:.1f} s")
        db = Database(url)
        try:
            ctx = Runtime(load_settings(database_url=url), db).system_context("bench")
            last = FIRST + timedelta(days=days - 1)
            query = report.Query(Level.METROPOLIS, Granularity.MONTH, FIRST, last)

            async def service() -> None:
                done = await report.report(ctx, query)
                assert done.total.energy_wh > 0

            async def raw() -> None:
                async with db.read() as session:
                    await session.execute(
                        text("SELECT sum(energy_wh) FROM energy_daily WHERE day BETWEEN :a AND :b"),
                        {"a": FIRST, "b": last},
                    )

            await service()  # warm: connections, statement cache, catalogue
            await raw()
            served = await _time(service, repeat)
            baseline = await _time(raw, repeat)
        finally:
            await db.dispose()
    verdict = "OK" if served.median < TARGET_S else "OVER TARGET"
    print(f"yearly metropolis report (service, by month, with trend): {served}  [{verdict}]")
    print(f"raw SELECT sum(energy_wh) FROM energy_daily over the year:  {baseline}")
    if with_rollup:
        async with scratch_database("postgresql") as url:
            rolled = await rollup_run(url, max(1, repeat // 2))
        print(f"daily totals of one day, set-based from hourly rollups:     {rolled}")


def main() -> None:
    """Entry point: ``python -m bench.energy``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lights", type=int, default=34_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--with-rollup",
        action="store_true",
        help="also time one day's totals from hourly rollups for the whole Dijon fleet",
    )
    args = parser.parse_args()
    if not asyncio.run(postgres_available()):
        raise SystemExit("PostgreSQL unreachable (BEFFROI_BENCH_POSTGRES_URL)")
    asyncio.run(run(args.lights, args.days, args.repeat, args.with_rollup))


if __name__ == "__main__":
    main()
