"""The registry of event kinds: each hub event's name, whether it crosses processes, and
what of it the console's live stream sends.

Every area declares its events where it defines them::

    @kind("alarm", relayed=True, console=True)
    @dataclass(frozen=True, slots=True)
    class AlarmChanged(DomainEvent):
        ...

and everything that carries events reads this registry rather than a list of its own: the
relay between processes (``events/relay.py``), the console's stream (``console/stream.py``)
and the console's TypeScript types (``python -m beffroi.events.typescript``). A kind is
known once its module is imported; ``beffroi.events.kinds.load`` imports them all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from beffroi.core.events import DomainEvent

E = TypeVar("E", bound=type[DomainEvent])


@dataclass(frozen=True, slots=True)
class EventKind:
    """One kind of event and how it travels."""

    name: str
    cls: type[DomainEvent]
    # Carried to the other processes' hubs (through PostgreSQL's NOTIFY).
    relayed: bool
    # What the console's stream sends, as (name sent, attribute) pairs; None: not sent.
    console: tuple[tuple[str, str], ...] | None

    def for_console(self, event: DomainEvent) -> dict[str, Any]:
        """The JSON-ready form the console receives, with its ``kind`` first."""
        if self.console is None:
            raise KeyError(f"{self.name} events are not sent to the console")
        message: dict[str, Any] = {"kind": self.name}
        for sent, attribute in self.console:
            value = getattr(event, attribute)
            message[sent] = dict(value) if isinstance(value, Mapping) else value
        return message


_BY_NAME: dict[str, EventKind] = {}
_BY_CLASS: dict[type[DomainEvent], EventKind] = {}


def kind(
    name: str, *, relayed: bool = False, console: bool | Mapping[str, str] = False
) -> Callable[[E], E]:
    """Register the decorated event class under ``name``.

    ``console``: False, not sent to the console; True, sent with every field under its own
    name; a mapping (name sent → attribute), those fields only, in that order.
    """

    def register(cls: E) -> E:
        fields = _checked_fields(cls)
        if name in _BY_NAME and _BY_NAME[name].cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"event kind {name!r} is already {_BY_NAME[name].cls.__name__}")
        if console is True:
            sent: tuple[tuple[str, str], ...] | None = tuple((f, f) for f in fields)
        elif console is False:
            sent = None
        else:
            unknown = set(console.values()) - set(fields)
            if unknown:
                raise ValueError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
            sent = tuple(console.items())
        entry = EventKind(name, cls, relayed, sent)
        _BY_NAME[name] = entry
        _BY_CLASS[cls] = entry
        return cls

    return register


def _checked_fields(cls: type[DomainEvent]) -> list[str]:
    if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
        raise TypeError(f"{cls!r} is not a DomainEvent")
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    params = cls.__dataclass_params__
    if not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} must be @dataclass(frozen=True, slots=True)")
    return [f.name for f in dataclasses.fields(cls)]


def kind_of(event: DomainEvent | type[DomainEvent]) -> EventKind:
    """The registered kind of an event (or event class); KeyError for an unregistered one."""
    cls = event if isinstance(event, type) else type(event)
    return _BY_CLASS[cls]


def named(name: str) -> EventKind | None:
    """The kind registered under ``name``, if any."""
    return _BY_NAME.get(name)


def registered() -> tuple[EventKind, ...]:
    """Every kind registered so far (those whose modules were imported), by name."""
    return tuple(sorted(_BY_NAME.values(), key=lambda k: k.name))
