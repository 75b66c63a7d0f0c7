"""The poller of the vehicle positions feed: one read, parsed, judged; never raises for
what the feed holds (an unreachable or malformed feed is logged and counted)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog

from beffroi.core.context import Context
from beffroi.metrics import MOBILITY_FEED_READS
from beffroi.mobility.feed import Feed, FeedError, HttpFeed, parse
from beffroi.mobility.priority import ask

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did: ``outcome`` ok, off, unreachable or malformed."""

    outcome: str
    positions: int = 0
    skipped: int = 0
    requests: tuple[int, ...] = ()


async def poll(ctx: Context, feed: Feed) -> PollResult:
    """Read ``feed`` once and ask priority for the buses on approaches."""
    try:
        data = await feed.read()
    except FeedError as exc:
        MOBILITY_FEED_READS.labels("unreachable").inc()
        log.warning("vehicle positions feed unreachable", error=str(exc))
        return PollResult("unreachable")
    try:
        parsed = parse(data)
    except FeedError as exc:
        MOBILITY_FEED_READS.labels("malformed").inc()
        log.warning("vehicle positions feed malformed", error=str(exc), size=len(data))
        return PollResult("malformed")
    MOBILITY_FEED_READS.labels("ok").inc()
    made = await ask(ctx, parsed.positions, time.time())
    return PollResult("ok", len(parsed.positions), parsed.skipped, tuple(made))


@dataclass(slots=True)
class Poller:
    """The feed of this process, read at most every ``BEFFROI_MOBILITY_POLL_S``: the
    scheduler calls every 5 seconds, the setting decides which calls read."""

    feed: HttpFeed | None = None
    last_read: float = field(default=0.0)

    async def due(self, ctx: Context) -> PollResult:
        """Poll when the configured period has passed since the last read."""
        url = ctx.settings.mobility_feed_url
        if not url:
            return PollResult("off")
        now = time.monotonic()
        if self.last_read and now - self.last_read < ctx.settings.mobility_poll_s - 0.5:
            return PollResult("waiting")
        self.last_read = now
        if self.feed is None or self.feed.url != url:
            self.feed = HttpFeed(url, ctx.settings.mobility_feed_timeout_s)
        return await poll(ctx, self.feed)
