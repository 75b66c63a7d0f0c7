"""Whether the configured database is there and migrated, said in one line when it is not.

Run outside the project's folder, with a PostgreSQL server down or a database never
migrated, a command used to end in a traceback of some 200 lines. Here the CLI looks
first (without creating an empty SQLite file on the way) and, for what it could not
foresee, turns the driver's error into one line naming the database it tried and the
variables that choose it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from beffroi import migrations as migrate
from beffroi.config import Settings
from beffroi.core.context import Runtime

UPGRADE = "`beffroi db upgrade`"
VERSION_TABLE = "alembic_version"
# PostgreSQL's SQLSTATE codes for a missing database and a refused login.
_NO_DATABASE = "3D000"
_LOGIN_REFUSED = {"28000", "28P01"}


class DatabaseUnavailable(Exception):
    """The configured database cannot be used; the message is one line for a person."""


def _where(settings: Settings) -> str:
    if settings.database_url:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        return f"BEFFROI_DATABASE_URL={shown}"
    return f"BEFFROI_DATA_DIR={settings.data_dir}, BEFFROI_DATABASE_URL unset"


# Said with every failure: which variables choose the database, and how to set them.
HOW = (
    "set BEFFROI_DATA_DIR to the folder of beffroi.db (export BEFFROI_DATA_DIR=/path/to/var) "
    "or BEFFROI_DATABASE_URL to the database "
    "(export BEFFROI_DATABASE_URL=postgresql+asyncpg://user@host:5432/beffroi)"
)


def _sqlite_path(url: URL) -> Path | None:
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def _server(url: URL) -> str:
    return f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"


def check_folder(settings: Settings) -> None:
    """For SQLite: the database's folder exists (a new database can be made in it)."""
    path = _sqlite_path(make_url(settings.effective_database_url))
    if path is None or path.parent.is_dir():
        return
    # `db upgrade` makes BEFFROI_DATA_DIR, not the folder of a URL given by hand.
    create = (
        f"create that folder and run {UPGRADE}"
        if settings.database_url
        else f"run {UPGRADE} to create a new database there"
    )
    raise DatabaseUnavailable(
        f"no Beffroi database at {path}: the folder {path.parent} does not exist "
        f"({_where(settings)}); {HOW}, or {create}"
    )


def check_file(settings: Settings) -> None:
    """For SQLite: the file and its folder exist (so opening it creates nothing)."""
    check_folder(settings)
    path = _sqlite_path(make_url(settings.effective_database_url))
    if path is not None and not path.is_file():
        raise DatabaseUnavailable(
            f"no Beffroi database at {path} ({_where(settings)}); {HOW}, "
            f"or run {UPGRADE} to create a new one there"
        )


def _sqlstate(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        for candidate in (seen, getattr(seen, "orig", None)):
            state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
            if isinstance(state, str):
                return state
        seen = seen.__cause__ or getattr(seen, "orig", None)
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "connection refused (is the server running, on that port?)"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(settings: Settings, exc: BaseException) -> str | None:
    """One line for a failure to open or reach the configured database, or ``None`` when
    ``exc`` is not such a failure (a real bug keeps its traceback)."""
    url = make_url(settings.effective_database_url)
    if not isinstance(exc, OSError | DBAPIError):
        return None
    if url.get_backend_name() == "sqlite":
        try:
            check_file(settings)
        except DatabaseUnavailable as missing:
            return str(missing)
        if isinstance(exc, DBAPIError) and "unable to open database file" in str(exc):
            path = _sqlite_path(url)
            return f"cannot open the database {path}: {_reason(exc)} ({_where(settings)}); {HOW}"
        return None
    database = f"database {url.database!r}" + (f" as {url.username}" if url.username else "")
    state = _sqlstate(exc)
    if state == _NO_DATABASE:
        return (
            f"{_server(url)} has no {database} ({_where(settings)}); create it "
            f"(createdb {url.database}) and run {UPGRADE}, or {HOW}"
        )
    if state in _LOGIN_REFUSED:
        return f"{_server(url)} refused {database}: {_reason(exc)} ({_where(settings)}); {HOW}"
    if isinstance(exc, OSError):
        return (
            f"cannot reach {_server(url)} for {database}: {_reason(exc)} "
            f"({_where(settings)}); start the server, or {HOW}"
        )
    return None


@contextlib.contextmanager
def translated(settings: Settings) -> Iterator[None]:
    """Inside, failing to open or reach the database raises :class:`DatabaseUnavailable`
    with :func:`explain`'s line; any other error goes through unchanged."""
    try:
        yield
    except (OSError, DBAPIError) as exc:
        message = explain(settings, exc)
        if message is None:
            raise
        raise DatabaseUnavailable(message) from exc


def _revision(connection: Connection) -> str | None:
    """The schema's Alembic revision, ``None`` when it was never migrated. (Alembic's own
    MigrationContext says the same, but logs two lines on every command.)"""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


async def require_ready(runtime: Runtime) -> None:
    """Raise :class:`DatabaseUnavailable` unless the database is there, reachable and at
    the schema this code expects."""
    settings = runtime.settings
    check_file(settings)
    with translated(settings):
        async with runtime.db.engine.connect() as connection:
            revision = await connection.run_sync(_revision)
    head = migrate.current_head()
    if revision == head:
        return
    url = make_url(settings.effective_database_url)
    what = _sqlite_path(url) or url.render_as_string(hide_password=True)
    if revision is None:
        raise DatabaseUnavailable(
            f"the database {what} has no Beffroi schema ({_where(settings)}); run {UPGRADE}, "
            f"or {HOW}"
        )
    if migrate.knows(revision):
        raise DatabaseUnavailable(
            f"the database {what} is at schema {revision} and this Beffroi needs {head} "
            f"({_where(settings)}); run {UPGRADE}"
        )
    raise DatabaseUnavailable(
        f"the database {what} is at schema {revision}, which a newer Beffroi made (this one "
        f"knows up to {head}) ({_where(settings)}); run that version, or {HOW}"
    )


async def broker_problem(host: str, port: int, timeout_s: float = 5.0) -> str:
    """Why an MQTT client cannot get to the broker at ``host:port``, in a few words: the
    TCP connection's failure, or a broker that answers TCP but not that client's session
    (its credentials, most often)."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError) as exc:
        return _reason(exc)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return "it accepts connections but not this session (see the log: credentials?)"
