"""Lighting overrides and drift on the Dijon fleet (1,500 cabinets, 34,000 lights).

Prints, on a scratch database (PostgreSQL by default): the whole fleet's compilation
without and with overrides, creating overrides of each reach (each recompiles the
cabinets it reaches in its transaction), the job ending them, and one run of the drift
job over every light.

    .venv/bin/python -m bench.lighting_overrides [--backend sqlite] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import insert

from beffroi.assets.importing import import_assets
from beffroi.communes.service import ensure_default_communes
from beffroi.config import load_settings
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.lighting import service
from beffroi.lighting.expected import ExpectedLevels
from beffroi.lighting.overrides import close_ended
from beffroi.lighting.schemas import (
    AssignmentCreate,
    CalendarCreate,
    OverrideCreate,
    OverrideDecision,
    ProgramCreate,
)
from beffroi.rules import editing as rule_editing
from beffroi.rules import jobs as rule_jobs
from beffroi.rules.conditions import RuleKind
from beffroi.rules.schemas import RuleCreate
from beffroi.simulator.fleet import generate_fleet
from beffroi.telemetry.models import LatestValue
from bench.common import postgres_available, scratch_database

T = TypeVar("T")
NIGHT: list[dict[str, Any]] = [
    {"anchor": "sunset", "offset_min": -10, "level_pct": 100, "ramp_s": 60},
    {"anchor": "time", "at": "23:00", "level_pct": 50, "ramp_s": 300},
    {"anchor": "time", "at": "05:00", "level_pct": 100},
    {"anchor": "sunrise", "offset_min": 10, "level_pct": 0},
]


async def _timed(what: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    start = time.perf_counter()
    result = await what()
    return result, time.perf_counter() - start


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f} ms"


async def _fleet(ctx: Context, scale: float) -> tuple[list[str], list[str]]:
    await ensure_default_communes(ctx)
    items = list(enumerate(generate_fleet("dijon", scale=scale, seed=1), start=1))
    await import_assets(ctx, items, source="bench")
    cabinets = [a.id for _, a in items if a.type == "lighting_cabinet"]
    lights = [a.id for _, a in items if a.type == "streetlight"]
    return cabinets, lights


def _override(target: str, level: float, **extra: Any) -> OverrideCreate:
    return OverrideCreate.model_validate(
        {
            "target": target,
            "level_pct": level,
            "ends_at": (utcnow() + timedelta(hours=2)).isoformat(),
            "reason": "bench",
            **extra,
        }
    )


async def bench(args: argparse.Namespace) -> int:
    async with scratch_database(args.backend) as url:
        db = Database(url)
        runtime = Runtime(load_settings(database_url=url), db)
        ctx = runtime.system_context("bench")
        try:
            cabinets, lights = await _fleet(ctx, args.scale)
            print(f"{args.backend}: {len(cabinets)} cabinets, {len(lights)} lights")
            program = await service.create_program(
                ctx, ProgramCreate.model_validate({"name": "Nuit", "steps": NIGHT})
            )
            calendar = await service.create_calendar(
                ctx, CalendarCreate(name="Métropole", default_program_id=program.id)
            )
            await service.create_assignment(
                ctx, AssignmentCreate(calendar_id=calendar.id, target="default")
            )
            changed, took = await _timed(lambda: service.compile_schedules(ctx))
            print(f"compile, no override ({len(changed)} new)        {_ms(took)}")
            _, took = await _timed(lambda: service.compile_schedules(ctx))
            print(f"compile again, nothing changed                {_ms(took)}")
            commune = await _timed(
                lambda: service.create_override(ctx, _override("commune", 80, commune="dijon"))
            )
            print(f"create a commune override (Dijon) + recompile  {_ms(commune[1])}")
            singles = []
            made = []
            for light in lights[: args.singles]:
                one, took = await _timed(
                    lambda light=light: service.create_override(  # type: ignore[misc]
                        ctx, _override("assets", 100, asset_ids=[light])
                    )
                )
                singles.append(took)
                made.append(one)
            print(
                f"create a one-light override + recompile      {_ms(statistics.median(singles))}"
                f" (median of {len(singles)})"
            )
            metropolis = await _timed(
                lambda: service.create_override(ctx, _override("metropolis", 60))
            )
            print(f"create a metropolis override + recompile all  {_ms(metropolis[1])}")
            _, took = await _timed(lambda: service.compile_schedules(ctx))
            print(f"compile again with {2 + len(singles)} overrides, nothing changed {_ms(took)}")
            _, took = await _timed(
                lambda: service.cancel_override(ctx, made[0].id, OverrideDecision())
            )
            print(f"cancel a one-light override + recompile all  {_ms(took)}")
            later = utcnow() + timedelta(hours=3)
            ended, took = await _timed(lambda: close_ended(ctx, now=later))
            print(f"job: end {len(ended)} overrides + recompile        {_ms(took)}")

            await rule_editing.create_rule(
                ctx,
                RuleCreate(
                    key="drift",
                    name="drift",
                    kind=RuleKind.LIGHTING_DRIFT,
                    asset_type="streetlight",
                    params={"tolerance_pct": 10, "delay_s": 0},
                ),
            )
            now = utcnow()
            rows = [
                {"asset_id": a, "key": "level_pct", "ts": now, "value": 100.0, "text": None}
                for a in lights
            ]
            async with db.write() as session:
                for start in range(0, len(rows), 5000):
                    await session.execute(insert(LatestValue), rows[start : start + 5000])
            expected = ExpectedLevels(runtime.settings.timezone)
            for label in ("drift job, first run (raises)", "drift job, second run     "):
                events, took = await _timed(lambda: rule_jobs.check_drift(db, expected, now))
                print(f"{label} over {len(lights)} lights: {len(events)} events {_ms(took)}")
        finally:
            await db.dispose()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--singles", type=int, default=5)
    args = parser.parse_args()
    if args.backend == "postgresql" and not asyncio.run(postgres_available()):
        print("PostgreSQL is not reachable; try --backend sqlite", file=sys.stderr)
        return 2
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
