"""A small, safe subset of ODSQL (the query language of the Opendatasoft Explore API that
French portals speak), parsed into a tree of frozen dataclasses.

Parsing knows no dataset: :mod:`beffroi.opendata.query` checks the fields against the
dataset's declared columns and turns the tree into polars expressions. Nothing a client
sends ever becomes SQL: the only things it can name are the published columns, the
operators below and a handful of aggregate and date functions.

``where``: ``field = 'text'``, ``<``, ``<=``, ``>``, ``>=``, ``!=`` / ``<>``, ``AND``,
``OR``, ``NOT``, parentheses, ``field IN (v, …)``, ``field NOT IN (…)``, ``field IS
[NOT] NULL``, ``field LIKE 'pat%'``, ``search('words')``; values: 'text' or "text",
numbers, ``true``/``false``, ``date'2026-01-31'``.
``select``: ``*``, fields, ``count(*)``, ``count|sum|avg|min|max|median(field)``, each
with ``AS alias``. ``group_by``: fields, or ``year|month|day|hour(field)``, with ``AS``.
``order_by``: fields, aliases or aggregates, each ``ASC`` (default) or ``DESC``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, VisitError

from beffroi.core.errors import BeffroiError

GRAMMAR = r"""
start_where: expr
start_select: select_item ("," select_item)*
start_group_by: group_item ("," group_item)*
start_order_by: order_item ("," order_item)*

?expr: and_expr (_OR and_expr)*    -> any_of
?and_expr: not_expr (_AND not_expr)* -> all_of
?not_expr: _NOT not_expr           -> negate
    | atom
?atom: "(" expr ")"
    | field COMP value             -> compare
    | field _IS _NULL              -> is_null
    | field _IS _NOT _NULL         -> not_null
    | field _IN "(" values ")"     -> among
    | field _NOT _IN "(" values ")" -> not_among
    | field _LIKE STRING           -> like
    | _SEARCH "(" STRING ")"       -> search

values: value ("," value)*
?value: STRING                     -> text
    | NUMBER                       -> number
    | _TRUE                        -> yes
    | _FALSE                       -> no
    | _DATE STRING                 -> day

select_item: selected (_AS NAME)?
?selected: "*"                     -> star
    | field
    | AGG "(" "*" ")"              -> count_all
    | AGG "(" field ")"            -> aggregate
    | TRUNC "(" field ")"          -> truncated
group_item: grouped (_AS NAME)?
?grouped: field
    | TRUNC "(" field ")"          -> truncated
order_item: ordered DIRECTION?
?ordered: field
    | AGG "(" "*" ")"              -> count_all
    | AGG "(" field ")"            -> aggregate

field: NAME | QUOTED_NAME

_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IS.2: /is\b/i
_NULL.2: /null\b/i
_IN.2: /in\b/i
_LIKE.2: /like\b/i
_AS.2: /as\b/i
_TRUE.2: /true\b/i
_FALSE.2: /false\b/i
_SEARCH.2: /search(?=\s*\()/i
_DATE.2: /date(?=\s*['"])/i
AGG.2: /(count|sum|avg|min|max|median)(?=\s*\()/i
TRUNC.2: /(year|month|day|hour)(?=\s*\()/i
DIRECTION.2: /(asc|desc)\b/i
COMP: "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /`[A-Za-z_][A-Za-z0-9_]*`/
STRING: /"(\\.|[^"\\])*"/ | /'(\\.|[^'\\])*'/
NUMBER: /-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/

%ignore /\s+/
"""

PARSER = Lark(
    GRAMMAR,
    start=["start_where", "start_select", "start_group_by", "start_order_by"],
    parser="lalr",
    propagate_positions=True,
    maybe_placeholders=False,
)
MAX_LENGTH = 2000
MAX_DEPTH = 32


class BadQuery(BeffroiError):
    """A query the API cannot answer: 400, naming the parameter, and where in it."""

    status = 400
    slug = "bad-query"
    title = "Bad query"

    def __init__(self, parameter: str, message: str, position: int | None = None) -> None:
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{parameter}{where}: {message}", field=parameter, position=position)


# --- the tree ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """A column named in the query, and where (1-based character position)."""

    name: str
    position: int


@dataclass(frozen=True, slots=True)
class Value:
    """A literal: text, number, boolean or date."""

    value: str | float | int | bool | date


@dataclass(frozen=True, slots=True)
class Compare:
    """``field <op> value``."""

    field: Field
    op: str
    value: Value


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every condition holds."""

    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one condition holds."""

    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Negate:
    """The condition does not hold."""

    item: Any


@dataclass(frozen=True, slots=True)
class IsNull:
    """The field has (``negated``: has not) no value."""

    field: Field
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Among:
    """The field's value is (``negated``: is not) one of the values."""

    field: Field
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Like:
    """Text matching a pattern where ``%`` is any run of characters and ``_`` one."""

    field: Field
    pattern: str


@dataclass(frozen=True, slots=True)
class Search:
    """Words found in any text column, case aside."""

    words: str


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``count(*)`` (``field`` None) or ``fn(field)``."""

    fn: str
    field: Field | None

    @property
    def label(self) -> str:
        """The output column's default name, as written canonically: ``sum(vehicles)``."""
        return f"{self.fn}({self.field.name if self.field else '*'})"


@dataclass(frozen=True, slots=True)
class Star:
    """Every column."""


@dataclass(frozen=True, slots=True)
class Truncated:
    """A date or time truncated to its year, month, day or hour."""

    unit: str
    field: Field

    @property
    def label(self) -> str:
        """``month(day)``."""
        return f"{self.unit}({self.field.name})"


@dataclass(frozen=True, slots=True)
class Item:
    """An expression of select or group_by, with its alias."""

    expr: Field | Aggregate | Star | Truncated
    alias: str | None = None

    @property
    def name(self) -> str:
        """The output column's name."""
        if self.alias:
            return self.alias
        if isinstance(self.expr, Field):
            return self.expr.name
        if isinstance(self.expr, Aggregate | Truncated):
            return self.expr.label
        return "*"


@dataclass(frozen=True, slots=True)
class Order:
    """A sort key: a field or alias, or an aggregate; descending or not."""

    expr: Field | Aggregate
    descending: bool = False


def _unquote(token: str) -> str:
    body = token[1:-1]
    # Only the quote and the backslash are escaped; anything else stays as written.
    return body.replace("\\" + token[0], token[0]).replace("\\\\", "\\")


@v_args(inline=True)
class _Tree(Transformer[Token, Any]):
    def field(self, token: Token) -> Field:
        name = token.strip("`")
        return Field(name, token.column or 0)

    def text(self, token: Token) -> Value:
        return Value(_unquote(token))

    def number(self, token: Token) -> Value:
        number = float(token)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return Value(int(token) if token.lstrip("-").isdigit() else number)

    def yes(self) -> Value:
        return Value(True)

    def no(self) -> Value:
        return Value(False)

    def day(self, token: Token) -> Value:
        return Value(date.fromisoformat(_unquote(token)))

    def values(self, *items: Value) -> tuple[Value, ...]:
        return items

    def compare(self, field: Field, op: Token, value: Value) -> Compare:
        return Compare(field, "!=" if op == "<>" else str(op), value)

    def all_of(self, *items: Any) -> Any:
        return items[0] if len(items) == 1 else AllOf(items)

    def any_of(self, *items: Any) -> Any:
        return items[0] if len(items) == 1 else AnyOf(items)

    def negate(self, item: Any) -> Negate:
        return Negate(item)

    def is_null(self, field: Field) -> IsNull:
        return IsNull(field)

    def not_null(self, field: Field) -> IsNull:
        return IsNull(field, negated=True)

    def among(self, field: Field, values: tuple[Value, ...]) -> Among:
        return Among(field, values)

    def not_among(self, field: Field, values: tuple[Value, ...]) -> Among:
        return Among(field, values, negated=True)

    def like(self, field: Field, pattern: Token) -> Like:
        return Like(field, _unquote(pattern))

    def search(self, words: Token) -> Search:
        return Search(_unquote(words))

    def star(self) -> Star:
        return Star()

    def count_all(self, fn: Token) -> Aggregate:
        if fn.lower() != "count":
            raise ValueError(f"{fn}(*) is not a function: only count(*)")
        return Aggregate("count", None)

    def aggregate(self, fn: Token, field: Field) -> Aggregate:
        return Aggregate(fn.lower(), field)

    def truncated(self, unit: Token, field: Field) -> Truncated:
        return Truncated(unit.lower(), field)

    def select_item(self, expr: Any, alias: Token | None = None) -> Item:
        return Item(expr, str(alias) if alias is not None else None)

    group_item = select_item

    def order_item(self, expr: Any, direction: Token | None = None) -> Order:
        return Order(expr, descending=direction is not None and direction.lower() == "desc")

    def start_where(self, expr: Any) -> Any:
        return expr

    def start_select(self, *items: Item) -> tuple[Item, ...]:
        return items

    start_group_by = start_select

    def start_order_by(self, *items: Order) -> tuple[Order, ...]:
        return items


def parse(parameter: str, text: str) -> Any:
    """The tree of ``text`` given as ``parameter`` (where, select, group_by, order_by), or
    :class:`BadQuery` naming the parameter and the position of the first error."""
    if len(text) > MAX_LENGTH:
        raise BadQuery(parameter, f"longer than {MAX_LENGTH} characters")
    depth = 0
    for position, char in enumerate(text, 1):
        depth += (char == "(") - (char == ")")
        if depth > MAX_DEPTH:
            raise BadQuery(parameter, f"parentheses nested deeper than {MAX_DEPTH}", position)
    try:
        tree = PARSER.parse(text, start=f"start_{parameter}")
        return _Tree().transform(tree)
    except UnexpectedCharacters as exc:
        raise BadQuery(
            parameter, f"unexpected character {text[exc.pos_in_stream or 0]!r}", exc.column
        ) from None
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        shown = "the end of the text" if token is None or token.type == "$END" else repr(str(token))
        raise BadQuery(parameter, f"syntax error near {shown}", exc.column) from None
    except VisitError as exc:
        raise BadQuery(parameter, str(exc.orig_exc)) from None
    except (LarkError, RecursionError) as exc:
        raise BadQuery(parameter, f"cannot be read ({type(exc).__name__})") from None
