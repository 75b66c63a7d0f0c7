"""Event hub benchmark: one commit's events handed to the hub's subscribers.

A city-wide command moves its 34,000 children in one commit, and the hub hands their
34,000 events to every subscriber (in the gateway: the dispatcher's listener, the event
relay; in the API: the console's board and each open stream). Prints, in one run, the
time to publish ``--events`` command events to ``--subscribers`` subscriptions and for
each to take them all (median of ``--runs``), beside the raw baseline: the same fan-out
through one :class:`asyncio.Queue` per subscriber, an event at a time, as the hub did
before.

    python -m bench.event_hub [--events 34000] [--subscribers 3] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime

from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.core.events import EventHub


def _events(count: int) -> list[CommandChanged]:
    now = datetime.now(UTC)
    return [
        CommandChanged(
            f"c{i}", f"SL-{i}", "b1", "dim", CommandState.QUEUED, Verification.PENDING, now
        )
        for i in range(count)
    ]


def _hub(events: list[CommandChanged], subscribers: int) -> float:
    hub = EventHub()
    subscriptions = [hub.subscribe(CommandChanged, maxsize=len(events)) for _ in range(subscribers)]
    began = time.perf_counter()
    hub.publish_many(events)
    taken = [len(s.take()) for s in subscriptions]
    elapsed = time.perf_counter() - began
    assert taken == [len(events)] * subscribers, taken
    return elapsed


def _queues(events: list[CommandChanged], subscribers: int) -> float:
    queues: list[asyncio.Queue[CommandChanged]] = [
        asyncio.Queue(len(events)) for _ in range(subscribers)
    ]
    wanted = (CommandChanged,)
    began = time.perf_counter()
    for event in events:
        for queue in queues:
            if isinstance(event, wanted):
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(event)
    taken = []
    for queue in queues:
        n = 0
        while not queue.empty():
            queue.get_nowait()
            n += 1
        taken.append(n)
    elapsed = time.perf_counter() - began
    assert taken == [len(events)] * subscribers, taken
    return elapsed


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark; returns the exit status."""
    events = _events(args.events)
    hub = statistics.median(_hub(events, args.subscribers) for _ in range(args.runs))
    raw = statistics.median(_queues(events, args.subscribers) for _ in range(args.runs))
    print(
        f"{args.events:,} command events to {args.subscribers} subscribers, published and "
        f"taken (median of {args.runs}):"
    )
    print(f"  the hub:                                            {hub * 1000:7.1f} ms")
    print(f"  raw baseline, an asyncio.Queue each, one at a time: {raw * 1000:7.1f} ms")
    print(f"  {raw / hub:.1f}x faster through the hub")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=34_000)
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    sys.exit(asyncio.run(main(parser.parse_args())))
