"""``beffroi roads``: the DATEX II publication written to a file (for a road authority's
FTP or rsync drop, or a navigation service's pull from a static server)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beffroi.cli.common import out, run
from beffroi.core.context import Context, Runtime
from beffroi.roads import export

app = typer.Typer(help="Road operations: works, closures, events, incidents.", no_args_is_help=True)


@app.command("datex")
def datex(
    output: Annotated[Path, typer.Option("--out", help="The XML file to write")],
    planned: Annotated[bool, typer.Option(help="Planned situations too")] = False,
) -> None:
    """Write the DATEX II SituationPublication (what /api/datex2/v3/situations serves);
    the file is replaced whole, so a reader never sees half of it."""

    target = output.resolve()

    async def _job(_runtime: Runtime, ctx: Context) -> int:
        return await export.write_datex(ctx, target, planned=planned)

    out.print(f"{target}: {run(_job)} bytes")
