"""The ``beffroi`` command line. Each command is a thin adapter over a service."""

from __future__ import annotations

import typer

from beffroi import collector
from beffroi.cli import (
    accounts,
    audit,
    communes,
    db,
    demo,
    devices,
    fleet,
    gateway,
    scheduler,
    serve,
    simulate,
)
from beffroi.cli.common import run_cli

app = typer.Typer(
    name="beffroi",
    help="Beffroi: the connected control room of a metropolis's public space.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("gateway")(gateway.gateway)
app.command("scheduler")(scheduler.scheduler)
app.command("simulate")(simulate.simulate)
app.add_typer(db.app, name="db")
app.add_typer(fleet.app, name="fleet")
app.add_typer(communes.app, name="communes")
app.add_typer(accounts.users, name="user")
app.add_typer(accounts.tokens, name="token")
app.add_typer(audit.app, name="audit")
app.add_typer(devices.app, name="device")


def main() -> None:
    """Entry point of the ``beffroi`` script."""
    collector.tune()
    run_cli(app)
