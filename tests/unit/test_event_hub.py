"""The in-process event hub: delivery by type, in order, in bulk, and bounded queues."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from beffroi.core.events import DomainEvent, EventHub

pytestmark = pytest.mark.asyncio


@dataclass(frozen=True, slots=True)
class Ping(DomainEvent):
    n: int


@dataclass(frozen=True, slots=True)
class Pong(DomainEvent):
    n: int


@dataclass(frozen=True, slots=True)
class LoudPing(Ping):
    pass


async def test_each_subscription_gets_its_types_in_the_order_published() -> None:
    hub = EventHub()
    pings, everything = hub.subscribe(Ping), hub.subscribe()
    hub.publish_many([Ping(1), Pong(2), LoudPing(3), Ping(4)])
    hub.publish(Pong(5))
    assert pings.take() == [Ping(1), LoudPing(3), Ping(4)]
    assert everything.take() == [Ping(1), Pong(2), LoudPing(3), Ping(4), Pong(5)]
    assert pings.empty()
    assert everything.empty()


async def test_a_full_queue_drops_its_oldest_events_and_counts_them() -> None:
    hub = EventHub()
    small = hub.subscribe(Ping, maxsize=3)
    hub.publish_many([Ping(n) for n in range(5)])
    hub.publish(Ping(5))
    assert small.dropped == 3
    assert [e.n for e in small.take()] == [3, 4, 5]


async def test_a_queue_of_size_zero_is_unbounded_as_asyncio_s() -> None:
    hub = EventHub()
    unbounded = hub.subscribe(Ping, maxsize=0)
    hub.publish_many([Ping(n) for n in range(20_000)])
    assert unbounded.dropped == 0
    assert len(unbounded.take()) == 20_000


async def test_take_stops_at_its_limit_and_get_waits_for_the_next_event() -> None:
    hub = EventHub()
    sub = hub.subscribe(Ping)
    hub.publish_many(Ping(n) for n in range(4))
    assert [e.n for e in sub.take(3)] == [0, 1, 2]
    assert sub.get_nowait() == Ping(3)
    with pytest.raises(asyncio.QueueEmpty):
        sub.get_nowait()
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    hub.publish(Ping(9))
    assert await asyncio.wait_for(waiting, 1) == Ping(9)


async def test_a_closed_subscription_receives_nothing() -> None:
    hub = EventHub()
    with hub.subscribe(Ping) as sub:
        hub.publish(Ping(1))
    hub.publish(Ping(2))
    assert sub.take() == [Ping(1)]
    assert not hub.wants(Ping)
