"""Traffic counts aggregated per lane: pure functions from reported readings to 6-minute
and hourly flow, occupancy and speed.

What is read: a traffic counter's ``count``, ``occupancy_pct`` and ``speed_kmh`` (lane 0,
the counter's total) and ``lane_{n}_…`` (lane n); a controller's ``detector_{n}_count``
and ``detector_{n}_occupancy_pct`` (lane n: its detector n). A count is the vehicles
counted over the device's report interval, so a bucket's vehicles are their sum and its
flow that sum scaled to an hour; occupancy and speed are the mean of the readings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

PERIODS_MIN = (6, 60)
# Patterns for the telemetry store (SQL LIKE) and the exact grammar they stand for.
KEY_PATTERNS = ("count", "occupancy_pct", "speed_kmh", "lane_%", "detector_%")
_KEY = re.compile(r"^(?:(?:lane|detector)_(\d{1,2})_)?(count|occupancy_pct|speed_kmh)$")


def lane_measure(key: str) -> tuple[int, str] | None:
    """(lane, measure) of a telemetry key that counts traffic, else None."""
    m = _KEY.match(key)
    if m is None:
        return None
    return int(m.group(1) or 0), m.group(2)


def bucket_of(ts: datetime, period_min: int) -> datetime:
    """The start of the ``period_min`` bucket holding ``ts`` (UTC, aligned on the hour)."""
    ts = ts.astimezone(UTC)
    hour = ts.replace(minute=0, second=0, microsecond=0)
    return hour + timedelta(minutes=(ts.minute // period_min) * period_min)


@dataclass(slots=True)
class Bucket:
    """What one lane reported over one bucket."""

    vehicles: float = 0.0
    samples: int = 0
    occupancy: list[float] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Count:
    """One row of aggregated traffic."""

    asset_id: str
    lane: int
    period_min: int
    bucket: datetime
    vehicles: int
    flow_vph: float
    occupancy_pct: float | None
    speed_kmh: float | None
    samples: int


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def aggregate(points: Iterable[tuple[str, str, datetime, float]], period_min: int) -> list[Count]:
    """Counts per asset, lane and bucket of ``period_min`` minutes, sorted."""
    buckets: dict[tuple[str, int, datetime], Bucket] = {}
    for asset_id, key, ts, value in points:
        found = lane_measure(key)
        if found is None:
            continue
        lane, measure = found
        b = buckets.setdefault((asset_id, lane, bucket_of(ts, period_min)), Bucket())
        if measure == "count":
            b.vehicles += value
            b.samples += 1
        elif measure == "occupancy_pct":
            b.occupancy.append(value)
        else:
            b.speed.append(value)
    return [
        Count(
            asset_id,
            lane,
            period_min,
            start,
            round(b.vehicles),
            round(b.vehicles * 60.0 / period_min, 1),
            _mean(b.occupancy),
            _mean(b.speed),
            b.samples,
        )
        for (asset_id, lane, start), b in sorted(buckets.items())
    ]
