"""The schedule document a cabinet's controller keeps and runs by itself. Pure.

It holds the cabinet's calendar (rules in order, the default) and every program it names,
with sun-relative steps kept relative: the controller computes sunset and sunrise at its
own position, so it follows the seasons however long the hub is away. Public holidays,
which a controller cannot work out, are given as dates for this year and the next
(compilation is redone when the year turns). docs/lighting.md describes the format.

The version moves only when the content does: the content is hashed (canonical JSON) and
compared with the last compiled one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from beffroi.lighting.calendar import CalendarRuleKind, CalendarSpec, holiday_dates
from beffroi.lighting.program import ProgramSpec, program_json

FORMAT = 1
POSITION_DIGITS = 5  # about a metre: more would only move versions for nothing


def content(
    *,
    cabinet_id: str,
    lat: float,
    lon: float,
    timezone: str,
    calendar_id: int | None,
    calendar: CalendarSpec | None,
    programs: Mapping[int, ProgramSpec],
    year: int,
    overrides: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The schedule of one cabinet, without its version. With no calendar, the controller
    is told it has none (it then keeps to its own astronomical clock). ``overrides``
    (from :func:`override_json`, oldest first) are left out when there are none, so a
    schedule without any keeps the content, hence the version, it had before them."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "cabinet_id": cabinet_id,
        "position": {"lat": round(lat, POSITION_DIGITS), "lon": round(lon, POSITION_DIGITS)},
        "timezone": timezone,
        "lighting_day_starts": "12:00",
        "calendar": None,
        "programs": {},
    }
    if overrides:
        out["overrides"] = overrides
    if calendar is None:
        return out
    rules = []
    for rule in calendar.rules:
        item = rule.model_dump(mode="json", exclude_none=True, exclude={"label"})
        if not item.get("annual"):
            item.pop("annual", None)
        if rule.kind is CalendarRuleKind.HOLIDAYS:
            assert rule.holidays is not None
            item["dates"] = [
                d.isoformat() for y in (year, year + 1) for d in holiday_dates(rule.holidays, y)
            ]
        rules.append(item)
    out["calendar"] = {
        "id": calendar_id,
        "rules": rules,
        "default_program_id": calendar.default_program_id,
        "holidays_until": f"{year + 1}-12-31",
    }
    out["programs"] = {
        str(i): program_json(programs[i]) for i in sorted(calendar.program_ids()) if i in programs
    }
    return out


def override_json(
    override_id: int,
    starts_at: datetime,
    ends_at: datetime,
    level_pct: float,
    lights: list[str] | None,
) -> dict[str, Any]:
    """One override as a controller applies it: from ``starts_at`` to ``ends_at`` (UTC)
    the level is ``level_pct`` on ``lights`` (``None``: the whole cabinet), whatever the
    program says; of several at once on a light, the last listed wins (the most recent)."""
    return {
        "id": override_id,
        "starts_at": _utc(starts_at),
        "ends_at": _utc(ends_at),
        "level_pct": float(level_pct),
        "lights": lights,
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``document``."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
