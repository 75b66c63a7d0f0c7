"""A bounded in-process cache of rendered responses, keyed by their ETag.

The whole city's GeoJSON takes a few hundred milliseconds to build and changes only when
the registry does; its ETag is derived from a fingerprint of the matching rows, so a
stale entry can never be served, only evicted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import LRUCache


@dataclass(frozen=True, slots=True)
class Cached:
    """A rendered body and the link to the next page, if any."""

    body: bytes
    next_cursor: str | None = None


def _size(entry: Cached) -> int:
    return len(entry.body)


class ResponseCache:
    """Least-recently-used bodies, bounded in total bytes."""

    def __init__(self, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: LRUCache[str, Cached] = LRUCache(max_bytes, getsizeof=_size)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def get(self, key: str) -> Cached | None:
        """The entry cached under ``key``, if any."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: str, entry: Cached) -> None:
        """Cache ``entry``; the least recently used entries make room. A body larger than
        the whole cache is not kept."""
        if _size(entry) > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = entry
