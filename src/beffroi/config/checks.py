"""Checks of the settings that need no settings object: the environment's variable
names, one validation error as a line naming its variable, the off-peak hours' format."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

ENV_PREFIX = "BEFFROI_"


def offpeak_hours(ranges: str) -> frozenset[int]:
    """The local hours (0-23) that ``BEFFROI_ENERGY_OFFPEAK_HOURS`` ranges cover: "22-6" is
    22:00 to 06:00, the hours 22, 23 and 0 to 5."""
    hours: set[int] = set()
    for part in ranges.split(","):
        try:
            start, end = (int(h) for h in part.split("-"))
        except ValueError:
            raise ValueError(f"{part!r}: not a range of hours like 22-6") from None
        if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
            raise ValueError(f"{part!r}: two different hours from 0 to 23")
        hour = start
        while hour != end:
            hours.add(hour)
            hour = (hour + 1) % 24
    return frozenset(hours)


def describe(error: dict[str, Any]) -> str:
    """One line for a settings validation error, naming the environment variable."""
    loc = [str(part) for part in error.get("loc", ())]
    name = f"{ENV_PREFIX}{'_'.join(loc).upper()}" if loc else "configuration"
    message = str(error.get("msg", "invalid"))
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if message.startswith(ENV_PREFIX):
        return message
    given = error.get("input")
    if loc and given is not None and not isinstance(given, dict):
        return f"{name}: {message} (got {given!r})"
    return f"{name}: {message}"


# Variables with the prefix that are not settings: the TOML file's path, the tests' and
# benchmarks' own switches, and a CLI password input.
NOT_SETTINGS = frozenset({"CONFIG_FILE", "NEW_PASSWORD"})
NOT_SETTINGS_PREFIXES = ("TEST_", "BENCH_")


def unknown_variables(settings: Iterable[str]) -> list[str]:
    """The ``BEFFROI_*`` environment variables that name none of ``settings`` (field
    names) and are not otherwise known: a misspelt setting."""
    known = {name.upper() for name in settings}
    unknown = []
    for variable in os.environ:
        if not variable.startswith(ENV_PREFIX):
            continue
        name = variable.removeprefix(ENV_PREFIX)
        if name in known or name in NOT_SETTINGS or name.startswith(NOT_SETTINGS_PREFIXES):
            continue
        unknown.append(f"{variable}: unknown setting (a typo?)")
    return sorted(unknown)
