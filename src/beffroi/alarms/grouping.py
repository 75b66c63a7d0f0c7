"""Root-cause grouping: which alarm on a parent explains which alarms on its children.

When a lighting cabinet loses its supply, its thirty lights go dark and silent; their
alarms are grouped under the cabinet's so the list shows one problem, not thirty-one.
The same holds for a field gateway that goes offline. A parent is the asset's
``parent_id`` (a light's cabinet) or, failing that, the field gateway it last spoke
through (``device_status.via``).
"""

from __future__ import annotations

from collections.abc import Mapping

from beffroi.alarms.lifecycle import COMMAND_FAILED, COMMUNICATION_LOSS

# What a child reports or suffers when its parent has lost power or contact.
_CONSEQUENCES = frozenset(
    {
        "supplyLoss",
        "lampFailure",
        "driverFailure",
        "communicationFailure",
        COMMUNICATION_LOSS,
        COMMAND_FAILED,
    }
)

# Root-cause alarm type on a parent → alarm types on its children that it explains.
ROOT_CAUSES: Mapping[str, frozenset[str]] = {
    "supplyLoss": _CONSEQUENCES,
    "circuitBreakerTripped": _CONSEQUENCES,
    COMMUNICATION_LOSS: _CONSEQUENCES,
    "communicationFailure": _CONSEQUENCES,
}


def explains(root_type: str, child_type: str) -> bool:
    """Whether an alarm of ``root_type`` on a parent explains ``child_type`` on a child."""
    return child_type in ROOT_CAUSES.get(root_type, frozenset())


def is_root_cause(alarm_type: str) -> bool:
    """Whether alarms of this type may group their children's alarms."""
    return alarm_type in ROOT_CAUSES


def consequences() -> frozenset[str]:
    """Every alarm type some root cause explains."""
    out: set[str] = set()
    for types in ROOT_CAUSES.values():
        out |= types
    return frozenset(out)
