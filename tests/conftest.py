"""Shared fixtures: a real database per test (SQLite and PostgreSQL), the app, users.

Every database test runs twice, once per backend. PostgreSQL runs when
``BEFFROI_TEST_POSTGRES_URL`` is set (a server URL; a scratch database is created on it),
and must run when ``BEFFROI_TEST_REQUIRE_POSTGRES=1`` (as in CI), else it skips with a reason.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from beffroi import migrations as migrate
from beffroi.accounts import passwords
from beffroi.communes.service import ensure_default_communes
from beffroi.config import Settings, load_settings
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.db import Database
from beffroi.tables import Base
from tests.scratch import create_scratch_database, drop_database
from tests.support import Person, make_person

POSTGRES_URL = os.environ.get("BEFFROI_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("BEFFROI_TEST_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


# Files whose tests are slow (tens of seconds each: a real server under a fuzzer, the whole
# demo, processes killed and restarted) or that break things on purpose.
SLOW_FILES = frozenset(
    {
        "test_openapi_fuzz.py",
        "test_ingest_fuzz.py",
        "test_cli.py",
        "test_cli_unreachable.py",
        "test_scheduler_cli.py",
        "test_commune_scope.py",
    }
)
FAULT_FILES = frozenset({"test_ingest_faults.py", "test_taken_ports.py"})


# The tests make thousands of accounts and sign-ins: argon2id at the library's recommended
# cost (a fifth of a CPU second each) would be minutes of the suite. Argon2id with the
# least memory and time stands in, except in the tests of hashing itself.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hash passwords with :data:`TEST_HASHER` unless the test is marked
    ``real_password_hashing``."""
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(passwords, "_HASHER", TEST_HASHER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, so ``make test-fast`` can leave out PostgreSQL, the
    browser, a real MQTT broker, fault injection and the slowest runs: ``-m "not postgres
    and not browser and not mqtt and not faults and not slow"``.

    The slowest files run first: with the suite spread over workers (``make test`` runs
    pytest-xdist), a minutes-long fuzz run started last would leave the other workers idle
    while it ends the suite alone. The order is otherwise kept (pytest groups tests by
    backend, so that each worker sets each database up once)."""
    items.sort(key=lambda item: item.path.name not in SLOW_FILES | FAULT_FILES)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("template") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        if "postgresql" in item.name and "[" in item.name:
            item.add_marker(pytest.mark.postgres)
        path = item.path
        if "browser" in path.parts:
            item.add_marker(pytest.mark.browser)
        if _uses_a_broker(item):
            item.add_marker(pytest.mark.mqtt)
        if path.name in FAULT_FILES:
            item.add_marker(pytest.mark.faults)
        if path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


def _uses_a_broker(item: pytest.Item) -> bool:
    """Whether the test's module starts brokers or devices: it uses tests.mqtt_support, or
    a test module that does (the commands' hub, say)."""
    module = getattr(item, "module", None)
    return module is not None and _broker_module(module.__name__)


@functools.cache
def _broker_module(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None:
        return False
    used = {getattr(value, "__module__", None) for value in vars(module).values()}
    return "tests.mqtt_support" in used or any(
        other != name and other.startswith("tests.") and _broker_module(other)
        for other in used
        if isinstance(other, str)
    )


def _skip_or_fail_postgres(reason: str) -> None:
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (BEFFROI_TEST_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Template:
    """A migrated database with the default communes, copied or reset for each test."""

    backend: str
    url: str
    sqlite_file: Path | None = None


async def _seed(url: str) -> None:
    db = Database(url)
    try:
        settings = load_settings(database_url=url)
        await ensure_default_communes(Runtime(settings, db).system_context("tests"))
    finally:
        await db.dispose()


def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("template") / "beffroi.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    _run(_seed(url))
    return Template("sqlite", url, path)


@pytest.fixture(scope="session", params=BACKENDS)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    """A migrated database with the default communes, made once per session and backend.

    PostgreSQL gets a scratch database of its own, dropped at the end.
    """
    if request.param == "sqlite":
        yield _sqlite_template(tmp_path_factory)
        return
    if not POSTGRES_URL:
        _skip_or_fail_postgres("BEFFROI_TEST_POSTGRES_URL is not set")
    try:
        url = asyncio.run(create_scratch_database(POSTGRES_URL, "beffroi_test"))
    except Exception as exc:  # any failure to reach the server is the reason to give
        _skip_or_fail_postgres(f"cannot create a database at {POSTGRES_URL}: {exc}")
    migrate.upgrade(url)
    _run(_seed(url))
    yield Template("postgresql", url)
    _run(drop_database(url))


# One-row tables the migrations fill: reset in place, not emptied.
HEAD_TABLES = {"audit_head", "credential_head"}
TABLES_TO_RESET = [
    t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in HEAD_TABLES
]


# Which tables hold rows, in one round trip: only those are emptied.
FILLED_TABLES = text(
    " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})"  # noqa: S608 (our names)
        for name in TABLES_TO_RESET
    )
)
RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE schemaname = current_schema()"
)


async def _reset_postgres(url: str) -> None:
    """Empty what the previous test filled, as a fresh database would be.

    DELETE of the few tables a test filled, not TRUNCATE of them all: TRUNCATE rewrites
    every table's files and catalogue entries, some seconds per test over eighty tables,
    where a test fills a handful with a few rows. Tables are emptied dependents first
    (:data:`TABLES_TO_RESET`), and every sequence starts again, as RESTART IDENTITY did.
    Triggers are off meanwhile (the test server's superuser may): the append-only tables
    refuse a DELETE, as they should everywhere else."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            filled = set((await conn.execute(FILLED_TABLES)).scalars())
            for name in TABLES_TO_RESET:
                if name in filled:
                    await conn.execute(text(f"DELETE FROM {name}"))  # noqa: S608 (our own names)
            await conn.execute(RESTART_SEQUENCES)
            await conn.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})
            await conn.execute(text("UPDATE credential_head SET seq = 0"))
    finally:
        await engine.dispose()


@pytest.fixture
def backend(template: Template) -> str:
    """The storage backend of this test run."""
    return template.backend


@pytest.fixture
async def database_url(template: Template, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database with the default communes, for one test."""
    if template.sqlite_file is not None:
        target = tmp_path / "beffroi.db"
        shutil.copyfile(template.sqlite_file, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    await _reset_postgres(template.url)
    await _seed(template.url)
    yield template.url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test database."""
    return load_settings(database_url=database_url, data_dir=tmp_path)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """The runtime of one test; fails the test if it leaves tasks running."""
    before = asyncio.all_tasks()
    db = Database(settings.effective_database_url)
    try:
        yield Runtime(settings=settings, db=db)
    finally:
        await db.dispose()
    await asyncio.sleep(0)
    leaked = [
        t
        for t in asyncio.all_tasks()
        if t not in before and not t.done() and t is not asyncio.current_task()
    ]
    assert not leaked, f"test leaked running tasks: {leaked}"


@pytest.fixture
def system(runtime: Runtime) -> Context:
    """A context acting as the system."""
    return runtime.system_context("tests")


@pytest.fixture(scope="session")
def shared_app() -> FastAPI:
    """One application per worker: building its routes takes a noticeable part of a
    second, and every test would pay it (:func:`renew_state` gives it each test's runtime)."""
    from beffroi.web.app import create_app

    return create_app()


@pytest.fixture
async def client(runtime: Runtime, shared_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with state of its own."""
    from beffroi.web.app import renew_state

    renew_state(shared_app, runtime)
    transport = httpx.ASGITransport(app=shared_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def admin(system: Context) -> Person:
    """A metropolis-wide administrator."""
    return await make_person(system, "admin", [Role.ADMIN])
