"""``beffroi audit``: the audit log."""

from __future__ import annotations

import typer

from beffroi.audit import service
from beffroi.cli.common import run, say_chain
from beffroi.core.context import Context, Runtime

app = typer.Typer(help="Audit log.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Walk the hash chain; exit 1 and name each broken entry if it was tampered with."""

    async def _job(runtime: Runtime, _ctx: Context) -> service.VerifyReport:
        return await service.verify(runtime.db)

    say_chain("audit", "entries", run(_job))
