"""Registry benchmark: the Dijon fleet on SQLite and PostgreSQL.

Prints, per backend, in one run: fleet generation and import time; the time to serve every
asset as GeoJSON over HTTP from a real ``beffroi serve`` (target under 500 ms) beside the
raw baseline, the same rows read straight from the database by its own driver.

    python -m bench.registry [--scale 1.0] [--repeat 7] [--backend sqlite --backend postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from dataclasses import dataclass

import asyncpg
import httpx
from sqlalchemy.engine import make_url

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
from bench.common import Timing, postgres_available, running_server, scratch_database

TARGET_GEOJSON_S = 0.5
RAW_QUERY = (
    "SELECT id, type, name, commune_code, status, parent_id, lon, lat FROM assets "
    "WHERE status != 'decommissioned' ORDER BY id"
)


@dataclass(frozen=True, slots=True)
class Result:
    """Figures of one backend."""

    backend: str
    assets: int
    generate_s: float
    import_s: float
    serve: ServeTimes
    raw: Timing


async def _load_fleet(url: str, scale: float) -> tuple[int, float, float, str]:
    db = Database(url)
    try:
        ctx = Runtime(load_settings(database_url=url), db).system_context("bench")
        await ensure_default_communes(ctx)
        start = time.perf_counter()
        items = list(enumerate(generate_fleet("dijon", scale=scale, seed=1), start=1))
        generated = time.perf_counter()
        report = await import_assets(ctx, items, source="bench")
        imported = time.perf_counter()
        await accounts.create_user(
            ctx, UserCreate(username="bench", password="benchmark-password", roles=[Role.ADMIN])
        )
        _, token = await tokens.create_token(ctx, TokenCreate(name="bench", username="bench"))
        return report.created, generated - start, imported - generated, token
    finally:
        await db.dispose()


@dataclass(frozen=True, slots=True)
class ServeTimes:
    """The three ways the map's GeoJSON is served."""

    cold: Timing  # built from the database (after a change)
    cached: Timing  # unchanged registry, served from the response cache
    not_modified: Timing  # the console already holds it: 304
    size: int


def _time_geojson(base: str, token: str, expected: int, repeat: int) -> ServeTimes:
    auth = {"Authorization": f"Bearer {token}"}
    headers = {**auth, "Accept": "application/geo+json"}
    url = f"{base}/api/v1/assets?limit=50000"
    cold, cached, not_modified = [], [], []
    with httpx.Client(timeout=60) as http:
        http.get(url, headers=headers).raise_for_status()  # warm-up: first connection
        for n in range(repeat):
            # A registry change invalidates the cache: the next load builds from the database.
            touch = {"name": f"Armoire renommée {n}"}
            http.patch(f"{base}/api/v1/assets/LC-DIJ-0001", json=touch, headers=auth)
            start = time.perf_counter()
            response = http.get(url, headers=headers)
            cold.append(time.perf_counter() - start)
            response.raise_for_status()
            start = time.perf_counter()
            http.get(url, headers=headers).raise_for_status()
            cached.append(time.perf_counter() - start)
            start = time.perf_counter()
            revalidated = http.get(
                url, headers={**headers, "If-None-Match": response.headers["etag"]}
            )
            not_modified.append(time.perf_counter() - start)
            if revalidated.status_code != 304:
                raise AssertionError(f"expected 304, got {revalidated.status_code}")
        count = len(response.json()["features"])
    if count != expected:
        raise AssertionError(f"GeoJSON held {count} features, expected {expected}")
    return ServeTimes(
        Timing(tuple(cold)),
        Timing(tuple(cached)),
        Timing(tuple(not_modified)),
        len(response.content),
    )


async def _time_raw(url: str, repeat: int) -> Timing:
    samples = []
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        con = sqlite3.connect(parsed.database or "")
        try:
            con.execute(RAW_QUERY).fetchall()
            for _ in range(repeat):
                start = time.perf_counter()
                con.execute(RAW_QUERY).fetchall()
                samples.append(time.perf_counter() - start)
        finally:
            con.close()
        return Timing(tuple(samples))
    conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(False))
    try:
        await conn.fetch(RAW_QUERY)
        for _ in range(repeat):
            start = time.perf_counter()
            await conn.fetch(RAW_QUERY)
            samples.append(time.perf_counter() - start)
    finally:
        await conn.close()
    return Timing(tuple(samples))


async def bench_backend(backend: str, scale: float, repeat: int) -> Result:
    """Generate, import and serve the fleet on one backend."""
    async with scratch_database(backend) as url:
        count, generate_s, import_s, token = await _load_fleet(url, scale)
        with running_server(url) as base:
            serve = await asyncio.to_thread(_time_geojson, base, token, count, repeat)
        raw = await _time_raw(url, repeat)
    return Result(backend, count, generate_s, import_s, serve, raw)


def _print(results: list[Result], scale: float) -> None:
    print(f"\nBeffroi registry benchmark — Dijon profile, scale {scale}")
    for r in results:
        print(f"\n{r.backend}: {r.assets} assets")
        print(f"  fleet generation (Python)         {r.generate_s:8.2f} s")
        print(f"  fleet import (one transaction)    {r.import_s:8.2f} s")
        print(f"  GeoJSON, all assets, over HTTP ({r.serve.size / 1e6:.1f} MB):")
        print(f"    built from the database         {r.serve.cold}")
        print(f"    unchanged registry (cached)     {r.serve.cached}")
        print(f"    revalidated (304)               {r.serve.not_modified}")
        print(f"  raw baseline: same rows by driver {r.raw}")
        ratio = r.serve.cold.median / r.raw.median
        print(f"  built/raw ratio                   {ratio:8.1f}x")
    print()
    for r in results:
        verdict = "met" if r.serve.cold.median < TARGET_GEOJSON_S else "NOT met"
        print(
            f"target: all assets as GeoJSON < {TARGET_GEOJSON_S * 1000:.0f} ms on {r.backend}, "
            f"built from the database: {verdict} ({r.serve.cold.median * 1000:.0f} ms)"
        )


async def main() -> None:
    """Run the benchmark for each backend asked for (PostgreSQL when reachable)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    backends = args.backend or ["sqlite", "postgresql"]
    results = []
    for backend in backends:
        if backend == "postgresql" and not await postgres_available():
            print("PostgreSQL unreachable: skipped (set BEFFROI_BENCH_POSTGRES_URL)")
            continue
        results.append(await bench_backend(backend, args.scale, args.repeat))
    _print(results, args.scale)


if __name__ == "__main__":
    asyncio.run(main())
