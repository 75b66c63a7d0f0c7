"""Sending queued commands to devices, in the gateway process.

Each round claims the commands that are due (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several gateways never send one twice), marks them ``sent`` and commits, then
publishes them: a reply can never arrive for a command the database does not yet know
as sent. A command whose device is offline waits without a due time and is released
when the device comes back. Rounds are woken by new commands and returning devices on
the event hub, and run at least every ``poll_s`` for commands written by other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import orjson
import structlog
from sqlalchemy import Text, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi import metrics
from beffroi.commands import history, jobs, outbox, wakeup
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState
from beffroi.commands.models import Command
from beffroi.commands.tracker import CommandTracker
from beffroi.core.events import DomainEvent, EventHub
from beffroi.core.tasks import cancel_all
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.db.lists import among, parts
from beffroi.telemetry.events import ConnectivityChanged
from beffroi.telemetry.queries import bulk_versions
from beffroi.telemetry.service import online_routes

log = structlog.get_logger(__name__)

# Commands claimed per round: a city-wide dim is four rounds. Each round also reads the
# routes and commits (bench.commands, noisy: all sent in 1.6-2.2 s by 12,000, 2.0-2.4 s by 5,000).
ROUND_LIMIT = 10_000
# Rounds being written at once (PostgreSQL): the next one is claimed while the last is written.
IN_FLIGHT = 2
# Ingestion waits at most this long for a backlog of commands to leave (see sent_first).
PRECEDENCE_MAX_S = 2.0
CLOCK_S = 1.0
RELEASE_S = 10.0
REFRESH_S = 30.0
HUB = "hub"


def _sent_detail(attempt: int, via: str | None, message_id: str | None) -> dict[str, Any]:
    """What a command's ``sent`` move records: the attempt, and the gateway and bulk
    message it went in, if any."""
    detail: dict[str, Any] = {"attempt": attempt}
    if via:
        detail["via"] = via
    if message_id:
        detail["message"] = message_id
    return detail


@dataclass(frozen=True, slots=True)
class _Sent:
    """What being sent changes in a command row (written back for a whole round)."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "state",
        "attempts",
        "sent_via",
        "reply_due_at",
        "sent_at",
        "next_attempt_at",
    )

    id: str
    attempts: int
    sent_via: str | None
    reply_due_at: datetime
    sent_at: datetime
    state: str = CommandState.SENT.value
    next_attempt_at: datetime | None = None


class CommandDispatcher:
    """Publishes due commands and runs the commands' clock."""

    def __init__(
        self,
        db: Database,
        events: EventHub,
        publish: Callable[[str, bytes], None],
        tracker: CommandTracker,
        *,
        root: str,
        poll_s: float = 0.25,
        backlog: Callable[[], int] = lambda: 0,
    ) -> None:
        self.db = db
        self.events = events
        self.publish = publish
        self.tracker = tracker
        self.root = root
        self.poll_s = poll_s
        self.backlog = backlog
        self._wake = asyncio.Event()
        self._back_online: set[str] = set()
        self._clear = asyncio.Event()
        self._clear.set()
        self.sent = 0

    async def sent_first(self) -> None:
        """Wait (at most :data:`PRECEDENCE_MAX_S`) while a backlog of commands is leaving.

        The ingest pipeline awaits this before each batch: an operator's city-wide
        command goes out before the replies to its first part are stored, and replies wait
        in the broker and the pipeline's bounded queue meanwhile, rather than every round of
        sends waiting behind a batch of replies."""
        if not self._clear.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._clear.wait(), PRECEDENCE_MAX_S)

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until ``stop`` is set."""
        listeners = [
            asyncio.create_task(self._listen()),
            asyncio.create_task(wakeup.listen(self.db, self._wake.set)),
        ]
        last_clock = last_release = last_refresh = 0.0
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
                self._wake.clear()
                if stop.is_set():
                    break
                try:
                    now_m = time.monotonic()
                    if now_m - last_refresh >= REFRESH_S:
                        async with self.db.read() as session:
                            await self.tracker.refresh(session)
                        last_refresh = now_m
                    if self._back_online or now_m - last_release >= RELEASE_S:
                        await self.release(everyone=now_m - last_release >= RELEASE_S)
                        last_release = now_m
                    try:
                        await self.drain()
                    finally:
                        self._clear.set()
                    if now_m - last_clock >= CLOCK_S:
                        # Replies still queued for ingest are not missing replies.
                        closed = await jobs.close_overdue(self.db, retries=not self.backlog())
                        self.events.publish_many(closed.events)
                        last_clock = now_m
                        if closed.retried:
                            self._wake.set()
                except Exception:  # a failed round is logged and tried again next round
                    log.exception("command dispatch round failed")
                    await asyncio.sleep(self.poll_s)
        finally:
            await cancel_all(listeners)

    async def _listen(self) -> None:
        with self.events.subscribe(CommandChanged, ConnectivityChanged) as subscription:
            while True:
                # Taken together: a batch's approval queues 34,000 commands in one commit.
                for event in [await subscription.get(), *subscription.take()]:
                    if isinstance(event, ConnectivityChanged):
                        if event.online:
                            self._back_online.add(event.asset_id)
                            self._wake.set()
                    elif event.state == CommandState.QUEUED:
                        self._wake.set()

    async def release(self, *, everyone: bool = False) -> int:
        """Give a due time back to waiting commands whose device is online again
        (those just announced, or every waiting one)."""
        announced, self._back_online = self._back_online, set()
        async with self.db.write() as session:
            waiting = select(Command.asset_id).where(
                Command.state == CommandState.QUEUED, Command.next_attempt_at.is_(None)
            )
            if not everyone:
                named = sorted(announced)[:ROUND_LIMIT]
                waiting = waiting.where(among(session, Command.asset_id, named))
            assets = list((await session.execute(waiting.distinct())).scalars())
            if not assets:
                return 0
            online = sorted(await online_routes(session, assets))
            for part in parts(session, online):
                await session.execute(
                    update(Command)
                    .where(
                        Command.state == CommandState.QUEUED,
                        Command.next_attempt_at.is_(None),
                        among(session, Command.asset_id, part),
                    )
                    .values(next_attempt_at=utcnow())
                )
        return len(online)

    async def drain(self) -> int:
        """Send every command due, a round at a time; returns how many were claimed.

        On PostgreSQL the next round is claimed as soon as the last one's rows are (``SKIP
        LOCKED`` keeps them apart), so :data:`IN_FLIGHT` rounds are written at once, on as
        many connections: a city-wide command is four rounds, and the database does most
        of each. Rounds are published in the order they were claimed."""
        loop = asyncio.get_running_loop()
        rounds: list[asyncio.Task[int]] = []
        previous: asyncio.Task[int] | None = None
        try:
            while True:
                if len(rounds) >= IN_FLIGHT:
                    # At most two rounds at once: one being written while the next one is.
                    await asyncio.wait([rounds[-IN_FLIGHT]])
                claimed: asyncio.Future[int] = loop.create_future()
                current = asyncio.create_task(self.dispatch_due(claimed=claimed, after=previous))
                rounds.append(current)
                if not self.db.is_postgres:
                    await asyncio.wait([current])
                if await claimed < ROUND_LIMIT:
                    break
                self._clear.clear()  # more are due at once: they go first
                previous = current
        finally:
            # A round that fails is logged by the caller; the others still publish.
            done = await asyncio.gather(*rounds, return_exceptions=True)
        for result in done:
            if isinstance(result, BaseException):
                raise result
        return sum(n for n in done if isinstance(n, int))

    async def dispatch_due(
        self,
        now: datetime | None = None,
        *,
        claimed: asyncio.Future[int] | None = None,
        after: asyncio.Task[int] | None = None,
    ) -> int:
        """Claim and send one round of due commands; returns how many were claimed.

        Plain rows and set-based statements rather than ORM objects: a round is 10,000
        commands when the whole city is dimmed. ``claimed`` is told how many as soon as
        they are locked; the round publishes once ``after`` (the round claimed before it)
        has, so that a device's commands leave in order."""
        told = claimed if claimed is not None else asyncio.get_running_loop().create_future()
        try:
            return await self._round(now or utcnow(), told, after)
        except Exception as exc:
            if not told.done():
                told.set_exception(exc)
                told.exception()  # retrieved here: the round's own task raises it
            raise
        finally:
            if not told.done():
                told.cancel()  # the round was cancelled before claiming

    async def _round(
        self, now: datetime, claimed: asyncio.Future[int], after: asyncio.Task[int] | None
    ) -> int:
        c = Command.__table__.c
        async with self.db.write() as session:
            rows_claimed = (
                await session.execute(
                    select(
                        c.id,
                        c.asset_id,
                        c.batch_id,
                        c.name,
                        # As text: a batch's children share one parameters object, decoded
                        # once (the driver would decode it once per row).
                        cast(c.params, Text).label("params"),
                        c.expires_at,
                        c.timeout_s,
                        c.attempts,
                        c.verification,
                    )
                    .where(
                        c.state == CommandState.QUEUED,
                        c.next_attempt_at <= now,
                        # Past their lifetime they are the clock's to close, not to send.
                        c.expires_at > now,
                    )
                    .order_by(c.next_attempt_at)
                    .limit(ROUND_LIMIT)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            claimed.set_result(len(rows_claimed))
            if not rows_claimed:
                return 0
            rows = _due(rows_claimed)
            routes = await online_routes(session, [r.asset_id for r in rows])
            waiting = [r.id for r in rows if r.asset_id not in routes]
            ready = [r for r in rows if r.asset_id in routes]
            gateways = {via for r in ready if (via := routes[r.asset_id]) is not None}
            bulk = await bulk_versions(session, gateways)
            messages = outbox.plan(ready, routes, bulk, root=self.root)
            message_of = {
                command_id: m.message_id
                for m in messages
                if m.message_id
                for command_id in m.command_ids
            }
            if waiting:
                # They wait for their device, without a due time (see release()).
                await session.execute(
                    update(Command)
                    .where(among(session, c.id, waiting))
                    .values(next_attempt_at=None)
                )
            # One statement for the whole round, whatever the mix of gateways and timeouts:
            # a round is one await, not one per cabinet (the loop is busy with replies).
            sent = [
                _Sent(
                    r.id,
                    r.attempts + 1,
                    routes[r.asset_id],
                    now + timedelta(seconds=r.timeout_s),
                    now,
                )
                for r in ready
            ]
            await history.write_back(session, sent, now, _Sent.COLUMNS)
            events = await _record_sent(session, ready, now, routes, message_of)
        if after is not None:
            await asyncio.wait([after])
        self.tracker.watch([r.asset_id for r in ready])
        for message in messages:
            self.publish(message.topic, message.payload)
        metrics.COMMANDS_SENT.inc(len(ready))
        self.sent += len(ready)
        self.events.publish_many(events)
        return len(rows)


@dataclass(slots=True)
class _Claimed:
    """A claimed command, its parameters decoded (:class:`.outbox.Due`)."""

    id: str
    asset_id: str
    batch_id: str | None
    name: str
    params: dict[str, Any]
    expires_at: datetime
    timeout_s: int
    attempts: int
    verification: str


def _due(claimed: Sequence[Any]) -> list[_Claimed]:
    """The claimed rows with their parameters decoded once per distinct text."""
    decoded: dict[str, dict[str, Any]] = {}
    out = []
    for r in claimed:
        params = decoded.get(r.params)
        if params is None:
            params = decoded[r.params] = orjson.loads(r.params)
        out.append(
            _Claimed(
                r.id,
                r.asset_id,
                r.batch_id,
                r.name,
                params,
                r.expires_at,
                r.timeout_s,
                r.attempts,
                r.verification,
            )
        )
    return out


async def _record_sent(
    session: AsyncSession,
    ready: Sequence[_Claimed],
    now: datetime,
    routes: Mapping[str, str | None],
    message_of: Mapping[str, str],
) -> list[DomainEvent]:
    """The ``sent`` transitions of a round, in one statement per batch and command name
    (a city-wide dim is one); returns their hub events."""
    together: dict[tuple[str | None, str], list[_Claimed]] = {}
    for r in ready:
        together.setdefault((r.batch_id, r.name), []).append(r)
    events: list[DomainEvent] = []
    for (batch_id, name), group in together.items():
        same = history.Same(batch_id, name, CommandState.SENT.value, now, HUB, "system")
        details = [
            _sent_detail(r.attempts + 1, routes[r.asset_id], message_of.get(r.id)) for r in group
        ]
        events += await history.record_same(session, group, same, details)
    return events
