"""``beffroi plans``: crisis plans (the demo's winter plan, a snow night played with it)."""

from __future__ import annotations

from typing import Annotated

import typer

from beffroi.cli.common import out, run
from beffroi.core.context import Context, Runtime
from beffroi.plans import starter
from beffroi.plans.lifecycle import AlertLevel
from beffroi.plans.schemas import RunOut

app = typer.Typer(help="Crisis plans.", no_args_is_help=True)


@app.command("seed-winter")
def seed_winter() -> None:
    """Write the winter plan and its notification list, unless they exist."""

    async def _job(_runtime: Runtime, ctx: Context) -> int:
        return await starter.seed_winter_plan(ctx)

    out.print(f"winter plan: {run(_job)}")


@app.command("snow-night")
def snow_night(
    level: Annotated[int, typer.Option(min=1, max=3, help="1 watch, 2 salting, 3 heavy snow")] = 2,
) -> None:
    """Demo: start the winter plan as the demo's dispatcher, approve it as its duty
    officer (two people of the demo), tick the watch checklist."""

    async def _job(_runtime: Runtime, ctx: Context) -> RunOut:
        return await starter.snow_night(ctx, AlertLevel(level))

    done = run(_job)
    out.print(f"plan run {done.id}: {done.state}")
    for step in done.steps:
        out.print(f"  {step.position}. {step.title}: {step.state} {step.outcome or ''}")
