"""The roads area's scheduled work (declared in :mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

import structlog

from beffroi.core.context import Context
from beffroi.roads.lifecycle import advance

log = structlog.get_logger(__name__)


async def advance_situations(ctx: Context) -> int:
    """Activate the situations whose start came and end those whose end came; returns
    how many moved. The signs that showed an ended situation are proposed for clearing
    to the operator (never cleared unasked)."""
    moved = await advance(ctx)
    count = len(moved.activated) + len(moved.ended)
    if count:
        log.info("road situations moved", activated=moved.activated, ended=moved.ended)
    return count
