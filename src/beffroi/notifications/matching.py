"""Which routes an alarm history entry goes to: pure functions, no I/O.

A route matches an entry when every filter it sets holds: severity, alarm type, commune,
domain, action, and the time window (in the city's time zone) at the entry's time. An
alarm of a restricted domain (cameras) needs a route that names its domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from beffroi.alarms.lifecycle import Action
from beffroi.catalogue.visibility import RESTRICTED_DOMAINS

DEFAULT_ACTIONS = (Action.RAISED.value, Action.CLEARED.value, Action.ESCALATED.value)
ALL_DAYS = (1, 2, 3, 4, 5, 6, 7)


@dataclass(frozen=True, slots=True)
class Entry:
    """What routing needs to know of one alarm history entry."""

    action: str
    severity: str
    alarm_type: str
    commune: str
    domain: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class Filter:
    """A route's filters. Empty lists match anything; ``communes`` ``None`` every commune."""

    severities: Sequence[str] = ()
    alarm_types: Sequence[str] = ()
    communes: Sequence[str] | None = None
    domains: Sequence[str] = ()
    actions: Sequence[str] = DEFAULT_ACTIONS
    days: Sequence[int] = ALL_DAYS
    time_from: str | None = None
    time_to: str | None = None
    escalation_only: bool = False

    @property
    def effective_actions(self) -> frozenset[str]:
        """The actions that notify: only escalations on an escalation route."""
        if self.escalation_only:
            return frozenset({Action.ESCALATED.value})
        return frozenset(self.actions)


def parse_hhmm(value: str) -> time:
    """``"HH:MM"`` as a time of day."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_window(
    days: Sequence[int], time_from: str | None, time_to: str | None, local: datetime
) -> bool:
    """Whether the local time ``local`` falls in the window.

    Without times the window is whole days. With ``time_from`` after ``time_to`` it
    crosses midnight, and the night belongs to the day it starts on: a Friday window
    22:00–06:00 holds on Saturday at 03:00, not on Friday at 03:00. The end is exclusive.
    """
    if time_from is None or time_to is None:
        return local.isoweekday() in days
    start, end, now = parse_hhmm(time_from), parse_hhmm(time_to), local.time()
    if start < end:
        return local.isoweekday() in days and start <= now < end
    if now >= start:
        return local.isoweekday() in days
    yesterday = (local - timedelta(days=1)).isoweekday()
    return now < end and yesterday in days


def matches(route: Filter, entry: Entry, zone: ZoneInfo) -> bool:
    """Whether ``route`` wants ``entry``."""
    if entry.action not in route.effective_actions:
        return False
    if route.severities and entry.severity not in route.severities:
        return False
    if route.alarm_types and entry.alarm_type not in route.alarm_types:
        return False
    if route.communes is not None and entry.commune not in route.communes:
        return False
    if route.domains and entry.domain not in route.domains:
        return False
    # Camera alarms go only where a route names their domain - which only the people who
    # see cameras may do (route_checks): a route for "any domain" is not a way round.
    if not route.domains and entry.domain in RESTRICTED_DOMAINS:
        return False
    return in_window(route.days, route.time_from, route.time_to, entry.ts.astimezone(zone))
