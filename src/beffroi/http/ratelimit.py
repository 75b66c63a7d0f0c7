"""Per-client rate limits of the public side (open data, citizen reports).

The limits library keeps the counters: in this process by default (``memory://``), or in
Redis (``redis://host:6379``) when several web processes must share them — the setting
``BEFFROI_RATE_LIMIT_STORAGE``. Routes take :data:`RateLimitDep` and call
:meth:`RateLimiter.check` with a bucket name, the client's key and a rate such as
``"60/minute"`` (the limits library's notation).
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from beffroi.core.errors import TooManyRequests


class RateLimiter:
    """Moving-window limits per bucket and client, over a configured storage."""

    def __init__(self, storage_uri: str) -> None:
        # The async storages of the limits library take an "async+" scheme.
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        storage = storage_from_string(uri)
        assert isinstance(storage, Storage)
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, rate: str) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        return item

    async def check(self, bucket: str, client: str, rate: str) -> None:
        """Count one request of ``client`` in ``bucket``; raise :class:`TooManyRequests`
        (with the seconds to wait) when it goes over ``rate``."""
        item = self._item(rate)
        if await self._strategy.hit(item, bucket, client):
            return
        stats = await self._strategy.get_window_stats(item, bucket, client)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(f"more than {rate} requests; retry in {wait} s", retry_after=wait)

    async def close(self) -> None:
        """Forget the counters and stop the in-memory storage's expiry task."""
        await self._storage.reset()
        if isinstance(self._storage, MemoryStorage) and self._storage.timer is not None:
            self._storage.timer.cancel()


def client_key(request: Request) -> str:
    """Who a public request counts against: its address (a reverse proxy in front is
    trusted through uvicorn's ``--forwarded-allow-ips``, which rewrites it)."""
    return request.client.host if request.client else "unknown"


async def get_rate_limiter(request: Request) -> RateLimiter:
    """The application's rate limiter (async: no thread hop), made by its lifespan; an
    application driven without its lifespan (an in-process test client) makes one in
    memory on first use."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = state.rate_limiter = RateLimiter("memory://")
    return limiter


RateLimitDep = Annotated[RateLimiter, Depends(get_rate_limiter)]
