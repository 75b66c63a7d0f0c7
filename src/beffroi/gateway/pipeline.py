"""The ingest pipeline: batch, decode, write, acknowledge, publish.

At least once, nothing lost: a message is acknowledged to the broker only after the
transaction holding it committed. When the database is unavailable the pipeline keeps
its batch, retries with back-off and acknowledges nothing, so the broker keeps the rest;
when the database refuses one message's data, that message alone is rejected. What
follows a stored message up (commands, rules, alarms, events) never makes it refused:
see :mod:`beffroi.telemetry.followup`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import structlog
from tenacity import RetryCallState

from beffroi import metrics
from beffroi.core.events import DomainEvent, EventHub
from beffroi.core.tasks import cancel_all
from beffroi.core.time import utcnow
from beffroi.gateway.outages import first_line, is_transient, while_down
from beffroi.gateway.source import Inbound
from beffroi.telemetry import followup
from beffroi.telemetry.bulk import decode_message
from beffroi.telemetry.decode import Reason, Rejection, Status
from beffroi.telemetry.directory import DeviceDirectory, unknown_senders
from beffroi.telemetry.store import Batch, TelemetryStore, Written

log = structlog.get_logger(__name__)

# A batch waits for more messages only while they keep coming: after this long without
# one it is written, so a lone message (a command's reply) is not held for batch_ms.
IDLE_GAP_S = 0.005
# Messages decoded between two turns of the event loop while a write is under way.
DECODE_SLICE = 10


class IngestPipeline:
    """Turns delivered messages into committed batches."""

    def __init__(
        self,
        store: TelemetryStore,
        directory: DeviceDirectory,
        events: EventHub,
        ack: Callable[[Sequence[Inbound]], None],
        *,
        root: str,
        retention: timedelta,
        batch_size: int = 2000,
        batch_bytes: int = 2 << 20,
        batch_ms: int = 100,
        turn: Callable[[], Awaitable[None]] | None = None,
        overlap: int = 1,
    ) -> None:
        self.store = store
        # Awaited before each batch: another task (the command dispatcher) may go first.
        self.turn = turn
        self.directory = directory
        self.events = events
        self.ack = ack
        self.root = root
        self.retention = retention
        self.batch_size = batch_size
        # Payload bytes per batch at most: a bulk message carries up to a thousand children,
        # so a batch is bounded by what it holds as well as by its number of messages.
        self.batch_bytes = batch_bytes
        self.batch_wait = batch_ms / 1000
        # Writes under way at once: with two, a batch's points go in while the batch before
        # commits (PostgreSQL; SQLite has one writer).
        self.overlap = overlap
        # A deque and an event rather than an asyncio.Queue: messages arrive in bursts
        # from the network thread and leave in batches; per-item queue calls cost.
        self.pending: deque[Inbound] = deque()
        self._arrived = asyncio.Event()
        self.stored_messages = 0
        self.rejected = 0

    def deliver(self, item: Inbound) -> None:
        """Hand one message to the pipeline (called on the event loop)."""
        self.deliver_many([item])

    def deliver_many(self, items: Sequence[Inbound]) -> None:
        """Hand messages to the pipeline (called on the event loop)."""
        self.pending.extend(items)
        metrics.PENDING.inc(len(items))
        self._arrived.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Process batches until ``stop`` is set and what was received is written.

        Batches overlap: while one is written (the database works), the next is decoded
        (this process works), and with ``overlap`` 2 its points go in too. Everything
        else a batch writes waits for the batch before to commit, so batches commit, and
        are acknowledged, in the order they arrived."""
        writes: deque[asyncio.Task[None]] = deque()
        committed: asyncio.Event | None = None  # the last batch's, once acknowledged
        try:
            while not (stop.is_set() and not self.pending):
                items = await self._collect(stop)
                if not items:
                    continue
                if self.turn is not None:
                    await self.turn()
                batch = await self._decoded(items, stop, sliced=True)
                while len(writes) >= self.overlap:
                    await writes.popleft()
                done = asyncio.Event()
                writes.append(
                    asyncio.create_task(self._store(items, batch, stop, after=committed, done=done))
                )
                committed = done
            while writes:
                await writes.popleft()
        finally:
            await cancel_all(writes)

    async def _wait(self, seconds: float) -> bool:
        if self.pending:
            return True
        self._arrived.clear()
        try:
            await asyncio.wait_for(self._arrived.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    def _take(self, items: list[Inbound], size: int) -> int:
        """Move pending messages to ``items`` while the batch has room; returns its
        payload bytes."""
        while self.pending and len(items) < self.batch_size and size < self.batch_bytes:
            item = self.pending.popleft()
            items.append(item)
            size += len(item.payload)
        return size

    async def _collect(self, stop: asyncio.Event) -> list[Inbound]:
        items: list[Inbound] = []
        if not await self._wait(0.25):
            return items
        deadline = time.monotonic() + self.batch_wait
        size = self._take(items, 0)
        while len(items) < self.batch_size and size < self.batch_bytes and not stop.is_set():
            remaining = min(deadline - time.monotonic(), IDLE_GAP_S)
            if remaining <= 0 or not await self._wait(remaining):
                break
            size = self._take(items, size)
        return items

    def decode_batch(self, items: Sequence[Inbound]) -> Batch:
        """Decode every message of a batch; rejections are part of it."""
        batch = Batch()
        self._decode_into(batch, items)
        return batch

    async def _decode_sliced(self, items: Sequence[Inbound]) -> Batch:
        """:meth:`decode_batch`, giving the event loop a turn every few messages so that
        the write under way goes on meanwhile (each of its statements needs one)."""
        batch = Batch()
        for start in range(0, len(items), DECODE_SLICE):
            self._decode_into(batch, items[start : start + DECODE_SLICE])
            await asyncio.sleep(0)
        batch.reduced()
        return batch

    def _decode_into(self, batch: Batch, items: Sequence[Inbound]) -> None:
        for item in items:
            parts = decode_message(
                item.topic,
                item.payload,
                self.directory,
                received_at=item.received_at,
                root=self.root,
                retention=self.retention,
            )
            for decoded in parts:
                batch.add(decoded)
                if isinstance(decoded, Status) and not decoded.online:
                    # A field gateway that goes offline takes its devices out of reach with
                    # it: their own statuses (retained "online") would otherwise stay true.
                    for child in sorted(self.directory.children_of(decoded.asset_id)):
                        batch.add(
                            Status(child, False, None, decoded.ts, "gateway", decoded.asset_id)
                        )
            batch.entries += len(parts)

    async def process(self, items: Sequence[Inbound], stop: asyncio.Event | None = None) -> None:
        """Decode, write (retrying while the database is down), acknowledge, publish."""
        await self._store(items, await self._decoded(items, stop), stop)

    async def _decoded(
        self, items: Sequence[Inbound], stop: asyncio.Event | None, *, sliced: bool = False
    ) -> Batch:
        """The batch ``items`` make, with the devices registered since the directory's
        last refresh looked up first."""
        batch = await self._decode_sliced(items) if sliced else self.decode_batch(items)
        unknown = unknown_senders(batch.rejections, self.root)
        if unknown and await self._learn(unknown, stop):
            batch = self.decode_batch(items)  # decode again, knowing them
        return batch

    async def _store(
        self,
        items: Sequence[Inbound],
        batch: Batch,
        stop: asyncio.Event | None,
        *,
        after: asyncio.Event | None = None,
        done: asyncio.Event | None = None,
    ) -> None:
        """Write a decoded batch (retrying while the database is down; what batches share
        only once ``after`` is set), acknowledge its messages, publish what it changed,
        then set ``done``."""
        try:
            await self._store_after(items, batch, stop, after)
        finally:
            if done is not None:
                done.set()

    async def _store_after(
        self,
        items: Sequence[Inbound],
        batch: Batch,
        stop: asyncio.Event | None,
        after: asyncio.Event | None,
    ) -> None:
        written = await self._write_with_retry(batch, stop, after)
        if written is None:
            return  # stopping while the database is down: the broker redelivers them
        self.ack(items)
        # The oldest message of the batch waited longest: its lag is the batch's.
        metrics.LAG_SECONDS.observe((utcnow() - min(i.received_at for i in items)).total_seconds())
        metrics.PENDING.dec(len(items))
        metrics.BATCH_SIZE.observe(len(items))
        metrics.POINTS.inc(written.points)
        rejections = [*batch.rejections, *written.rejections]
        for rejection in rejections:
            metrics.REJECTED.labels(rejection.reason.value).inc()
        # Messages, or the entries of bulk messages: what a device asked to store.
        self.stored_messages += batch.entries - len(rejections)
        self.rejected += len(rejections)
        followup.publish(self.events, written.events)

    async def _learn(self, unknown: set[str], stop: asyncio.Event | None) -> bool:
        """Look the unknown devices up, waiting out a database outage as writes do."""
        try:
            found: int = await while_down(stop)(self.directory.learn, self.store.db, unknown)
        except Exception as exc:
            log.warning("looking up unknown devices failed", error=str(exc)[:200])
            return False
        return found > 0

    async def _write_with_retry(
        self, batch: Batch, stop: asyncio.Event | None, after: asyncio.Event | None = None
    ) -> Written | None:
        retrying = while_down(stop, after=self._down)
        try:
            written: Written = await retrying(self._write, batch, after)
        except Exception as exc:
            if is_transient(exc):
                return None  # stopping while the database is down
            raise
        metrics.DATABASE_UP.set(1)
        if retrying.statistics["attempt_number"] > 1:
            log.warning(
                "database back: ingestion resumed",
                outage_s=round(time.monotonic() - retrying.statistics["start_time"], 1),
            )
        return written

    def _down(self, state: RetryCallState) -> None:
        """After a failed write that will be tried again: say so once per outage."""
        metrics.DATABASE_UP.set(0)
        if state.attempt_number == 1 and state.outcome is not None:
            log.error(
                "database unavailable: holding the batch and reading no more messages",
                waiting=len(self.pending),
                error=first_line(state.outcome.exception()),
            )

    async def _write(self, batch: Batch, after: asyncio.Event | None = None) -> Written:
        """One attempt: the whole batch, or its parts one by one when the database refuses
        something in it (an outage meanwhile holds the whole batch again)."""
        started = time.perf_counter()
        try:
            written = await self.store.write(batch, turn=None if after is None else after.wait)
        except Exception as exc:
            if is_transient(exc):
                raise
            if after is not None:
                await after.wait()
            return await self._isolate(batch, exc)
        metrics.WRITE_SECONDS.observe(time.perf_counter() - started)
        return written

    async def _isolate(self, batch: Batch, error: Exception) -> Written:
        """The database refused something in the batch: write its parts one by one and
        reject the ones it refuses, so one bad message cannot block the stream."""
        log.warning(
            "a batch was refused; isolating the culprit",
            error=f"{type(error).__name__}: {str(error)[:200]}",
        )
        events: list[DomainEvent] = []
        points = 0
        refused: list[Rejection] = []
        parts: list[Batch] = []
        for readings in batch.readings:
            parts.append(Batch(readings=[readings]))
        for event in batch.events:
            parts.append(Batch(events=[event]))
        for status in batch.statuses:
            parts.append(Batch(statuses=[status]))
        for part in parts:
            try:
                written = await self.store.write(part)
            except Exception as exc:
                if is_transient(exc):
                    raise
                item = (part.readings or part.events or part.statuses)[0]
                refused.append(
                    Rejection(
                        Reason.BAD_VALUE,
                        f"storage refused it: {first_line(exc)}",
                        item.asset_id,
                        b"",
                        item.asset_id,
                    )
                )
                continue
            events += written.events
            points += written.points
        rest = await self.store.write(
            Batch(replies=batch.replies, rejections=[*batch.rejections, *refused])
        )
        batch.rejections.extend(refused)
        return Written(points, events + rest.events, rest.rejections)
