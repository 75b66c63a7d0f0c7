"""``beffroi db``: schema migrations."""

from __future__ import annotations

import typer

from beffroi import migrations as migrate
from beffroi.cli import reach
from beffroi.cli.common import out, run, settings
from beffroi.communes.service import ensure_default_communes
from beffroi.core.context import Context, Runtime

app = typer.Typer(help="Database schema.", no_args_is_help=True)


def upgrade_database() -> int:
    """Migrate to the newest schema and load the default communes into an empty database."""
    current = settings()
    if current.database_url == "":
        current.data_dir.mkdir(parents=True, exist_ok=True)
    reach.check_folder(current)
    with reach.translated(current):
        migrate.upgrade(current.effective_database_url)

    async def _seed(_runtime: Runtime, ctx: Context) -> int:
        return await ensure_default_communes(ctx)

    return run(_seed)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the schema to the newest version (and load the default communes if none)."""
    loaded = upgrade_database()
    out.print(
        f"schema at {migrate.current_head()}" + (f"; {loaded} communes loaded" if loaded else "")
    )


@app.command("check")
def check() -> None:
    """Fail if the models and the migrations disagree (alembic check)."""
    current = settings()
    reach.check_file(current)  # else Alembic would leave an empty SQLite file behind
    with reach.translated(current):
        migrate.check(current.effective_database_url)
    out.print("no drift between models and migrations")
