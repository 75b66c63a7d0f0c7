"""Roads benchmark, pure (no database): the DATEX II publication and the sign proposals.

Times, in the same run, building and serialising the SituationPublication of N
situations (lines of 20 vertices, a third with a detour and a speed limit) beside the
raw baseline of ``json.dumps`` of the same records; and the proposals for one situation
among S signs (distance in metres, then the text for each sign within reach) beside the
raw baseline of shapely's planar distance in degrees.

    python -m bench.roads [--situations 1000] [--signs 500] [--repeat 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import Point, shape

from beffroi.roads import datex, templates
from beffroi.roads.geometry import Metric
from beffroi.roads.situation import SituationType, Status
from bench.common import Timing

START = datetime(2026, 3, 2, 7, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def _line(rng: random.Random) -> dict[str, object]:
    lon, lat = 5.0 + rng.random() * 0.1, 47.28 + rng.random() * 0.08
    points = [[lon + i * 0.0004, lat + rng.uniform(-0.0002, 0.0002)] for i in range(20)]
    return {"type": "LineString", "coordinates": points}


def _records(count: int, rng: random.Random) -> list[datex.Record]:
    kinds = list(SituationType)
    return [
        datex.Record(
            id=i,
            version=1,
            type=kinds[i % len(kinds)],
            status=Status.ACTIVE,
            road=f"Rue {i}",
            geometry=_line(rng),
            starts_at=START,
            ends_at=START + timedelta(days=3),
            created_at=START,
            updated_at=START,
            lanes_closed=1,
            speed_limit_kmh=30 if i % 3 == 0 else None,
            detour=_line(rng) if i % 3 == 0 else None,
        )
        for i in range(1, count + 1)
    ]


def _time(fn: Callable[[], object], repeat: int) -> Timing:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return Timing(tuple(samples))


def main() -> None:
    """Run both measurements and print them beside their baselines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--situations", type=int, default=1000)
    parser.add_argument("--signs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(17)
    records = _records(args.situations, rng)

    def publish() -> bytes:
        root = datex.publication(records, published_at=START, country="FR", national_id="b")
        return datex.to_bytes(root)

    rows = [dataclasses.asdict(r) for r in records]
    size = len(publish())
    built = _time(publish, args.repeat)
    raw = _time(lambda: json.dumps(rows, default=str), args.repeat)
    print(f"DATEX II, {args.situations} situations ({size / 1024:.0f} KiB): {built}")
    print(f"  baseline json.dumps of the same records:  {raw}")

    situation = shape(_line(rng))
    signs = [(5.0 + rng.random() * 0.1, 47.28 + rng.random() * 0.08) for _ in range(args.signs)]
    facts = templates.Facts(
        SituationType.CLOSURE, "Rue de la Liberté", START, START + timedelta(days=2), detour=True
    )

    def propose() -> int:
        metric = Metric(situation)
        near = [d for d in metric.distances_m(signs) if d <= 1500]
        return len([templates.propose(facts, 3, 16, PARIS) for _ in near])

    def planar() -> int:
        return len([s for s in signs if situation.distance(Point(*s)) <= 0.015])

    proposed = _time(propose, args.repeat)
    print(f"sign proposals, 1 situation × {args.signs} signs ({propose()} near): {proposed}")
    print(f"  baseline planar distance in degrees:      {_time(planar, args.repeat)}")


if __name__ == "__main__":
    main()
