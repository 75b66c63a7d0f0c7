"""A row seen with values it does not hold, for an API shape validated from attributes."""

from __future__ import annotations

from typing import Any


class Derived:
    """A row, with the fields its API shape derives rather than reads: a count from another
    query, a state at a given moment, a location made of two columns.

    ``Shape.model_validate(Derived(row, children=3))``, for a shape validated from
    attributes (``from_attributes``), takes those fields from here and every other from the
    row: pydantic has nowhere to add a value to the object it reads, and copying every
    column into a dict first costs more than reading them where they are.
    """

    __slots__ = ("_fields", "_row")

    def __init__(self, row: object, **fields: Any) -> None:
        self._row = row
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        fields = self._fields
        return fields[name] if name in fields else getattr(self._row, name)
