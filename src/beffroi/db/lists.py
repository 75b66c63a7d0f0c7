"""``column IN (many values)`` that stays cheap at the scale of a whole city.

SQLAlchemy renders an ``IN`` list as one bound parameter per value, anew for every
statement: with 5,000 ids that rendering costs more than the query. On PostgreSQL the
values go as one array, so the statement's text is the same whatever their number and the
whole list fits in one query. The array is unnested into a set (``column IN (SELECT
unnest($1))``) rather than compared with ``= ANY($1)``: a prepared statement keeps the
plan it got while the table was small, and a sequential scan testing every row against
every element of a 5,000-value array took 3.9 s where a hashed set takes milliseconds.
SQLite has no arrays and a limit on parameters: there the list is cut into parts of
:data:`SQLITE_PART`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

SQLITE_PART = 900
# One PostgreSQL query per this many values: a bound on a single array parameter.
POSTGRES_PART = 50_000


def is_postgres(session: AsyncSession) -> bool:
    """Whether ``session`` talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def parts(session: AsyncSession, values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` in as few parts as the database takes in one :func:`among`."""
    size = POSTGRES_PART if is_postgres(session) else SQLITE_PART
    for start in range(0, len(values), size):
        yield values[start : start + size]


def among(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values`` (a part from :func:`parts`)."""
    result: ColumnElement[bool]
    if is_postgres(session):
        array = bindparam(None, list(values), type_=ARRAY(column.type))
        result = column.in_(select(func.unnest(array)).scalar_subquery())
    else:
        result = column.in_(values)
    return result
