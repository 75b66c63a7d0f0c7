"""Migrations match the models on both backends (``alembic check``)."""

from __future__ import annotations

import asyncio

import pytest

from beffroi import migrations as migrate


@pytest.mark.asyncio
async def test_no_drift_between_models_and_migrations(database_url: str) -> None:
    # Alembic drives its own event loop: run it in a thread, off the test's loop.
    await asyncio.to_thread(migrate.check, database_url)


@pytest.mark.asyncio
async def test_upgrade_is_idempotent(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url)
    await asyncio.to_thread(migrate.check, database_url)
