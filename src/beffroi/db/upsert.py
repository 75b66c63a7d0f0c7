"""``INSERT … ON CONFLICT`` on both backends, written once.

SQLite and PostgreSQL share the syntax but SQLAlchemy gives each its own ``insert``; this
module picks the right one for a session, so areas never test the dialect themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnCollection, ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.ext.asyncio import AsyncSession

DialectInsert = PgInsert | SqliteInsert


def dialect_insert(session: AsyncSession, target: Any) -> DialectInsert:
    """The backend's ``insert(target)``, which has ``on_conflict_do_…`` and ``excluded``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


async def upsert(
    session: AsyncSession,
    target: Table | type[Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Iterable[str] = (),
    add: Iterable[str] = (),
    where: Callable[[Table, ColumnCollection[str, Any]], ColumnElement[bool]] | None = None,
) -> None:
    """Insert ``rows``; on a conflict on ``keys``, overwrite the ``update`` columns with the
    new values and add the new values to the ``add`` columns (counters), only where
    ``where(table, excluded)`` holds when given (``table``: the row in place,
    ``excluded``: the new one). With neither, a conflicting row is left as it is."""
    if not rows:
        return
    stmt = dialect_insert(session, target)
    table: Table = stmt.table  # type: ignore[assignment]
    changes: dict[str, Any] = {name: stmt.excluded[name] for name in update}
    changes.update({name: table.c[name] + stmt.excluded[name] for name in add})
    if changes:
        condition = None if where is None else where(table, stmt.excluded)
        final = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes, where=condition)
    else:
        final = stmt.on_conflict_do_nothing(index_elements=list(keys))
    await session.execute(final, list(rows))
