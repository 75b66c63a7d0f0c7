"""Whether a device's reported state shows that a command took effect.

The catalogue says, per command, which telemetry key proves it and what the value must be
(``CommandSpec.verify``): a parameter's value, or a literal written ``=value``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from beffroi.catalogue import CATALOGUE, ValueKind

# Reported numbers are rounded and noisy: a dimmed light at 49.6 % shows a 50 % command.
NUMERIC_TOLERANCE = 1.0


def expected_state(asset_type: str, name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The telemetry values (by key) that would prove this command; empty: unverifiable."""
    spec = CATALOGUE.get(asset_type)
    command = spec.command(name) if spec else None
    if spec is None or command is None:
        return {}
    out: dict[str, Any] = {}
    for key, source in command.verify:
        if source.startswith("="):
            out[key] = source[1:]
        elif source in params:
            value = params[source]
            telemetry = spec.telemetry_key(key)
            # Measured numbers get a tolerance; integers (a plan, a preset) must be exact.
            if telemetry is not None and telemetry.kind is ValueKind.NUMBER:
                value = _Approx(float(value)) if not isinstance(value, bool) else value
            out[key] = value
    return out


class _Approx(float):
    """A measured number: matches within :data:`NUMERIC_TOLERANCE`."""


@functools.cache
def shares_state(asset_type: str, name: str) -> frozenset[str]:
    """Names of the type's commands that set a key this command sets (dim and switch both
    set a light's level): one that succeeds supersedes the verification of those that
    succeeded before it. Cached: the catalogue does not change while a process runs."""
    spec = CATALOGUE.get(asset_type)
    command = spec.command(name) if spec else None
    if spec is None or command is None:
        return frozenset()
    keys = {key for key, _ in command.verify}
    return frozenset(c.name for c in spec.commands if keys & {key for key, _ in c.verify})


def matches(expected: Any, value: float | None, text: str | None) -> bool:
    """Whether one reported value (number or text) is the expected one."""
    if isinstance(expected, bool):
        # switch(on) is proven by the level: on means lit at all, off means dark.
        return value is not None and (value > 0) is expected
    if isinstance(expected, _Approx):
        return value is not None and abs(value - expected) <= NUMERIC_TOLERANCE
    if isinstance(expected, int | float):
        return value is not None and value == expected
    return text is not None and text == str(expected)


def judge(
    expected: Mapping[str, Any], reported: Mapping[str, tuple[float | None, str | None]]
) -> bool | None:
    """True when every expected key is reported as expected, False when one reported key
    disagrees, None when the report does not cover the command."""
    seen = False
    for key, want in expected.items():
        if key not in reported:
            continue
        seen = True
        if not matches(want, *reported[key]):
            return False
    if not seen:
        return None
    return all(key in reported for key in expected) or None
