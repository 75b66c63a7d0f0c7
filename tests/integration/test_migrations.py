"""Migrations match the models on both backends (``alembic check``)."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from beffroi import migrations as migrate
from beffroi.commands import tracker
from beffroi.commands.models import AWAITING_ROWS


@pytest.mark.asyncio
async def test_no_drift_between_models_and_migrations(database_url: str) -> None:
    # Alembic drives its own event loop: run it in a thread, off the test's loop.
    await asyncio.to_thread(migrate.check, database_url)


@pytest.mark.asyncio
async def test_upgrade_is_idempotent(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url)
    await asyncio.to_thread(migrate.check, database_url)


def test_the_awaiting_index_holds_the_rows_the_tracker_reads() -> None:
    # alembic check does not compare partial indexes' conditions: the migration froze the
    # model's, and the tracker's reads must name the same ones for the index to serve.
    path = migrate.MIGRATIONS_DIR / "versions" / "0029_commands_awaiting_index.py"
    spec = importlib.util.spec_from_file_location("m0029", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.AWAITING_ROWS == AWAITING_ROWS
    assert AWAITING_ROWS in tracker._AWAITING_PG
