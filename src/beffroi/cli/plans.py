"""``beffroi plans``: crisis plans (the demo's winter plan).

A snow night is played by ``beffroi demo --snow-night LEVEL`` only: it starts and approves
the plan as two made-up people of the demo, which no real installation may do."""

from __future__ import annotations

import typer

from beffroi.cli.common import out, run
from beffroi.core.context import Context, Runtime
from beffroi.plans import starter

app = typer.Typer(help="Crisis plans.", no_args_is_help=True)


@app.command("seed-winter")
def seed_winter() -> None:
    """Write the winter plan and its notification list, unless they exist."""

    async def _job(_runtime: Runtime, ctx: Context) -> int:
        return await starter.seed_winter_plan(ctx)

    out.print(f"winter plan: {run(_job)}")
