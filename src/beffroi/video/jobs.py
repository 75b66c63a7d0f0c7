"""Time-driven work of the video area, run by the scheduler (``scheduler/registry.py``)."""

from __future__ import annotations

import structlog

from beffroi.core.context import Context
from beffroi.video import retention, sessions

log = structlog.get_logger(__name__)


async def end_sessions(ctx: Context) -> int:
    """View sessions past their maximum duration end, and the end is registered."""
    ended = await sessions.close_expired(ctx)
    if ended:
        log.info("video sessions ended by the clock", sessions=ended)
    return ended


async def apply_retention(ctx: Context) -> retention.RetentionRun:
    """Footage older than each camera's period deleted by the VMS (holds kept)."""
    done = await retention.apply_retention(ctx)
    log.info(
        "video retention", cameras=done.cameras, deleted=done.deleted_cameras, hours=done.hours
    )
    return done


async def purge_register(ctx: Context) -> object:
    """Register entries past three years purged, behind a checkpoint."""
    return await retention.purge_register(ctx)
