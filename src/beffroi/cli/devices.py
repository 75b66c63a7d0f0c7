"""``beffroi device``: device credentials and the production broker's files."""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer

from beffroi.cli.common import console, out, progress_bar, run
from beffroi.context import Context, Runtime
from beffroi.devices import credentials
from beffroi.devices.mosquitto import MosquittoFiles, write_mosquitto_files

app = typer.Typer(
    help="Device identities: credentials and broker provisioning.", no_args_is_help=True
)

SHOWN_ONCE = (
    "secrets are shown once and never stored: hand them to the devices now "
    "(issuing again replaces them)"
)


@contextlib.contextmanager
def _secret_output(path: Path | None) -> Iterator[TextIO]:
    """Standard output, or ``path`` written atomically with mode 0600.

    The file is opened before anything is issued, so an unwritable path fails before the
    old secrets are replaced; it appears under its name only once complete.
    """
    if path is None:
        yield sys.stdout
        return
    target = path.resolve()
    descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


@app.command("credentials")
def issue(
    ids: Annotated[list[str] | None, typer.Argument(help="Asset ids", show_default=False)] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every asset in scope that is not decommissioned")
    ] = False,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="Write the CSV here (mode 0600)"),
    ] = None,
) -> None:
    """Issue (or rotate) device secrets; prints CSV id,secret."""
    if bool(ids) == all_:
        raise typer.BadParameter("name asset ids, or give --all (not both)")

    async def _job(_runtime: Runtime, ctx: Context) -> list[tuple[str, str]]:
        if not all_:
            return await credentials.issue_credentials(ctx, ids)
        with progress_bar("issuing credentials") as update:
            return await credentials.issue_credentials(ctx, None, on_progress=update)

    with _secret_output(out_file) as handle:
        pairs = run(_job)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "secret"])
        writer.writerows(pairs)
    where = f" to {out_file}" if out_file else ""
    console.print(f"{len(pairs)} device credentials issued{where}")
    console.print(f"[yellow]warning:[/yellow] {SHOWN_ONCE}")


@app.command("revoke")
def revoke(
    asset_id: Annotated[str, typer.Argument(help="Asset id")],
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log")] = None,
) -> None:
    """Revoke a device's credentials (brokers refuse it after their next refresh/reload)."""

    async def _job(_runtime: Runtime, ctx: Context) -> None:
        await credentials.revoke_credentials(ctx, asset_id, reason=reason)

    run(_job)
    out.print(f"credentials of {asset_id} revoked")


@app.command("mosquitto-files")
def mosquitto_files(
    password_file: Annotated[Path, typer.Argument(dir_okay=False, help="Mosquitto password_file")],
    acl_file: Annotated[Path, typer.Argument(dir_okay=False, help="Mosquitto acl_file")],
    hup: Annotated[
        int | None, typer.Option(help="Send SIGHUP to this Mosquitto pid to reload in place")
    ] = None,
) -> None:
    """Write Mosquitto's password and ACL files from the database."""

    async def _job(_runtime: Runtime, ctx: Context) -> MosquittoFiles:
        return await write_mosquitto_files(ctx, password_file, acl_file, hup_pid=hup)

    written = run(_job)
    out.print(f"{written.devices} devices written to {password_file}; ACL in {acl_file}")
    if hup is not None:
        out.print(f"mosquitto (pid {hup}) told to reload")
