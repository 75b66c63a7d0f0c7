"""Keeping a broker in step with credential changes, and saying so.

A :class:`Follower` owns a :class:`CredentialCache` and one way to enforce it (the
embedded broker ends sessions; the Mosquitto keeper rewrites files and reloads). It polls
the change number a few times a second, applies what changed, and reports what it applied
(:mod:`beffroi.devices.changes`), so a command that revokes a secret can wait until every
running broker refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

from beffroi.core.tasks import every
from beffroi.db import Database
from beffroi.devices import changes
from beffroi.devices.cache import Change, CredentialCache

log = structlog.get_logger(__name__)

# A full reload when the registry moved (an asset decommissioned or moved under another
# gateway) is checked this often; credential changes themselves are polled every POLL_S.
REFRESH_S = 5.0

Apply = Callable[[list[Change]], Awaitable[None]]


class Follower:
    """Applies credential changes to one enforcement point and reports them applied."""

    def __init__(
        self,
        db: Database,
        name: str,
        apply: Apply,
        *,
        cache: CredentialCache | None = None,
        poll_s: float = changes.POLL_S,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self.db = db
        self.name = name
        self.cache = cache or CredentialCache()
        self._apply = apply
        self.poll_s = poll_s
        self.refresh_s = refresh_s
        self._lock = asyncio.Lock()
        self._refreshed_at = float("-inf")
        self._reported_at = float("-inf")
        self._reported_seq = -1
        self._unapplied: list[Change] = []
        self.synced_at = float("-inf")  # time.monotonic() of the last look at the database

    async def start(self) -> None:
        """Load everything (raises if the database cannot be read). Call :meth:`announce`
        once what the cache holds is enforced (and the follower has its final name)."""
        async with self._lock:
            self._refreshed_at = self.synced_at = time.monotonic()
            await self.cache.refresh(self.db, force=True)

    async def announce(self) -> None:
        """Report what is applied now: from here on, changes wait for this follower."""
        async with self._lock:
            await self._report(time.monotonic())

    async def _report(self, now: float) -> None:
        seq = self.cache.seq
        await changes.report(self.db, self.name, seq)
        self._reported_seq, self._reported_at = seq, now

    async def sync(self, *, full: bool = False) -> list[Change]:
        """Catch up with the changes (and reload everything when due or ``full``), apply
        them, report. Safe to call from several tasks: one sync runs at a time."""
        async with self._lock:
            now = time.monotonic()
            self.synced_at = now
            found = self._unapplied + await self.cache.catch_up(self.db)
            if full or now - self._refreshed_at >= self.refresh_s:
                self._refreshed_at = now
                found += await self.cache.refresh(self.db, force=full)
            # What could not be applied is tried again at the next sync, and the change
            # number is not reported until it is: a waiting command sees it as late.
            self._unapplied = found
            if found or full:
                await self._apply(found)
            self._unapplied = []
            if (
                self.cache.seq != self._reported_seq
                or now - self._reported_at >= changes.HEARTBEAT_S
            ):
                await self._report(now)
            return found

    async def run(self, stop: asyncio.Event) -> None:
        """Sync every ``poll_s`` until ``stop``; a failed sync is logged and tried again."""
        try:
            # A failed sync keeps the last good credentials enforced; it is logged.
            await every(self.poll_s, self.sync, stop, name=f"credentials of {self.name}")
        finally:
            with contextlib.suppress(Exception):
                await changes.forget(self.db, self.name)
