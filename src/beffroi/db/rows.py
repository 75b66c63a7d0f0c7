"""A row's stored values, for an API shape that also shows values the row does not hold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from beffroi.db.base import Base


def columns(row: Base) -> dict[str, Any]:
    """The row's column values by attribute name.

    An API shape is validated from a row's attributes (``from_attributes``), but pydantic
    has nowhere to add a value the row does not hold (a count from another query, a state
    at a given moment): such a shape is validated from these merged with those values.
    """
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}
