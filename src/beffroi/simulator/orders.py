"""What a simulated device's command handler is given and returns: the order, its effect,
the replies, and the two ways of saying no (:mod:`beffroi.simulator.commands` obeys)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from beffroi.devices.topics import ReplyStatus
from beffroi.simulator.state import Device, Environment

RADIO_S: Final = 1.0  # a command's round trip to the equipment and back
SHORT_S: Final = 0.5


class Refused(Exception):
    """The command cannot be carried out as given: reply ``rejected``."""

    def __init__(self, reason: str, **detail: Any) -> None:
        super().__init__(reason)
        self.detail = {"reason": reason, **detail}


class Failed(Exception):
    """The device tried and could not: reply ``accepted``, then ``failed``."""

    def __init__(self, reason: str, **detail: Any) -> None:
        super().__init__(reason)
        self.detail = {"reason": reason, **detail}


@dataclass(frozen=True, slots=True)
class Order:
    """A valid command, as a handler sees it."""

    device: Device
    params: dict[str, Any]
    moment: datetime
    env: Environment
    # Times from the hub are wall-clock times: this maps them onto simulated time.
    to_sim: Callable[[datetime], datetime]


@dataclass(frozen=True, slots=True)
class Effect:
    """What obeying took: how long until done, and later moments the state changes alone
    (a traffic controller reverting to normal)."""

    duration_s: float = RADIO_S
    changes_at: tuple[datetime, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply, sent ``after_s`` simulated seconds after the command arrived."""

    status: ReplyStatus
    detail: dict[str, Any] = field(default_factory=dict)
    after_s: float = 0.0

    @property
    def final(self) -> bool:
        """Whether this reply ends the command."""
        return self.status is not ReplyStatus.ACCEPTED


@dataclass(frozen=True, slots=True)
class Outcome:
    """The replies to a command, and when the device should report its state."""

    replies: tuple[Reply, ...]
    reports_at: tuple[datetime, ...] = ()


Handler = Callable[[Order], Effect]


def parse_instant(value: Any) -> datetime:
    """An instant from ISO 8601 with an offset, or epoch milliseconds; ValueError if not."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected ISO 8601 with an offset, or epoch milliseconds")
    if isinstance(value, str):
        instant = datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        return instant.astimezone(UTC)
    return datetime.fromtimestamp(value / 1000, UTC)


def working(device: Device, *faults: str) -> None:
    """Fail the command if ``device`` has any of ``faults`` (it tried and could not)."""
    for code in faults:
        if code in device.faults:
            raise Failed("equipment fault", fault=code)
