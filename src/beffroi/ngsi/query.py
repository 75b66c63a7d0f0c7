"""A safe subset of the NGSI-LD query language (``q``), parsed here and evaluated over the
entities' plain values: never turned into SQL, never ``eval``.

Grammar (ETSI GS CIM 009, 4.9, without regular expressions and without paths into
compound values)::

    query    := and ( "|" and )*
    and      := term ( ";" term )*
    term     := "(" query ")" | attr [ op value ]
    op       := "==" | "!=" | ">=" | "<=" | ">" | "<"
    value    := number | "quoted text" | true | false | date-time
              | value "," value ...   (== and != only: any of)
              | value ".." value      (== and != only: a range)

An ``attr`` alone asks that the attribute exists. Every error is an
:class:`InvalidInput` naming ``q``; nothing a client sends raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beffroi.core.errors import FieldError, InvalidInput

MAX_LENGTH = 1000
MAX_DEPTH = 8
Value = float | str | bool | datetime

_QUOTED = r'"(?:[^"\\]|\\.)*"'
_BARE = r'[^\s;|()=!<>",]+'
_ITEM = re.compile(f"{_QUOTED}|{_BARE}")
_TOKEN = re.compile(
    rf"""\s*(?:
      (?P<op>==|!=|>=|<=|>|<)
    | (?P<punct>[;|()])
    | (?P<list>(?:{_QUOTED}|{_BARE})(?:,(?:{_QUOTED}|{_BARE}))+)
    | (?P<text>{_QUOTED})
    | (?P<word>{_BARE})
    )""",
    re.VERBOSE,
)
_ATTR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$|^https?://[^\s,]{1,200}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(FieldError("q", message))


@dataclass(frozen=True, slots=True)
class Comparison:
    """``attr op value``, or ``attr`` alone (``op`` None) for existence."""

    attr: str
    op: str | None = None
    values: tuple[Value, ...] = ()
    range_: tuple[Value, Value] | None = None


@dataclass(frozen=True, slots=True)
class Both:
    """Every part holds (``;``)."""

    parts: tuple[Query, ...]


@dataclass(frozen=True, slots=True)
class Either:
    """Any part holds (``|``)."""

    parts: tuple[Query, ...]


Query = Comparison | Both | Either


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].isspace():
            break
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise _refuse(f"cannot read {text[position : position + 20]!r}")
        kind = found.lastgroup or ""
        out.append((kind, found.group(kind)))
        position = found.end()
    return out


def _scalar(text: str) -> Value:
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise _refuse(f"{text!r} is not a finite number")
        return number
    if _DATE_TIME.match(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _refuse(f"{text!r} is not a date-time") from None
    raise _refuse(f"{text[:40]!r}: text values go in double quotes")


def _value_list(raw: str, op: str) -> tuple[tuple[Value, ...], tuple[Value, Value] | None]:
    """Values of ``raw`` (one word or quoted text, maybe a list or a range)."""
    if raw.startswith('"') and _ITEM.fullmatch(raw):
        return (_scalar(raw),), None
    if ".." in raw and not raw.startswith('"'):
        low, _, high = raw.partition("..")
        if op not in ("==", "!="):
            raise _refuse(f"a range goes with == or !=, not {op}")
        return (), (_scalar(low), _scalar(high))
    parts = _ITEM.findall(raw)
    if len(parts) > 1 and op not in ("==", "!="):
        raise _refuse(f"a list of values goes with == or !=, not {op}")
    return tuple(_scalar(p) for p in parts), None


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], known: Callable[[str], str | None]):
        self.tokens = tokens
        self.at = 0
        self.known = known

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _refuse("the query ends too early")
        self.at += 1
        return token

    def query(self, depth: int) -> Query:
        if depth > MAX_DEPTH:
            raise _refuse(f"more than {MAX_DEPTH} levels of parentheses")
        parts = [self.conjunction(depth)]
        while self.peek() == ("punct", "|"):
            self.take()
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else Either(tuple(parts))

    def conjunction(self, depth: int) -> Query:
        parts = [self.term(depth)]
        while self.peek() == ("punct", ";"):
            self.take()
            parts.append(self.term(depth))
        return parts[0] if len(parts) == 1 else Both(tuple(parts))

    def term(self, depth: int) -> Query:
        kind, text = self.take()
        if (kind, text) == ("punct", "("):
            inner = self.query(depth + 1)
            if self.take() != ("punct", ")"):
                raise _refuse("a parenthesis is not closed")
            return inner
        if kind != "word" or not _ATTR.match(text):
            raise _refuse(f"expected an attribute name, found {text[:40]!r}")
        term = self.known(text)
        if term is None:
            raise _refuse(f"unknown attribute {text[:64]!r}")
        following = self.peek()
        if following is None or following[0] != "op":
            return Comparison(term)
        _, op = self.take()
        kind, raw = self.take()
        if kind not in ("word", "text", "list"):
            raise _refuse(f"expected a value after {op}, found {raw[:40]!r}")
        values, range_ = _value_list(raw, op)
        return Comparison(term, op, values, range_)


def parse(text: str, known: Callable[[str], str | None]) -> Query:
    """Parse a ``q`` expression; ``known`` gives the term an attribute name stands for
    (None: unknown, refused)."""
    if len(text) > MAX_LENGTH:
        raise _refuse(f"longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(text), known)
    if not parser.tokens:
        raise _refuse("empty query")
    out = parser.query(0)
    if parser.peek() is not None:
        raise _refuse(f"unexpected {parser.peek()[1][:40]!r}")  # type: ignore[index]
    return out


def _comparable(left: Any, right: Value) -> tuple[Any, Any] | None:
    """The two values in one type, or None when they do not compare (a text and a number
    never match, as in NGSI-LD)."""
    if isinstance(right, bool) or isinstance(left, bool):
        return (left, right) if isinstance(left, bool) and isinstance(right, bool) else None
    if isinstance(right, float):
        return (float(left), right) if isinstance(left, int | float) else None
    if isinstance(right, datetime):
        if isinstance(left, str):
            try:
                moment = datetime.fromisoformat(left.replace("Z", "+00:00"))
            except ValueError:
                return None
            return (moment, right) if moment.tzinfo is not None else None
        return None
    return (left, right) if isinstance(left, str) else None


def _compare(left: Any, op: str, right: Value) -> bool:
    pair = _comparable(left, right)
    if pair is None:
        return op == "!="
    a, b = pair
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if isinstance(a, bool):
        return False  # booleans have no order
    return bool({">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op])


def _holds_one(value: Any, c: Comparison) -> bool:
    if c.range_ is not None:
        low, high = c.range_
        inside = _compare(value, ">=", low) and _compare(value, "<=", high)
        return inside if c.op == "==" else not inside
    assert c.op is not None
    if c.op == "!=":
        return all(_compare(value, "!=", v) for v in c.values)
    return any(_compare(value, c.op, v) for v in c.values)


def matches(query: Query, values: Mapping[str, Any]) -> bool:
    """Whether an entity's plain values (term: value, as in keyValues) satisfy ``query``."""
    if isinstance(query, Both):
        return all(matches(p, values) for p in query.parts)
    if isinstance(query, Either):
        return any(matches(p, values) for p in query.parts)
    if query.attr not in values:
        return False
    if query.op is None:
        return True
    value = values[query.attr]
    if isinstance(value, list):  # a relationship to several: any of them
        return any(_holds_one(v, query) for v in value)
    return _holds_one(value, query)


def terms_of(query: Query) -> set[str]:
    """The attribute terms a query names."""
    if isinstance(query, Comparison):
        return {query.attr}
    return set().union(*(terms_of(p) for p in query.parts))
