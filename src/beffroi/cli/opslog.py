"""``beffroi opslog``: the operations log."""

from __future__ import annotations

import typer

from beffroi.cli.common import run, say_chain
from beffroi.core.chain import ChainWalk
from beffroi.core.context import Context, Runtime
from beffroi.opslog import reading

app = typer.Typer(help="Operations log (main courante).", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Walk the log's hash chain; exit 1 and name each broken record if it was tampered with."""

    async def _job(_runtime: Runtime, ctx: Context) -> ChainWalk:
        return await reading.verify(ctx)

    say_chain("operations log", "records", run(_job))
