"""The temporal representation of entities: the stored readings of their telemetry-fed
attributes over a window (``timerel``), or the last N of each (``lastN``).

The entities are chosen as by ``/entities`` (same scope, same selection); the readings
come from the telemetry store in one statement per page of entities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from beffroi.catalogue.smart_models import Source
from beffroi.core.context import Context
from beffroi.ngsi.entities import convert, iso
from beffroi.ngsi.params import TimeWindow
from beffroi.ngsi.service import Found
from beffroi.telemetry.queries import SeriesPoint, series

# Readings per attribute of one entity in one answer (the newest with lastN, else the
# oldest of the window): a client pages through time by moving timeAt.
MAX_INSTANCES = 1000


def _temporal_attributes(found: Found, attrs: Sequence[str]) -> list[Any]:
    return [
        a
        for a in found.kind.attributes
        if a.source is Source.TELEMETRY and (not attrs or a.term in attrs)
    ]


async def readings(
    ctx: Context, entities: Sequence[Found], window: TimeWindow, attrs: Sequence[str]
) -> dict[tuple[str, str], list[SeriesPoint]]:
    """(asset id, telemetry key): its readings in the window, oldest first."""
    keys = sorted({a.name for f in entities for a in _temporal_attributes(f, attrs)})
    asset_ids = sorted({f.asset.id for f in entities})
    async with ctx.db.read() as session:
        points = await series(
            session,
            asset_ids,
            keys,
            window.since,
            window.until,
            last_n=window.last_n,
            cap=MAX_INSTANCES,
        )
    out: dict[tuple[str, str], list[SeriesPoint]] = defaultdict(list)
    for point in points:
        out[(point.asset_id, point.key)].append(point)
    return out


def document(
    found: Found,
    stored: dict[tuple[str, str], list[SeriesPoint]],
    attrs: Sequence[str],
    *,
    temporal_values: bool,
) -> dict[str, Any]:
    """One entity's temporal representation (without ``@context``): each attribute an
    array of instances (normalized) or ``{"type", "values": [[value, time], ...]}``."""
    out: dict[str, Any] = {"id": found.id, "type": found.kind.name}
    for attribute in _temporal_attributes(found, attrs):
        points = stored.get((found.asset.id, attribute.name), [])
        if not points:
            continue
        instances = [
            (convert(p.text if p.text is not None else p.value, attribute.convert), p.ts)
            for p in points
        ]
        if temporal_values:
            out[attribute.term] = {
                "type": "Property",
                "values": [[value, iso(ts)] for value, ts in instances],
            }
            continue
        out[attribute.term] = [
            {
                "type": "Property",
                "value": value,
                "observedAt": iso(ts),
                **({"unitCode": attribute.unit_code} if attribute.unit_code else {}),
            }
            for value, ts in instances
        ]
    return out
