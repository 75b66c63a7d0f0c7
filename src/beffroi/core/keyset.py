"""Keyset pagination for every list, and the one cursor format that carries its place.

A list is sorted on keys that are unique together (an id; a time then an id). A page is
read with ``WHERE (k1, k2) > (last values) ORDER BY k1, k2 LIMIT n + 1``: the extra row
says whether there is a next page without counting, and the next page starts after the
page's last row however many rows are written meanwhile (an offset would skip or repeat).

The cursor handed to clients is the last row's keys as a JSON array, in url-safe base64
without padding. Clients pass it back without reading it, so its format may change. It is
decoded against the types the list expects, and anything else (damaged, forged, another
list's) is an :class:`InvalidInput` naming the ``cursor`` parameter, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, TypeDecorator, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from beffroi.core.errors import FieldError, InvalidInput

Key = int | str | datetime
KEY_TYPES: tuple[type, ...] = (int, str, datetime)
MAX_CURSOR = 512  # characters: far above any real cursor, and a bound on decoding work
INT_RANGE = range(-(2**63), 2**63)  # what a BIGINT holds on both backends
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")

AnySelect = TypeVar("AnySelect", bound="Select[*tuple[Any, ...]]")


def _bad(field: str) -> InvalidInput:
    return InvalidInput(FieldError(field, "not a cursor returned by this API"))


def _wire(value: Key) -> int | str:
    """A key as JSON holds it; datetimes as whole microseconds since the epoch (exact)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a cursor holds aware datetimes only")
        return (value.astimezone(UTC) - EPOCH) // MICROSECOND
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"a cursor cannot hold {type(value).__name__}")
    if isinstance(value, int) and value not in INT_RANGE:
        raise ValueError("a cursor holds 64-bit integers only")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("a cursor holds no NUL character (no database stores one)")
    return value


def encode(values: Sequence[Key]) -> str:
    """The opaque cursor after a row whose sort keys are ``values`` (64-bit integers,
    strings without NUL, aware datetimes); any other value is a programming error."""
    text = json.dumps([_wire(v) for v in values], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read(value: object, kind: type) -> Key:
    """The key of type ``kind`` that JSON ``value`` stands for; ``ValueError`` otherwise."""
    if kind is str:
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError(value)
        value.encode()  # a lone surrogate (from "\ud800") is no text a database stores
        return value
    if type(value) is not int or value not in INT_RANGE:  # bool is an int, and not a key
        raise ValueError(value)
    if kind is int:
        return value
    return EPOCH + value * MICROSECOND  # OverflowError beyond years 1 to 9999


def decode(cursor: str, types: Sequence[type], *, field: str = "cursor") -> tuple[Key, ...]:
    """The sort keys a cursor holds, of ``types``; anything else is an
    :class:`InvalidInput` naming ``field``."""
    if len(cursor) > MAX_CURSOR or not _ALPHABET.fullmatch(cursor):
        raise _bad(field)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode())
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError(values)
        return tuple(_read(v, kind) for v, kind in zip(values, types, strict=True))
    except (binascii.Error, ValueError, OverflowError, RecursionError):
        # binascii.Error: bad padding; ValueError: not UTF-8, not JSON, not the keys.
        raise _bad(field) from None


def _python_type(column: InstrumentedAttribute[Any]) -> type:
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    kind: type = sql_type.python_type
    if kind not in KEY_TYPES:
        raise TypeError(f"{column} is no sort key of a cursor ({kind.__name__})")
    return kind


@dataclass(frozen=True, slots=True)
class Keyset:
    """The order of a list: columns unique together, all ascending or all descending."""

    columns: tuple[InstrumentedAttribute[Any], ...]
    descending: bool = False

    @property
    def types(self) -> tuple[type, ...]:
        """The Python type of each key, as cursors of this list hold them."""
        return tuple(_python_type(c) for c in self.columns)

    def decode(self, cursor: str) -> tuple[Key, ...]:
        """The keys of a cursor of this list; a bad one is an error naming ``cursor``."""
        return decode(cursor, self.types)

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """The rows that come after the row whose keys are ``values``, in this order."""
        left: Any = self.columns[0] if len(self.columns) == 1 else tuple_(*self.columns)
        right: Any = values[0] if len(self.columns) == 1 else tuple_(*values)
        return left < right if self.descending else left > right  # type: ignore[no-any-return]

    def apply(self, stmt: AnySelect, after: Sequence[Any] | None, limit: int) -> AnySelect:
        """``stmt`` past the row whose keys are ``after`` (from the start when ``None``),
        in this order, one row more than ``limit`` (to tell whether a page follows)."""
        if after is not None:
            stmt = stmt.where(self.after(after))
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        return stmt.order_by(*order).limit(limit + 1)

    def cut(self, rows: Sequence[Any], limit: int) -> tuple[list[Any], tuple[Any, ...] | None]:
        """The page of ``rows`` read by :meth:`apply`, and the keys of its last row when
        another page follows (``None`` on the last page)."""
        if len(rows) <= limit:
            return list(rows), None
        last = rows[limit - 1]
        return list(rows[:limit]), tuple(getattr(last, c.key) for c in self.columns)

    async def page(
        self,
        session: AsyncSession,
        stmt: Select[*tuple[Any, ...]],
        *,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Any], str | None]:
        """Run ``stmt`` for the page after ``cursor`` (the first when ``None``): its rows
        (entities when ``stmt`` selects one mapped class, rows otherwise) and the cursor of
        the next page (``None`` on the last page)."""
        after = self.decode(cursor) if cursor else None
        result = await session.execute(self.apply(stmt, after, limit))
        described = stmt.column_descriptions
        entities = len(described) == 1 and isinstance(described[0]["expr"], type)
        rows = result.scalars().all() if entities else result.all()
        page, last = self.cut(rows, limit)
        return page, None if last is None else encode(last)
