"""In-process publish/subscribe of state changes.

Publishing never blocks the publisher (the ingest path): each subscriber has a bounded
queue, and a subscriber that falls behind loses its oldest events and is told how many.
Across processes, the events of relayed kinds go through the database (``events/relay.py``).

What goes on the hub is a :class:`DomainEvent`: a frozen slotted dataclass registered
under a kind name (:mod:`beffroi.core.event_kinds`), where the relay and the console's
stream find how to carry it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

DEFAULT_QUEUE = 10_000


class DomainEvent:
    """Base of every event published on the hub.

    Each event is a frozen slotted dataclass deriving from it, registered with
    :func:`beffroi.core.event_kinds.kind` (which checks all three)."""

    __slots__ = ()


class Subscription:
    """A subscriber's queue of events of some types.

    A deque rather than an :class:`asyncio.Queue`: a city-wide command moves 34,000
    commands in one commit, and the hub hands them to each subscriber in one call
    (:meth:`offer_many`), which its consumer takes in one call (:meth:`take`)."""

    __slots__ = ("_events", "_hub", "_ready", "dropped", "maxsize", "types")

    def __init__(
        self,
        types: tuple[type[DomainEvent], ...],
        maxsize: int = DEFAULT_QUEUE,
        hub: EventHub | None = None,
    ) -> None:
        self.types = types
        self.maxsize = maxsize
        # How many events were lost because the consumer fell behind (the oldest go).
        self.dropped = 0
        # As asyncio.Queue: a size of 0 or less is no bound.
        self._events: deque[Any] = deque(maxlen=maxsize if maxsize > 0 else None)
        self._ready = asyncio.Event()
        self._hub = hub

    def offer(self, event: DomainEvent) -> None:
        """Queue ``event``, dropping the oldest one when full."""
        self.offer_many((event,))

    def offer_many(self, events: Sequence[DomainEvent]) -> None:
        """Queue ``events`` in order, dropping the oldest ones when full."""
        if not events:
            return
        overflow = len(self._events) + len(events) - self.maxsize
        if self.maxsize > 0 and overflow > 0:
            self.dropped += overflow
        self._events.extend(events)  # the deque's bound drops the oldest
        self._ready.set()

    async def get(self) -> Any:
        """The next event, waiting for one."""
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()

    def get_nowait(self) -> Any:
        """The next event if one is queued, else raise :class:`asyncio.QueueEmpty`."""
        if not self._events:
            raise asyncio.QueueEmpty
        return self._events.popleft()

    def take(self, limit: int | None = None) -> list[Any]:
        """The events queued (the first ``limit`` of them), without waiting."""
        events = self._events
        if limit is None or limit >= len(events):
            taken = list(events)
            events.clear()
            return taken
        return [events.popleft() for _ in range(limit)]

    def empty(self) -> bool:
        """Whether no event is queued."""
        return not self._events

    def close(self) -> None:
        """Stop receiving events."""
        if self._hub is not None:
            self._hub.unsubscribe(self)
            self._hub = None

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            yield await self.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class EventHub:
    """Fan-out of events to the subscriptions interested in their type."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []

    def subscribe(self, *types: type[DomainEvent], maxsize: int = DEFAULT_QUEUE) -> Subscription:
        """A subscription to events of ``types`` (all events when none given)."""
        subscription = Subscription(types, maxsize, self)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def wants(self, event_type: type[DomainEvent]) -> bool:
        """Whether any subscription would receive events of ``event_type`` now: a publisher
        may then spare itself building events nobody reads (the gateway's readings)."""
        return any(not s.types or issubclass(event_type, s.types) for s in self._subscriptions)

    def publish(self, event: DomainEvent) -> None:
        """Deliver ``event`` to every interested subscription, without waiting."""
        self.publish_many((event,))

    def publish_many(self, events: Iterable[DomainEvent]) -> None:
        """Deliver several events in order: each subscription gets those of its types in
        one call (what each wants is decided once per event type, not once per event)."""
        batch = events if isinstance(events, Sequence) else list(events)
        if not batch or not self._subscriptions:
            return
        kinds = {type(e) for e in batch}
        for subscription in self._subscriptions:
            wanted = {
                k for k in kinds if not subscription.types or issubclass(k, subscription.types)
            }
            if len(wanted) == len(kinds):
                subscription.offer_many(batch)
            elif wanted:
                subscription.offer_many([e for e in batch if type(e) in wanted])
