"""``beffroi communes``: the communes of the metropolis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from beffroi.cli.common import out, run
from beffroi.communes import service
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import InvalidInput

app = typer.Typer(help="Communes of the metropolis.", no_args_is_help=True)


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Create or update communes from a CSV (name, lat, lon, population[, code])."""
    rows, errors = service.parse_csv(file.read_text(encoding="utf-8-sig"))
    if errors:
        raise InvalidInput(errors, f"{file}: {len(errors)} error(s), nothing written")

    async def _job(_runtime: Runtime, ctx: Context) -> int:
        return await service.import_communes(ctx, rows)

    out.print(f"{run(_job)} communes written")


@app.command("list")
def list_() -> None:
    """List the communes."""

    async def _job(_runtime: Runtime, ctx: Context) -> None:
        table = Table("code", "name", "lat", "lon", "population")
        for c in await service.list_communes(ctx):
            table.add_row(c.code, c.name, f"{c.lat:.4f}", f"{c.lon:.4f}", str(c.population))
        out.print(table)

    run(_job)
