"""Scratch PostgreSQL databases for tests and benchmarks: created, then dropped."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def _autocommit(server_url: str, sql: str) -> None:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_scratch_database(server_url: str, prefix: str) -> str:
    """Create an empty database named ``prefix_<random>`` on the server; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _autocommit(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    """Drop the database at ``url``, closing whatever is still connected to it."""
    parsed = make_url(url)
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    await _autocommit(server, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
