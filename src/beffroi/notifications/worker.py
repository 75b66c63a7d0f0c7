"""The notifier: the loop that escalates, routes and sends, in whatever process runs it.

Each step is a plain function of the database, the settings and ``now`` (tests call
them with a controlled clock); the loop only sequences them. A failing step is logged
and tried again on the next turn: the loop itself never stops on an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import httpx
import structlog

from beffroi.alarms.escalation import escalate_due
from beffroi.alarms.events import AlarmChanged
from beffroi.core.context import Runtime
from beffroi.core.tasks import pause
from beffroi.core.time import utcnow
from beffroi.notifications.delivery import send_due
from beffroi.notifications.routing import FEED, route_new

log = structlog.get_logger(__name__)

ESCALATION_PERIOD_S = 30.0
# Passes of one kind in one turn: a backlog drains without starving the other steps.
MAX_PASSES = 20
# Woken by every alarm change, the loop still takes a breath between turns: the database
# is shared with ingest.
MIN_TURN_S = 0.25


class Notifier:
    """Follows the alarm history and notifies the routes that want to know."""

    def __init__(self, runtime: Runtime, *, poll_s: float | None = None) -> None:
        self.runtime = runtime
        self.poll_s = poll_s if poll_s is not None else runtime.settings.notification_poll_s
        self._wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Escalate, route and send until ``stop`` is set. Woken at once by alarm changes
        in this process; at least every ``poll_s`` for those of other processes."""
        listener = asyncio.create_task(self._listen())
        last_escalation = float("-inf")
        try:
            async with httpx.AsyncClient() as client:
                while not stop.is_set():
                    started = time.monotonic()
                    if time.monotonic() - last_escalation >= ESCALATION_PERIOD_S:
                        await self._step("escalation", self.escalate)
                        last_escalation = time.monotonic()
                    await self._step("routing", self.route)
                    await self._step("delivery", lambda: self.send(client))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wait(stop), timeout=self.poll_s)
                    # In an alarm storm, one turn per MIN_TURN_S takes all that came.
                    rest = MIN_TURN_S - (time.monotonic() - started)
                    if rest > 0:
                        await pause(stop, rest)
                    self._wake.clear()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _wait(self, stop: asyncio.Event) -> None:
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _listen(self) -> None:
        with self.runtime.events.subscribe(AlarmChanged) as subscription:
            async for _event in subscription:
                self._wake.set()

    @staticmethod
    async def _step(name: str, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception:  # logged; the next turn tries again
            log.exception("notification step failed", step=name)

    async def escalate(self) -> None:
        """Escalate what is due now and publish the changes."""
        rt = self.runtime
        escalated = await escalate_due(rt.db, rt.settings, utcnow(), follower=FEED)
        rt.events.publish_many(escalated)

    async def route(self) -> None:
        """Route new history entries, a few passes at most."""
        rt = self.runtime
        for _ in range(MAX_PASSES):
            if not (await route_new(rt.db, rt.settings, utcnow())).full:
                break

    async def send(self, client: httpx.AsyncClient) -> None:
        """Send the deliveries due now, a few passes at most."""
        rt = self.runtime
        for _ in range(MAX_PASSES):
            done = await send_due(rt.db, rt.settings, utcnow(), client=client)
            rt.events.publish_many(done.events)
            if done.claimed == 0:
                break
