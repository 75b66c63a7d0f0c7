"""What an area declares to have work run on time: a :class:`Job`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from beffroi.core.context import Context
from beffroi.scheduler.triggers import Trigger

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$")
DEFAULT_GRACE_S = 60.0


@dataclass(frozen=True, slots=True)
class Job:
    """A piece of time-driven work: which service function to call, and when.

    ``run`` is called with a system context named ``scheduler:<name>``; the services it
    calls check and audit as for anyone. It must be idempotent — do what is due as of
    now, reading its own state to know what is done — because after an instance takes a
    job over, the latest due time may run a second time (see ``misfire_grace_s``).

    ``misfire_grace_s``: how late a due time may still start. Later than that (the
    process was down, busy, or the previous run overran) it is skipped and counted; of
    several due times missed, only the latest is run (never a burst of catch-up runs).
    When an instance starts or takes a job over, the latest due time is run if it is
    within the grace.

    ``jitter_s``: each run starts up to this many seconds after its due time, at random,
    so jobs due at the same moment do not all start at once.
    """

    name: str
    run: Callable[[Context], Awaitable[object]]
    trigger: Trigger
    misfire_grace_s: float = DEFAULT_GRACE_S
    jitter_s: float = 0.0
    about: str = ""

    def __post_init__(self) -> None:
        if len(self.name) > 64 or not _NAME.match(self.name):
            raise ValueError(
                f"a job name is lower-case words joined by '-' or '.', at most 64 "
                f"characters, got {self.name!r}"
            )
        if not self.misfire_grace_s > 0:
            raise ValueError(f"{self.name}: misfire_grace_s must be positive")
        if not 0 <= self.jitter_s < self.misfire_grace_s:
            raise ValueError(f"{self.name}: jitter_s must be in [0, misfire_grace_s)")


def check_unique(jobs: Sequence[Job]) -> tuple[Job, ...]:
    """``jobs`` as a tuple, refused if two share a name (a name is what instances claim)."""
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise ValueError(f"two scheduled jobs are named {job.name!r}")
        seen.add(job.name)
    return tuple(jobs)
