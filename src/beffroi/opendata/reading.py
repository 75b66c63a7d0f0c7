"""The read side of open data: which snapshot is current, its frame, and the caches that
let the public API answer repeated queries without touching the database or the disk.

One :class:`Published` lives on the web application. The current version of a dataset is
looked up at most every few seconds; frames are kept by (dataset, version), and so are
rendered answers: a version never changes, so a cached answer can be stale only by the
few seconds the current version is remembered, never wrong for its ETag.

When the version remembered is due, one request looks it up while the others go on with
the one they know (stale while revalidating): without that, every request arriving during
the lookup made its own, and each expiry stalled the API for some 100 ms under load.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable

import polars as pl
from cachetools import LRUCache, TTLCache
from sqlalchemy import select

from beffroi.core.errors import BeffroiError
from beffroi.db import Database
from beffroi.http.cache import Cached, ResponseCache
from beffroi.opendata.models import OpendataSnapshot
from beffroi.opendata.service import Snapshot
from beffroi.opendata.store import SnapshotStore

CURRENT_TTL_S = 5.0


class SnapshotDamaged(BeffroiError):
    """A snapshot file that is not what its row says (altered or lost): 503, not data."""

    status = 503
    slug = "snapshot-unavailable"
    title = "Snapshot unavailable"


def _frame_size(frame: pl.DataFrame) -> int:
    return max(1, int(frame.estimated_size()))


async def current(db: Database, dataset: str) -> Snapshot | None:
    """The newest snapshot of ``dataset``, if any."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(OpendataSnapshot)
                .where(OpendataSnapshot.dataset == dataset)
                .order_by(OpendataSnapshot.version.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    if row is None:
        return None
    return Snapshot(row.dataset, row.version, row.created_at, row.row_count, row.sha256, row.size)


def _load(store: SnapshotStore, snapshot: Snapshot) -> pl.DataFrame:
    path = store.path(snapshot.dataset, snapshot.version)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotDamaged(
            f"snapshot {snapshot.version} of {snapshot.dataset} is missing ({type(exc).__name__})"
        ) from None
    if hashlib.sha256(data).hexdigest() != snapshot.sha256:
        raise SnapshotDamaged(
            f"snapshot {snapshot.version} of {snapshot.dataset} does not match its checksum"
        )
    return pl.read_parquet(data)


class Published:
    """The caches of the public API (one per web application)."""

    def __init__(
        self,
        store: SnapshotStore,
        *,
        frame_bytes: int = 512 * 1024 * 1024,
        answer_bytes: int = 64 * 1024 * 1024,
        current_ttl_s: float = CURRENT_TTL_S,
    ) -> None:
        self.store = store
        self.current_ttl_s = current_ttl_s
        # dataset → (its current snapshot, when that was looked up on the monotonic clock)
        self._current: dict[str, tuple[Snapshot | None, float]] = {}
        self._looking: set[str] = set()
        self._frames: LRUCache[tuple[str, int], pl.DataFrame] = LRUCache(
            frame_bytes, getsizeof=_frame_size
        )
        self.answers = ResponseCache(answer_bytes)
        self.keys: TTLCache[str, int | None] = TTLCache(4096, 30.0)

    async def snapshot(self, db: Database, dataset: str) -> Snapshot | None:
        """The current snapshot of ``dataset`` (remembered a few seconds)."""
        known = self._current.get(dataset)
        if known is not None and (
            time.monotonic() - known[1] < self.current_ttl_s or dataset in self._looking
        ):
            return known[0]
        self._looking.add(dataset)
        try:
            found = await current(db, dataset)
        finally:
            self._looking.discard(dataset)
        self._current[dataset] = (found, time.monotonic())
        return found

    async def frame(self, snapshot: Snapshot) -> pl.DataFrame:
        """The rows of ``snapshot``, read once per version."""
        key = (snapshot.dataset, snapshot.version)
        frame = self._frames.get(key)
        if frame is None:
            frame = await asyncio.to_thread(_load, self.store, snapshot)
            if _frame_size(frame) <= self._frames.maxsize:
                self._frames[key] = frame
        return frame

    def answer(self, key: str, render: Callable[[], bytes]) -> bytes:
        """The rendered answer under ``key``, rendered once."""
        hit = self.answers.get(key)
        if hit is not None:
            return hit.body
        body = render()
        self.answers.put(key, Cached(body))
        return body

    def forget(self) -> None:
        """Forget which versions are current (after a refresh in this process)."""
        self._current.clear()
