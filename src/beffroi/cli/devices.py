"""``beffroi device``: device credentials and the production broker's files."""

from __future__ import annotations

import asyncio
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
from beffroi.core.context import Context, Runtime
from beffroi.core.process import stop_on_signals
from beffroi.devices import changes, credentials
from beffroi.devices.changes import Applied
from beffroi.devices.mosquitto import Listener, ListenerFile, MosquittoFiles, write_mosquitto_files
from beffroi.devices.mosquitto_keeper import MosquittoKeeper

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

    async def _job(runtime: Runtime, ctx: Context) -> tuple[list[tuple[str, str]], Applied]:
        if not all_:
            pairs = await credentials.issue_credentials(ctx, ids)
        else:
            with progress_bar("issuing credentials") as update:
                pairs = await credentials.issue_credentials(ctx, None, on_progress=update)
        return pairs, await changes.wait_applied(runtime.db, await changes.head(runtime.db))

    with _secret_output(out_file) as handle:
        pairs, applied = run(_job)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "secret"])
        writer.writerows(pairs)
    where = f" to {out_file}" if out_file else ""
    console.print(f"{len(pairs)} device credentials issued{where}")
    _say_applied(applied, "the old secrets no longer open a session")
    console.print(f"[yellow]warning:[/yellow] {SHOWN_ONCE}")


def _say_applied(applied: Applied, effect: str) -> None:
    """Which running brokers applied a change, and which did not in time."""
    if applied.confirmed:
        console.print(f"applied by {', '.join(applied.confirmed)}: {effect}")
    if applied.late:
        console.print(
            f"[yellow]warning:[/yellow] not yet applied by {', '.join(applied.late)} "
            f"after {changes.WAIT_S:g} s; it will be as soon as it can read the database"
        )
    if not applied.confirmed and not applied.late:
        console.print("no running broker follows this database; each applies it on start")


@app.command("revoke")
def revoke(
    asset_id: Annotated[str, typer.Argument(help="Asset id")],
    reason: Annotated[str | None, typer.Option(help="Why, for the audit log")] = None,
) -> None:
    """Revoke a device's credentials: running brokers refuse it and end its session."""

    async def _job(runtime: Runtime, ctx: Context) -> Applied:
        await credentials.revoke_credentials(ctx, asset_id, reason=reason)
        return await changes.wait_applied(runtime.db, await changes.head(runtime.db))

    applied = run(_job)
    out.print(f"credentials of {asset_id} revoked")
    _say_applied(applied, f"{asset_id} is refused and its open session was ended")


@app.command("mosquitto-files")
def mosquitto_files(
    password_file: Annotated[Path, typer.Argument(dir_okay=False, help="Mosquitto password_file")],
    acl_file: Annotated[Path, typer.Argument(dir_okay=False, help="Mosquitto acl_file")],
    hup: Annotated[
        int | None, typer.Option(help="Send SIGHUP to this Mosquitto pid to reload in place")
    ] = None,
    conf: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Also write the listener configuration here"),
    ] = None,
    device_listener: Annotated[
        str, typer.Option(help="host:port where devices connect (with --conf)")
    ] = "0.0.0.0:1883",
    hub_listener: Annotated[
        str, typer.Option(help="host:port where the hub connects (with --conf)")
    ] = "127.0.0.1:1884",
) -> None:
    """Write Mosquitto's password and ACL files (and listener configuration) from the
    database. To keep them in step by itself, see BEFFROI_MOSQUITTO_PASSWORD_FILE."""
    try:
        listeners = (
            ListenerFile(conf, Listener.parse(device_listener), Listener.parse(hub_listener))
            if conf
            else None
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def _job(_runtime: Runtime, ctx: Context) -> MosquittoFiles:
        return await write_mosquitto_files(
            ctx, password_file, acl_file, hup_pid=hup, listeners=listeners
        )

    written = run(_job)
    out.print(f"{written.devices} devices written to {password_file}; ACL in {acl_file}")
    if conf:
        out.print(f"listeners in {conf}: include it in mosquitto.conf")
    if hup is not None:
        out.print(f"mosquitto (pid {hup}) told to reload")


@app.command("mosquitto-sync")
def mosquitto_sync() -> None:
    """Keep Mosquitto's files in step with the credentials until stopped (what the gateway
    does when BEFFROI_MOSQUITTO_PASSWORD_FILE is set: for a broker on another host)."""

    async def _job(runtime: Runtime, _ctx: Context) -> None:
        if not runtime.settings.keeps_mosquitto:
            raise typer.BadParameter(
                "set BEFFROI_MOSQUITTO_PASSWORD_FILE, BEFFROI_MOSQUITTO_ACL_FILE and "
                "BEFFROI_MOSQUITTO_PID_FILE (or BEFFROI_MOSQUITTO_RELOAD_COMMAND)"
            )
        with stop_on_signals(asyncio.Event()) as stop:
            keeper = MosquittoKeeper(runtime.settings, runtime.db)
            await keeper.start()
            out.print(f"keeping {keeper.password_file} and {keeper.acl_file} in step")
            await keeper.run(stop)

    run(_job)
