"""Alembic environment: async engines, batch mode for SQLite, the whole Beffroi schema."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from beffroi.tables import Base
from beffroi.telemetry.partitions import PREFIX as PARTITION_PREFIX

config = context.config
target_metadata = Base.metadata


def _include(obj: object, name: str | None, type_: str, reflected: bool, _other: object) -> bool:
    # Daily partitions of telemetry_points are created at run time, not by migrations.
    return not (type_ == "table" and reflected and (name or "").startswith(PARTITION_PREFIX))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run_offline() -> None:
    """Emit SQL without a database (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(_run_async())
