"""The mobility area's scheduled work (declared in :mod:`beffroi.scheduler.registry`)."""

from __future__ import annotations

from beffroi.core.context import Context
from beffroi.mobility import counting, outcomes
from beffroi.mobility.polling import Poller, PollResult

_POLLER = Poller()


async def poll_feed(ctx: Context) -> PollResult:
    """Read the vehicle positions feed when its period is due and ask priority for the
    buses on approaches (off while ``BEFFROI_MOBILITY_FEED_URL`` is empty)."""
    return await _POLLER.due(ctx)


async def follow_requests(ctx: Context) -> int:
    """Copy the commands' outcomes onto the open priority requests."""
    return await outcomes.follow(ctx)


async def aggregate_counts(ctx: Context) -> int:
    """Write the 6-minute and hourly traffic counts of the buckets that ended."""
    return await counting.refresh(ctx)
