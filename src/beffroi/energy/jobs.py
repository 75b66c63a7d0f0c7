"""Periodic jobs of the energy area."""

from __future__ import annotations

import structlog

from beffroi.core.context import Context
from beffroi.energy.rollup import Rolled, roll_recent

log = structlog.get_logger(__name__)


async def daily_totals(ctx: Context) -> Rolled:
    """The scheduled daily totals: yesterday and today recomputed whole (idempotent), so the
    hour's new rollups and late readings of yesterday are in the next report."""
    done = await roll_recent(ctx)
    log.info("energy daily totals", first=str(done.first), last=str(done.last), assets=done.assets)
    return done
