"""Query parameters over closed vocabularies: one value, or a comma-separated list.

A filter that names a value Beffroi does not know is refused (422) naming the parameter,
the unknown values and the allowed ones: a typo must never pass for an empty answer. The
routes take them as dependencies, typed as what they give::

    states: Annotated[list[CommandState], enum_list("state", CommandState, "States")]

The OpenAPI schema documents the allowed values (``enum``, or a ``pattern`` for lists), so
that clients and the fuzzer know them; the check itself is done here, to word the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query

from beffroi.core.errors import FieldError, InvalidInput

E = TypeVar("E", bound=StrEnum)
# Beyond this many, the allowed values are summed up rather than listed in an error.
MAX_LISTED = 40


def comma_list(value: str | None) -> list[str]:
    """Items of a comma-separated query parameter, blanks left out, each once in order."""
    if not value:
        return []
    return list(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))


def unknown_values(name: str, unknown: Sequence[str], allowed: Sequence[str]) -> InvalidInput:
    """The error for values of parameter ``name`` that are not among ``allowed``."""
    listed = ", ".join(allowed[:MAX_LISTED]) + (" …" if len(allowed) > MAX_LISTED else "")
    given = ", ".join(repr(v[:64]) for v in unknown[:5])
    noun = "value" if len(unknown) == 1 else "values"
    return InvalidInput(FieldError(name, f"unknown {noun} {given}; allowed: {listed}"))


def known_values(
    name: str, value: str | None, allowed: Sequence[str], known: Callable[[str], bool] | None = None
) -> list[str]:
    """The items of ``value``, each one of ``allowed`` (or accepted by ``known``), or
    :class:`InvalidInput` naming the parameter, the unknown items and the allowed ones."""
    items = comma_list(value)
    accepts = known or set(allowed).__contains__
    unknown = [item for item in items if not accepts(item)]
    if unknown:
        raise unknown_values(name, unknown, allowed)
    return items


def _pattern(alternatives: Iterable[str]) -> str:
    one = "(" + "|".join(alternatives) + ")"
    return f"^{one}(,{one})*$"


def _query(
    name: str, description: str, schema: dict[str, Any], parse: Callable[[str | None], Any]
) -> Any:
    def dependency(
        value: str = Query(None, alias=name, description=description, json_schema_extra=schema),
    ) -> Any:
        return parse(value)

    return Depends(dependency)


def choice_list(
    name: str,
    allowed: Sequence[str],
    description: str,
    *,
    known: Callable[[str], bool] | None = None,
    patterns: Sequence[str] | None = None,
) -> Any:
    """A comma-separated list of ``allowed`` values, given to the route as ``list[str]``.

    ``known`` accepts values beyond the listed ones (indexed telemetry keys, say), which
    ``patterns`` (regular expressions) then document.
    """
    alternatives = patterns if patterns is not None else [re.escape(v) for v in allowed]
    return _query(
        name,
        f"{description}, comma-separated, of: {', '.join(allowed)}",
        {"pattern": _pattern(alternatives)},
        lambda value: known_values(name, value, allowed, known),
    )


def enum_list(name: str, kind: type[E], description: str) -> Any:
    """A comma-separated list of ``kind``'s values, given to the route as ``list[kind]``."""
    allowed = [member.value for member in kind]
    return _query(
        name,
        f"{description}, comma-separated, of: {', '.join(allowed)}",
        {"pattern": _pattern(re.escape(v) for v in allowed)},
        lambda value: [kind(v) for v in known_values(name, value, allowed)],
    )


def choice(name: str, allowed: Collection[str], description: str) -> Any:
    """One of ``allowed``, or nothing: given to the route as ``str | None``."""
    ordered = list(allowed)

    def parse(value: str | None) -> str | None:
        if not value:
            return None
        if value not in allowed:
            raise unknown_values(name, [value], ordered)
        return value

    return _query(name, description, {"enum": ordered}, parse)


# The largest page a list gives at once: one limit for every list of the API.
PAGE_MAX = 1000
PageLimit = Annotated[int, Query(ge=1, le=PAGE_MAX)]
