"""``beffroi opendata``: refresh the open datasets now, list them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from beffroi.cli.common import out, run
from beffroi.core.context import Context, Runtime

if TYPE_CHECKING:
    from beffroi.opendata.service import Snapshot

# The open data area is imported by these commands only (it brings polars along): the
# other commands start without it.

app = typer.Typer(help="Open data: the datasets published without login.", no_args_is_help=True)


@app.command("refresh")
def refresh(
    dataset: Annotated[
        list[str] | None, typer.Argument(help="Dataset ids (default: every dataset)")
    ] = None,
) -> None:
    """Build new snapshots now (audited as the system, named after you)."""

    from beffroi.opendata import service

    async def _job(_runtime: Runtime, ctx: Context) -> list[Snapshot]:
        return await service.refresh_all(ctx, dataset or None)

    table = Table("dataset", "version", "records", "bytes", "sha256")
    for done in run(_job):
        table.add_row(
            done.dataset, str(done.version), str(done.row_count), str(done.size), done.sha256[:16]
        )
    out.print(table)


@app.command("list")
def list_() -> None:
    """The datasets published, their licence and refresh schedule."""
    from beffroi.opendata.datasets import DATASETS

    table = Table("dataset", "title", "licence", "schedule")
    for ds in DATASETS:
        table.add_row(ds.id, ds.title, ds.licence.key, ds.schedule)
    out.print(table)
