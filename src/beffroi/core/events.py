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
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_QUEUE = 10_000


class DomainEvent:
    """Base of every event published on the hub.

    Each event is a frozen slotted dataclass deriving from it, registered with
    :func:`beffroi.core.event_kinds.kind` (which checks all three)."""

    __slots__ = ()


@dataclass(eq=False, slots=True)
class Subscription:
    """A subscriber's queue of events of some types."""

    types: tuple[type[DomainEvent], ...]
    queue: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(DEFAULT_QUEUE))
    dropped: int = 0
    _hub: EventHub | None = None

    def offer(self, event: DomainEvent) -> None:
        """Queue ``event``, dropping the oldest one when full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Any:
        """The next event."""
        return await self.queue.get()

    def get_nowait(self) -> Any:
        """The next event if one is queued, else raise :class:`asyncio.QueueEmpty`."""
        return self.queue.get_nowait()

    def close(self) -> None:
        """Stop receiving events."""
        if self._hub is not None:
            self._hub.unsubscribe(self)
            self._hub = None

    async def __aiter__(self) -> AsyncIterator[Any]:
        while True:
            yield await self.queue.get()

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
        subscription = Subscription(types=types, queue=asyncio.Queue(maxsize), _hub=self)
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
        for subscription in self._subscriptions:
            if not subscription.types or isinstance(event, subscription.types):
                subscription.offer(event)

    def publish_many(self, events: Iterable[DomainEvent]) -> None:
        """Deliver several events in order."""
        for event in events:
            self.publish(event)
