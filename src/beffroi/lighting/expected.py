"""The level each light is asked for at a moment: the override in force on it (the most
recent), else its calendar's program. What the drift rule compares the reported level
with (:class:`beffroi.rules.jobs.ExpectedLevels`, wired by the scheduler)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.core.sun import SunCalendar
from beffroi.lighting import override_reach
from beffroi.lighting.evaluate import level
from beffroi.lighting.override import winner
from beffroi.lighting.override_reach import light_types
from beffroi.lighting.reading import cabinet_types, read_library
from beffroi.lighting.resolution import Placed


class ExpectedLevels:
    """Expected levels in the city's time zone (an :class:`ExpectedLevels` of the rules
    area, by shape)."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone

    async def __call__(
        self, session: AsyncSession, asset_ids: Sequence[str], now: datetime
    ) -> Mapping[str, float | None]:
        """The level asked of each of ``asset_ids`` at ``now``; ``None`` where no override
        applies and no calendar is assigned (nothing to compare with)."""
        found = await asset_queries.facts(session, asset_ids)
        cabinets = set(cabinet_types())
        parents = await asset_queries.facts(
            session, {f.parent_id for f in found.values() if f.parent_id}
        )
        library = await read_library(session, [*cabinets, *light_types()])
        rows = await override_reach.applying(session, at=now)
        reaches = await override_reach.reach_of(session, rows)
        overrides = [(override_reach.applying_at(r), reaches[r.id]) for r in rows]
        # Lights of one cabinet run one program: computed once per cabinet.
        by_runner: dict[str, float | None] = {}
        out: dict[str, float | None] = {}
        for asset in found.values():
            parent = parents.get(asset.parent_id or "")
            cabinet = parent if parent is not None and parent.type in cabinets else None
            if asset.type in cabinets:
                cabinet = asset
            cabinet_id = cabinet.id if cabinet else None
            won = winner(
                (a for a, reach in overrides if reach.covers(asset.id, cabinet_id, asset.commune)),
                now,
            )
            if won is not None:
                out[asset.id] = won.level_pct
                continue
            runs = cabinet or asset  # a light without a cabinet is placed by itself
            if runs.id not in by_runner:
                assigned = library.resolver.for_(Placed(runs.id, runs.commune, runs.lon, runs.lat))
                spec = library.calendar_specs.get(assigned.calendar_id) if assigned else None
                by_runner[runs.id] = (
                    None
                    if spec is None
                    else level(
                        spec,
                        library.program_specs,
                        now,
                        SunCalendar(runs.lat, runs.lon, self.timezone),
                    )
                )
            out[asset.id] = by_runner[runs.id]
        return out
