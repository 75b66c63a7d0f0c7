"""Bulk inserts with PostgreSQL ``COPY`` inside the caller's SQLAlchemy transaction.

For tables written tens of thousands of rows at a time (a command to the whole city):
the driver's binary ``COPY`` is several times faster than a multi-row ``INSERT``. Other
backends get the ordinary executemany.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 5000


def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in this transaction."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), CHUNK):
            await session.execute(insert(table), list(rows[start : start + CHUNK]))
        return
    columns = list(rows[0])
    as_json = [i for i, c in enumerate(columns) if c in _json_columns(table)]
    values = operator.itemgetter(*columns) if len(columns) > 1 else lambda r: (r[columns[0]],)
    records: list[Sequence[Any]]
    if not as_json:
        records = [values(row) for row in rows]
    else:
        # asyncpg's COPY takes JSON columns as text. A batch's rows share one parameters
        # object: each distinct object is encoded once (the rows keep them all alive, so
        # their ids stay unique for the length of this call).
        encoded: dict[int, str] = {}
        records = []
        for row in rows:
            record = list(values(row))
            for i in as_json:
                value = record[i]
                if value is not None:
                    text = encoded.get(id(value))
                    if text is None:
                        text = encoded[id(value)] = orjson.dumps(value).decode()
                    record[i] = text
            records.append(record)
    conn = await session.connection()
    # SQLAlchemy opens the transaction lazily: make sure COPY runs inside it.
    await conn.exec_driver_sql("SELECT 1")
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table.name, records=records, columns=columns
    )


async def driver_connection(session: AsyncSession) -> Any:
    """The driver's own connection under ``session``, inside its transaction (begun here
    if the session has not begun it yet): for statements SQLAlchemy would run one row at
    a time, sent as they are with arrays bound."""
    conn = await session.connection()
    # SQLAlchemy opens the transaction lazily: make sure what follows runs inside it.
    await conn.exec_driver_sql("SELECT 1")
    raw = await conn.get_raw_connection()
    return raw.driver_connection
