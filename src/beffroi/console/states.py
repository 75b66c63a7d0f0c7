"""How an asset looks on the map: one state out of what is known of it.

Maintenance wins (its faults are expected), then an active alarm (by its worst severity),
then silence, then a command under way; an asset that reports but was never heard is
unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from beffroi.alarms.lifecycle import SEVERITY_RANK
from beffroi.catalogue import Severity


class MapState(StrEnum):
    """The state an asset is drawn in."""

    OK = "ok"
    ALARM = "alarm"
    OFFLINE = "offline"
    MAINTENANCE = "maintenance"
    COMMANDED = "commanded"
    UNKNOWN = "unknown"


@dataclass(slots=True)
class Live:
    """What is known of one asset right now."""

    type: str
    name: str
    commune: str
    lon: float
    lat: float
    maintenance: bool = False
    # Whether the type reports at all: one that does and was never heard is unknown.
    reports: bool = True
    online: bool | None = None
    alarms: dict[int, str] = field(default_factory=dict)
    commands: set[str] = field(default_factory=set)

    def shown(self) -> tuple[MapState, Severity | None]:
        """The state and (for alarms) the worst severity to draw."""
        if self.maintenance:
            return MapState.MAINTENANCE, None
        if self.alarms:
            return MapState.ALARM, worst(self.alarms.values())
        if self.online is False:
            return MapState.OFFLINE, None
        if self.commands:
            return MapState.COMMANDED, None
        if self.online is None and self.reports:
            return MapState.UNKNOWN, None
        return MapState.OK, None


def worst(severities: Iterable[str]) -> Severity | None:
    """The most severe of ``severities``."""
    return min(
        (Severity(s) for s in severities), key=lambda s: SEVERITY_RANK.get(s, 99), default=None
    )
