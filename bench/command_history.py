"""Command history benchmark: the tracker's read of the commands awaiting verification,
as each light's history of commands grows.

When readings arrive, the command tracker asks which commands sent to those assets await
their verification (``CommandTracker._read(..., awaiting=True)``). Prints, in one run, on
a scratch PostgreSQL database holding ``--lights`` streetlights with ``--history`` past
commands each (succeeded and verified long ago) and one command each awaiting its
verification:

1. that read for ``--probe`` random lights (a batch of post-command state reports),
   median of five, through ``ix_commands_awaiting_verification`` (migration 0029), beside
   the raw baseline: the same read with that index dropped, through
   ``ix_commands_asset_id_created_at`` (every command the asset ever had);
2. what the index costs: moving every awaiting command one state on (as its reply does),
   with the index and without it (median of five, each rolled back).

    python -m bench.command_history [--lights 34000] [--history 50] [--probe 9000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text

from beffroi.commands.tracker import CommandTracker
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Runtime
from beffroi.db import Database
from bench.common import postgres_available, scratch_postgres, vacuum

INDEX = "ix_commands_awaiting_verification"
RUNS = 5

_LIGHTS = """
INSERT INTO assets (id, type, name, commune_code, status, lon, lat, attributes, tags, version,
                    created_at, updated_at)
SELECT 'SL-' || g, 'streetlight', 'light ' || g, :commune, 'in_service', 5.04, 47.32, '{}',
       '[]', 1, now(), now()
FROM generate_series(1, CAST(:lights AS integer)) AS g
"""
_COMMANDS = """
INSERT INTO commands (id, asset_id, asset_type, commune_code, verification, name, params,
                      critical, state, attempts, max_attempts, timeout_s, created_at,
                      created_by, expires_at, updated_at, sent_at)
SELECT md5(random()::text), 'SL-' || a, 'streetlight', :commune, :verification, 'dim',
       '{"level_pct": 50}', false, :state, 1, 3, 30, now() - h * interval '1 hour', 'bench',
       now() + interval '1 hour', now(), now() - h * interval '1 hour'
FROM generate_series(1, CAST(:lights AS integer)) AS a,
     generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS h
"""


async def _median(
    run: Callable[[], Awaitable[None]], before: Callable[[], Awaitable[None]] | None = None
) -> float:
    samples = []
    for _ in range(RUNS):
        if before is not None:
            await before()
        began = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


async def _measure(db: Database, probe: list[str]) -> tuple[float, float]:
    """The awaiting read of ``probe`` (median) and one move of every awaiting command."""
    tracker = CommandTracker(root="beffroi/v1", verify_window=timedelta(minutes=5))
    found = 0

    async def read() -> None:
        nonlocal found
        async with db.write() as session:
            found = len(await tracker._read(session, probe, awaiting=True))

    async def move() -> None:
        async with db.engine.connect() as conn, conn.begin() as transaction:
            await conn.execute(
                text("UPDATE commands SET state = 'accepted' WHERE verification = 'pending'")
            )
            await transaction.rollback()

    read_s = await _median(read)
    assert found == len(probe), f"read {found} awaiting commands for {len(probe)} lights"
    # Each move is rolled back: its dead rows are vacuumed away before the next one.
    return read_s, await _median(move, before=lambda: vacuum(db, "commands"))


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark; returns the exit status."""
    if not await postgres_available():
        print("PostgreSQL is not reachable: nothing measured")
        return 1
    async with scratch_postgres() as (url, db):
        await ensure_default_communes(
            Runtime(load_settings(database_url=url), db).system_context("bench")
        )
        async with db.write() as session:
            commune = (await session.execute(text("SELECT min(code) FROM communes"))).scalar()
            began = time.perf_counter()
            common = {"commune": commune, "lights": args.lights}
            await session.execute(text(_LIGHTS), common)
            past = {"verification": "verified", "state": "succeeded"}
            await session.execute(
                text(_COMMANDS), {**common, **past, "first": 24, "last": 23 + args.history}
            )
            now = {"verification": "pending", "state": "sent", "first": 0, "last": 0}
            await session.execute(text(_COMMANDS), {**common, **now})
        await vacuum(db, "commands")
        loaded = time.perf_counter() - began
        total = args.lights * (args.history + 1)
        print(
            f"{args.lights:,} streetlights, {args.history} past commands each and one "
            f"awaiting its verification: {total:,} commands, loaded in {loaded:.0f} s"
        )
        chosen = random.sample(range(1, args.lights + 1), args.probe)
        probe = sorted(f"SL-{i}" for i in chosen)  # as the tracker asks
        read_s, move_s = await _measure(db, probe)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"DROP INDEX {INDEX}"))
        raw_read_s, raw_move_s = await _measure(db, probe)
    print(f"1. the tracker's read of the commands awaiting verification, {args.probe:,} lights:")
    print(f"     through {INDEX}: {read_s * 1000:8.1f} ms (median of {RUNS})")
    print(f"     raw baseline, without it:           {raw_read_s * 1000:8.1f} ms")
    print(f"     {raw_read_s / read_s:.1f}x faster with the index")
    print(f"2. moving the {args.lights:,} awaiting commands one state on (as a reply does):")
    print(
        f"     with the index {move_s * 1000:.0f} ms, without it {raw_move_s * 1000:.0f} ms "
        f"(medians of {RUNS})"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lights", type=int, default=34_000)
    parser.add_argument("--history", type=int, default=50, help="past commands per light")
    parser.add_argument("--probe", type=int, default=9_000, help="lights read at once")
    sys.exit(asyncio.run(main(parser.parse_args())))
