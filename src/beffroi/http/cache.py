"""A bounded in-process cache of rendered responses, keyed by their ETag.

The whole city's GeoJSON takes a few hundred milliseconds to build and changes only when
the registry does; its ETag is derived from a fingerprint of the matching rows, so a
stale entry can never be served, only evicted.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cached:
    """A rendered body and the link to the next page, if any."""

    body: bytes
    next_cursor: str | None = None


class ResponseCache:
    """Least-recently-used bodies, bounded in total bytes."""

    def __init__(self, max_bytes: int = 128 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Cached | None:
        """The entry cached under ``key``, if any."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Cached) -> None:
        """Cache ``entry``; the least recently used entries make room."""
        if len(entry.body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._entries[key] = entry
            self._size += len(entry.body)
            while self._size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted.body)
