"""The query parameters of the facade, read into plain values; each error is an
:class:`InvalidInput` naming the parameter as the client spelt it (``idPattern``,
``lastN``…), which the routes answer as NGSI-LD's BadRequestData."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import re2

from beffroi.core.dates import OUT_OF_RANGE, instant_in_range
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.ngsi import geo, query
from beffroi.ngsi.terms import EntityKind, kind_named, parse_entity_id, term_named

MAX_LIMIT = 1000
DEFAULT_LIMIT = 20
MAX_LAST_N = 1000
MAX_LIST = 100  # ids, types or attributes in one parameter
MAX_PATTERN = 200
OPTIONS = ("keyValues", "normalized", "temporalValues", "count")
TIMERELS = ("before", "after", "between")


def refuse(name: str, message: str) -> InvalidInput:
    """The error of a bad parameter ``name``."""
    return InvalidInput(FieldError(name, message))


def _items(name: str, value: str) -> list[str]:
    items = [v.strip() for v in value.split(",")]
    if len(items) > MAX_LIST:
        raise refuse(name, f"more than {MAX_LIST} values")
    if any(not item for item in items):
        raise refuse(name, "an empty value in the list")
    return items


def kinds(value: str | None) -> tuple[EntityKind, ...]:
    """The entity types named by ``type`` (a comma list; absent: every type)."""
    if value is None:
        return ()
    out = []
    for item in _items("type", value):
        kind = kind_named(item)
        if kind is None:
            raise refuse("type", f"unknown entity type {item[:64]!r}")
        out.append(kind)
    return tuple(dict.fromkeys(out))


def entity_ids(value: str | None) -> tuple[tuple[str, str], ...]:
    """(entity type, asset id) of each id named by ``id``; an id that is no URN of the
    facade's is refused (it could name nothing)."""
    if value is None:
        return ()
    out = []
    for item in _items("id", value):
        parsed = parse_entity_id(item)
        if parsed is None:
            raise refuse("id", f"{item[:80]!r} is no entity id (urn:ngsi-ld:<Type>:<id>)")
        out.append(parsed)
    return tuple(out)


def id_pattern(value: str | None) -> re2._Regexp | None:
    """The ``idPattern`` regular expression, matched in linear time (RE2)."""
    if value is None:
        return None
    if len(value) > MAX_PATTERN:
        raise refuse("idPattern", f"longer than {MAX_PATTERN} characters")
    try:
        return re2.compile(value)
    except re2.error as exc:
        raise refuse("idPattern", f"not a regular expression: {exc}"[:200]) from None


def attrs(value: str | None) -> tuple[str, ...]:
    """The attribute terms ``attrs`` names (absent: all)."""
    if value is None:
        return ()
    out = []
    for item in _items("attrs", value):
        term = term_named(item)
        if term is None:
            raise refuse("attrs", f"unknown attribute {item[:64]!r}")
        out.append(term)
    return tuple(dict.fromkeys(out))


def number(name: str, value: str | None, default: int, low: int, high: int) -> int:
    """An integer parameter within ``[low, high]``."""
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        raise refuse(name, f"expected a whole number between {low} and {high}")
    parsed = int(value[:12])
    if not low <= parsed <= high or len(value) > 12:
        raise refuse(name, f"expected a whole number between {low} and {high}")
    return parsed


def flag(name: str, value: str | None) -> bool:
    """A boolean parameter: ``true`` or ``false``."""
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise refuse(name, "expected true or false")


def options(value: str | None, allowed: tuple[str, ...]) -> frozenset[str]:
    """The ``options`` given (a comma list)."""
    if value is None:
        return frozenset()
    given = _items("options", value)
    unknown = [o for o in given if o not in allowed]
    if unknown:
        raise refuse("options", f"unknown option {unknown[0][:40]!r}; allowed: {list(allowed)}")
    return frozenset(given)


def instant(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset, within Beffroi's dates."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise refuse(name, "expected an ISO 8601 date-time with its offset") from None
    if moment.tzinfo is None:
        raise refuse(name, "the date-time needs its offset (Z or +hh:mm)")
    if not instant_in_range(moment):
        raise refuse(name, OUT_OF_RANGE)
    return moment


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entities a query asks for, and which of their attributes."""

    kinds: tuple[EntityKind, ...] = ()
    ids: tuple[tuple[str, str], ...] = ()
    pattern: re2._Regexp | None = None
    attrs: tuple[str, ...] = ()
    q: query.Query | None = None
    where: geo.GeoQuery | None = None


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The times a temporal query asks for: ``[since, until)`` and the last N instances."""

    since: datetime | None = None
    until: datetime | None = None
    last_n: int | None = None


def selection(
    type_: str | None,
    id_: str | None,
    pattern: str | None,
    attributes: str | None,
    q: str | None,
    georel: str | None,
    geometry: str | None,
    coordinates: str | None,
    geoproperty: str | None,
) -> Selection:
    """The selection the entity parameters make."""
    if geoproperty not in (None, "location"):
        raise refuse("geoproperty", "only location is a GeoProperty here")
    return Selection(
        kinds=kinds(type_),
        ids=entity_ids(id_),
        pattern=id_pattern(pattern),
        attrs=attrs(attributes),
        q=query.parse(q, term_named) if q is not None else None,
        where=geo.parse(georel, geometry, coordinates),
    )


def time_window(
    timerel: str | None, time_at: str | None, end_time_at: str | None, last_n: str | None
) -> TimeWindow:
    """The window ``timerel``, ``timeAt`` and ``endTimeAt`` make, with ``lastN``."""
    at, end = instant("timeAt", time_at), instant("endTimeAt", end_time_at)
    n = number("lastN", last_n, 0, 1, MAX_LAST_N) if last_n is not None else None
    if timerel is None:
        if at is not None or end is not None:
            raise refuse("timerel", "timeAt and endTimeAt go with timerel")
        return TimeWindow(last_n=n)
    if timerel not in TIMERELS:
        raise refuse("timerel", f"unknown relation {timerel[:40]!r}; allowed: {list(TIMERELS)}")
    if at is None:
        raise refuse("timeAt", f"timerel={timerel} needs timeAt")
    if timerel == "before":
        return TimeWindow(until=at, last_n=n)
    if timerel == "after":
        return TimeWindow(since=at, last_n=n)
    if end is None:
        raise refuse("endTimeAt", "timerel=between needs endTimeAt")
    if end <= at:
        raise refuse("endTimeAt", "must be after timeAt")
    return TimeWindow(since=at, until=end, last_n=n)
