"""The schema's migrations (Alembic), driven from code: ``beffroi db upgrade`` and the
drift check. Above every area: the migrations' environment sees all their tables."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the database at ``url``, without any ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolates '%'; a password may contain one.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (blocking; call from a thread in async code)."""
    command.upgrade(alembic_config(url), revision)


def check(url: str) -> None:
    """Raise if the models and the migrated schema disagree (``alembic check``)."""
    command.check(alembic_config(url))


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def current_head() -> str | None:
    """The newest revision known to the code."""
    return _scripts().get_current_head()


def knows(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (else a newer code's)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False
