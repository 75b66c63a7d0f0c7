"""What other areas following the ingest stream see of each batch, inside its
transaction (commands: replies move commands, reported state verifies them; alarms:
faults and silences raise them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.events import DomainEvent
from beffroi.telemetry.decode import Rejection, Reply
from beffroi.telemetry.events import ConnectivityChanged, DeviceEventReceived

# The newest (ts, value, text) of each (asset, key) a batch brought.
Newest = Mapping[tuple[str, str], tuple[datetime, float | None, str | None]]


class Observation(Protocol):
    """What an observer returns: events to publish and messages it refuses."""

    events: list[DomainEvent]
    rejections: list[Rejection]


@dataclass(frozen=True, slots=True)
class Seen:
    """What a batch brought, as the other areas following the stream see it: replies,
    the newest value of each key, the fault events stored for the first time, and the
    devices whose connectivity changed."""

    replies: Sequence[Reply]
    newest: Newest
    events: Sequence[DeviceEventReceived]
    connectivity: Sequence[ConnectivityChanged]
    # Every point of the batch, (asset, key, ts, value, text): for whoever keeps them all
    # (the vehicles' tracks), where the newest values are not enough.
    points: Sequence[tuple[Any, ...]] = ()

    def __bool__(self) -> bool:
        # Points first: a batch's newest values are worked out only when someone reads them.
        return bool(self.replies or self.points or self.newest or self.events or self.connectivity)


class BatchObserver(Protocol):
    """Another area following the ingest stream inside its transaction (commands: replies
    move commands, reported state verifies them; alarms: faults and silences raise them).

    Whatever fails there must not fail the batch: an observer runs its work as follow-up
    stages (:func:`beffroi.telemetry.followup.run_stage`), each in a savepoint."""

    async def observe(self, session: AsyncSession, seen: Seen, now: datetime) -> Observation:
        """Act on what a batch brought, in the batch's transaction."""
        ...
