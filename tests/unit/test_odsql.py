"""The public query language: what it reads, and that nothing a client sends makes it
raise anything but a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.opendata.datasets import TRAFFIC_COUNTS
from beffroi.opendata.odsql import BadQuery, parse
from beffroi.opendata.privacy import publishable
from beffroi.opendata.query import Query, run

FRAME = publishable(
    TRAFFIC_COUNTS,
    [
        {
            "counter_id": f"TC-{n % 3}",
            "commune_code": "talant" if n % 2 else "chenove",
            "road": "Rue 'des' Godrans" if n == 4 else f"Road {n}",
            "hour": datetime(2026, 1, 1 + n // 24, n % 24, tzinfo=UTC),
            "vehicles": 10 * n,
            "mean_speed_kmh": None if n == 3 else 30.0 + n,
            "lon": 5.0,
            "lat": 47.3,
        }
        for n in range(48)
    ],
    "Europe/Paris",
)
PIECES = [
    "vehicles",
    "road",
    "hour",
    "counter_id",
    "nope",
    "=",
    "!=",
    "<>",
    "<",
    ">=",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "like",
    "(",
    ")",
    ",",
    "'x'",
    '"y"',
    "3",
    "-2.5e3",
    "1e999",
    "true",
    "date'2026-01-01'",
    "search('road')",
    "count(*)",
    "sum(vehicles)",
    "month(hour)",
    "as",
    "n",
    "desc",
    "asc",
    ";",
    "--",
    "/*",
    "`road`",
    "\\",
    "'",
    "\x00",
    "é",
    "*",
]


def values(where: str) -> list[int]:
    return (
        run(TRAFFIC_COUNTS, FRAME, Query(where=where, order_by="vehicles"))
        .get_column("vehicles")
        .to_list()
    )


def test_conditions_select_what_they_say() -> None:
    assert values("vehicles < 30") == [0, 10, 20]
    assert values("vehicles >= 450 and not counter_id = 'TC-0'") == [460, 470]
    assert values("vehicles in (10, 20) or vehicles = 470") == [10, 20, 470]
    assert values("mean_speed_kmh is null") == [30]
    assert len(values("mean_speed_kmh is not null")) == 47
    assert values("road like 'Rue %'") == [40]
    assert values("road = 'Rue \\'des\\' Godrans'") == [40]
    assert values("search('GODRANS')") == [40]
    assert values("hour >= date'2026-01-02' and vehicles < 250") == [240]
    assert values("hour < '2026-01-01T02:00:00+00:00'") == [0, 10]
    assert values("`vehicles` != 0 AND vehicles <> 10 and vehicles<=20") == [20]


def test_grouping_by_a_truncated_time() -> None:
    out = run(
        TRAFFIC_COUNTS,
        FRAME,
        Query(
            select="day(hour) as d, sum(vehicles) as total, median(vehicles)",
            group_by="day(hour) as d",
            order_by="d desc",
        ),
    )
    assert out.to_dicts() == [
        {
            "d": datetime(2026, 1, 2, tzinfo=UTC),
            "total": sum(range(240, 480, 10)),
            "median(vehicles)": 355.0,
        },
        {
            "d": datetime(2026, 1, 1, tzinfo=UTC),
            "total": sum(range(0, 240, 10)),
            "median(vehicles)": 115.0,
        },
    ]
    whole = run(TRAFFIC_COUNTS, FRAME, Query(select="count(*) as n, max(hour)"))
    assert whole.to_dicts() == [{"n": 48, "max(hour)": datetime(2026, 1, 2, 23, tzinfo=UTC)}]


@pytest.mark.parametrize(
    ("parameter", "text", "position"),
    [
        ("where", "vehicles = 1 OR 1=1; DELETE FROM assets", 17),
        ("where", "vehicles = 1 /* comment */", 14),
        ("where", "road = 'unterminated", 8),
        ("select", "vehicles, (SELECT 1)", 11),
        ("order_by", "vehicles; DROP TABLE x", 9),
        ("group_by", "road HAVING 1", 6),
    ],
)
def test_syntax_errors_name_the_parameter_and_where(
    parameter: str, text: str, position: int
) -> None:
    with pytest.raises(BadQuery) as refused:
        parse(parameter, text)
    assert refused.value.extensions == {"field": parameter, "position": position}
    assert refused.value.status == 400


def test_a_day_that_is_no_day_is_refused() -> None:
    with pytest.raises(BadQuery, match="where"):
        parse("where", "hour > date'2026-02-30'")
    assert parse("where", "hour > date'2026-02-28'").value.value == date(2026, 2, 28)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["where", "select", "group_by", "order_by"]),
    st.lists(st.sampled_from(PIECES), max_size=12).map(" ".join) | st.text(max_size=40),
)
def test_any_text_is_answered_or_refused_as_a_bad_query(parameter: str, text: str) -> None:
    field = None
    try:
        asked: dict[str, Any] = {parameter: text}
        out = run(TRAFFIC_COUNTS, FRAME, Query(**asked))
    except BadQuery as refused:
        field = refused.extensions["field"]
    else:
        assert isinstance(out, pl.DataFrame)
    assert field in (None, "where", "select", "group_by", "order_by")
