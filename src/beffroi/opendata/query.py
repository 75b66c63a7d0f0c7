"""The records query: a parsed ODSQL tree checked against a dataset's columns and run as
polars expressions over its snapshot.

Every name is checked against the published columns (or the query's own aliases) before
anything runs, and every literal against its column's type, so a bad query is a 400 that
names the parameter, the field and where; nothing a client sends becomes SQL or code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from beffroi.opendata import odsql
from beffroi.opendata.odsql import (
    Aggregate,
    AllOf,
    Among,
    AnyOf,
    BadQuery,
    Compare,
    Field,
    IsNull,
    Item,
    Like,
    Negate,
    Order,
    Search,
    Star,
    Truncated,
    Value,
)
from beffroi.opendata.spec import ColumnType, Dataset

NUMERIC = frozenset({ColumnType.INTEGER, ColumnType.NUMBER})
TEMPORAL = frozenset({ColumnType.DATE, ColumnType.DATETIME})
_OPS = {
    "=": pl.Expr.eq,
    "!=": pl.Expr.ne,
    "<": pl.Expr.lt,
    "<=": pl.Expr.le,
    ">": pl.Expr.gt,
    ">=": pl.Expr.ge,
}
_TRUNCATE = {"year": "1y", "month": "1mo", "day": "1d", "hour": "1h"}


@dataclass(frozen=True, slots=True)
class Query:
    """A records query as the client sent it (each part optional)."""

    select: str | None = None
    where: str | None = None
    group_by: str | None = None
    order_by: str | None = None
    limit: int | None = None
    offset: int = 0


def _column(ds: Dataset, parameter: str, field: Field) -> ColumnType:
    column = ds.column(field.name)
    if column is None:
        raise BadQuery(
            parameter,
            f"unknown field {field.name!r}; the fields are {', '.join(ds.names)}",
            field.position,
        )
    return column.type


def _literal(ds: Dataset, parameter: str, field: Field, value: Value) -> Any:
    """The literal as a value of the field's type, or a 400 naming the field."""
    kind = _column(ds, parameter, field)
    raw = value.value
    try:
        if kind in NUMERIC and isinstance(raw, int | float) and not isinstance(raw, bool):
            return raw
        if kind == ColumnType.TEXT and isinstance(raw, str):
            return raw
        if kind == ColumnType.BOOLEAN and isinstance(raw, bool):
            return raw
        if kind == ColumnType.DATE and isinstance(raw, date | str):
            return raw if isinstance(raw, date) else date.fromisoformat(raw[:10])
        if kind == ColumnType.DATETIME and isinstance(raw, date | str):
            moment = (
                datetime.fromisoformat(raw)
                if isinstance(raw, str)
                else datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
            )
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    except ValueError:
        pass
    raise BadQuery(
        parameter,
        f"field {field.name!r} holds {kind.value} values, not {raw!r}",
        field.position,
    )


def _like(pattern: str) -> str:
    """An anchored regular expression for a LIKE pattern; everything but % and _ literal."""
    parts = (re.escape(c) if c not in "%_" else (".*" if c == "%" else ".") for c in pattern)
    return "(?s)^" + "".join(parts) + "$"


def condition(ds: Dataset, node: Any, parameter: str = "where") -> pl.Expr:
    """The polars filter of a ``where`` tree."""
    if isinstance(node, AllOf | AnyOf):
        exprs = [condition(ds, item, parameter) for item in node.items]
        return pl.all_horizontal(exprs) if isinstance(node, AllOf) else pl.any_horizontal(exprs)
    if isinstance(node, Negate):
        return ~condition(ds, node.item, parameter)
    if isinstance(node, Compare):
        value = _literal(ds, parameter, node.field, node.value)
        return _OPS[node.op](pl.col(node.field.name), pl.lit(value))
    if isinstance(node, IsNull):
        _column(ds, parameter, node.field)
        column = pl.col(node.field.name)
        return column.is_not_null() if node.negated else column.is_null()
    if isinstance(node, Among):
        values = [_literal(ds, parameter, node.field, v) for v in node.values]
        expr = pl.col(node.field.name).is_in(values)
        return ~expr if node.negated else expr
    if isinstance(node, Like):
        if _column(ds, parameter, node.field) != ColumnType.TEXT:
            raise BadQuery(
                parameter, f"LIKE needs a text field, not {node.field.name!r}", node.field.position
            )
        return pl.col(node.field.name).str.contains(_like(node.pattern))
    if isinstance(node, Search):
        texts = [c.name for c in ds.columns if c.type == ColumnType.TEXT]
        words = node.words.lower()
        if not texts:
            return pl.lit(False)
        return pl.any_horizontal(
            [pl.col(n).str.to_lowercase().str.contains(words, literal=True) for n in texts]
        )
    raise BadQuery(parameter, f"cannot filter on {type(node).__name__}")


def _aggregate(ds: Dataset, parameter: str, agg: Aggregate) -> pl.Expr:
    if agg.field is None:
        return pl.len()
    kind = _column(ds, parameter, agg.field)
    column = pl.col(agg.field.name)
    if agg.fn == "count":
        return column.count()
    if agg.fn in ("min", "max") and kind in NUMERIC | TEMPORAL:
        return column.min() if agg.fn == "min" else column.max()
    if kind not in NUMERIC:
        raise BadQuery(
            parameter,
            f"{agg.fn}() needs a number field, not {agg.field.name!r}",
            agg.field.position,
        )
    return {"sum": column.sum, "avg": column.mean, "median": column.median}[agg.fn]()


def _group_key(ds: Dataset, item: Item) -> pl.Expr:
    expr = item.expr
    if isinstance(expr, Field):
        _column(ds, "group_by", expr)
        return pl.col(expr.name).alias(item.name)
    if isinstance(expr, Truncated):
        if _column(ds, "group_by", expr.field) not in TEMPORAL:
            raise BadQuery(
                "group_by",
                f"{expr.unit}() needs a date field, not {expr.field.name!r}",
                expr.field.position,
            )
        return pl.col(expr.field.name).dt.truncate(_TRUNCATE[expr.unit]).alias(item.name)
    raise BadQuery("group_by", "only fields and year|month|day|hour(field) group records")


def _unique(parameter: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BadQuery(parameter, f"two output fields are named {name!r}: use AS")
        seen.add(name)


def _canonical(expr: Any) -> str | None:
    """What a non-aggregate expression computes, whatever its position or alias."""
    if isinstance(expr, Field):
        return expr.name
    if isinstance(expr, Truncated):
        return expr.label
    return None


def _grouped(
    ds: Dataset, frame: pl.LazyFrame, select: tuple[Item, ...], group: tuple[Item, ...]
) -> pl.LazyFrame:
    keys = [_group_key(ds, item) for item in group]
    key_of = {_canonical(item.expr): item.name for item in group}
    key_names = {item.name for item in group}
    aggs: list[pl.Expr] = []
    out: list[str] = []
    for item in select or group:
        expr = item.expr
        key = key_of.get(_canonical(expr))
        if isinstance(expr, Aggregate):
            aggs.append(_aggregate(ds, "select", expr).alias(item.name))
        elif isinstance(expr, Field) and expr.name in key_names:
            pass  # a group key named by its alias
        elif key is not None:
            if key != item.name:
                aggs.append(pl.col(key).first().alias(item.name))
        elif isinstance(expr, Star):
            raise BadQuery("select", "* cannot be selected with group_by or aggregates")
        else:
            field = expr.field if isinstance(expr, Truncated) else expr
            where = field.position if isinstance(field, Field) else None
            raise BadQuery("select", f"{item.name!r} is neither grouped nor aggregated", where)
        out.append(item.name)
    _unique("select", out)
    grouped = frame.group_by(keys, maintain_order=True).agg(aggs) if keys else frame.select(aggs)
    return grouped.select(out)


def _plain(ds: Dataset, select: tuple[Item, ...]) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for item in select:
        if isinstance(item.expr, Star):
            exprs += [pl.col(n) for n in ds.names]
        elif isinstance(item.expr, Field):
            _column(ds, "select", item.expr)
            exprs.append(pl.col(item.expr.name).alias(item.name))
        else:
            raise BadQuery("select", "year()… group records: use them in group_by")
    _unique("select", [e.meta.output_name() for e in exprs])
    return exprs


def _sort(
    ds: Dataset, frame: pl.LazyFrame, orders: tuple[Order, ...], names: list[str]
) -> pl.LazyFrame:
    by: list[str] = []
    for order in orders:
        name = order.expr.label if isinstance(order.expr, Aggregate) else order.expr.name
        if name not in names:
            position = order.expr.position if isinstance(order.expr, Field) else None
            raise BadQuery(
                "order_by", f"unknown field {name!r}; sortable: {', '.join(names)}", position
            )
        by.append(name)
    return frame.sort(by, descending=[o.descending for o in orders], nulls_last=True)


def run(ds: Dataset, frame: pl.DataFrame, query: Query) -> pl.DataFrame:
    """Every record ``query`` selects (before ``limit`` and ``offset``), or a
    :class:`BadQuery`."""
    select: tuple[Item, ...] = odsql.parse("select", query.select) if query.select else ()
    group: tuple[Item, ...] = odsql.parse("group_by", query.group_by) if query.group_by else ()
    orders: tuple[Order, ...] = odsql.parse("order_by", query.order_by) if query.order_by else ()
    lazy = frame.lazy()
    try:
        if query.where:
            lazy = lazy.filter(condition(ds, odsql.parse("where", query.where)))
        aggregated = any(isinstance(item.expr, Aggregate) for item in select)
        if group or aggregated:
            lazy = _grouped(ds, lazy, select, group)
            names = lazy.collect_schema().names()
            if orders:
                lazy = _sort(ds, lazy, orders, names)
        else:
            # Sorted before the projection, so a record sorts by any published column.
            if orders:
                aliases = {i.name: i.expr.name for i in select if isinstance(i.expr, Field)}
                renamed = tuple(
                    Order(
                        Field(aliases.get(o.expr.name, o.expr.name), o.expr.position), o.descending
                    )
                    if isinstance(o.expr, Field)
                    else o
                    for o in orders
                )
                lazy = _sort(ds, lazy, renamed, list(ds.names))
            if select:
                lazy = lazy.select(_plain(ds, select))
        return lazy.collect()
    except RecursionError:
        raise BadQuery("where", "nested too deeply") from None
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise BadQuery("where", f"cannot be computed: {str(exc).splitlines()[0]}") from None
