"""``beffroi fleet``: generate, import and export the equipment registry."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal, TextIO

import typer

from beffroi.assets import importing, reading
from beffroi.assets.filters import AssetFilter
from beffroi.assets.io import detect_format, parse_csv, parse_geojson, stream
from beffroi.assets.schemas import AssetOut, ImportReport
from beffroi.cli.common import console, out, progress_bar, run
from beffroi.core.context import Context, Runtime
from beffroi.core.errors import InvalidInput
from beffroi.simulator.fleet import generate_fleet
from beffroi.simulator.fleet_traffic import setup_fleet

app = typer.Typer(help="The equipment registry as a whole.", no_args_is_help=True)


def _print_report(report: ImportReport, dry_run: bool) -> None:
    verb = "would write" if dry_run else "wrote"
    out.print(
        f"{verb}: {report.created} created, {report.updated} updated, {report.skipped} skipped"
    )
    for error in report.errors[:200]:
        where = f"row {error['row']}, " if error.get("row") is not None else ""
        console.print(f"  - {where}{error['field']}: {error['message']}")


@app.command("generate")
def generate(
    profile: Annotated[str, typer.Option(help="City profile")] = "dijon",
    scale: Annotated[float, typer.Option(min=0.0001, max=10, help="1 = the reference city")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same fleet")] = 1,
    dry_run: Annotated[bool, typer.Option(help="Check only; write nothing")] = False,
) -> None:
    """Generate a deterministic synthetic fleet and write it (all or nothing)."""

    async def _job(_runtime: Runtime, ctx: Context) -> ImportReport:
        items = list(enumerate(generate_fleet(profile, scale=scale, seed=seed), start=1))
        with progress_bar(f"fleet {profile} x{scale}") as update:
            return await importing.import_assets(
                ctx,
                items,
                dry_run=dry_run,
                source=f"generate:{profile}:{scale}:{seed}",
                on_progress=update,
            )

    _print_report(run(_job), dry_run)


@app.command("traffic")
def traffic() -> None:
    """Give every traffic controller without one a plausible configuration, timing plans
    and timetable (docs/traffic.md); delivered to the controllers by the gateway."""

    async def _job(_runtime: Runtime, ctx: Context) -> list[str]:
        return await setup_fleet(ctx)

    done = run(_job)
    out.print(f"{len(done)} traffic controllers set up")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON or CSV")],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the good rows, report the rest")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Check only; write nothing")] = False,
) -> None:
    """Create or update assets from a file; any bad row refuses the whole file by default."""
    text = file.read_text(encoding="utf-8-sig")
    fmt = detect_format(file.name, text)
    items, errors = parse_csv(text) if fmt == "csv" else parse_geojson(text)
    if errors and not skip_invalid:
        raise InvalidInput(errors, f"{file}: import refused, nothing written")

    async def _job(_runtime: Runtime, ctx: Context) -> ImportReport:
        with progress_bar(f"import {file.name}") as update:
            return await importing.import_assets(
                ctx,
                items,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                source=f"cli:{file.name}",
                parse_errors=errors,
                on_progress=update,
            )

    _print_report(run(_job), dry_run)


@app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Output file, or - for standard output")],
    format: Annotated[Literal["geojson", "csv"] | None, typer.Option()] = None,
    type: Annotated[str | None, typer.Option(help="Type keys, comma-separated")] = None,
    commune: Annotated[str | None, typer.Option(help="Communes, comma-separated")] = None,
) -> None:
    """Write the registry (or part of it) as GeoJSON or CSV."""
    fmt = format or ("csv" if file.suffix.lower() == ".csv" else "geojson")
    f = AssetFilter(
        types=[t for t in (type or "").split(",") if t],
        communes=[c for c in (commune or "").split(",") if c],
    )

    async def _job(_runtime: Runtime, ctx: Context) -> int:
        count = 0

        async def counted() -> AsyncIterator[list[AssetOut]]:
            nonlocal count
            async for page in reading.pages(ctx, f):
                count += len(page)
                yield page

        with contextlib.ExitStack() as stack:
            handle: TextIO = (
                sys.stdout
                if str(file) == "-"
                else stack.enter_context(file.open("w", encoding="utf-8", newline=""))
            )
            async for chunk in stream(counted(), "csv" if fmt == "csv" else "geojson"):
                handle.write(chunk)
        return count

    count = run(_job)
    if str(file) != "-":
        out.print(f"{count} assets written to {file}")
