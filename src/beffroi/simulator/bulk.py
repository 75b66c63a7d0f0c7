"""The simulated cabinets' bulk form: one message for many lights, as real segment
controllers speak (docs/device-api.md, "Field gateways in bulk").

A :class:`Bundler` gathers what relayed lights say (telemetry, events, statuses, and the
replies to commands that came in a bulk message) into one message per cabinet and kind,
sent when the simulator flushes it: after each pass of its report scheduler, and after
each command it handles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson
from cachetools import FIFOCache

from beffroi.devices import topics
from beffroi.devices.topics import BULK_MAX, Channel
from beffroi.simulator.engine import Later, Message

# The version of the bulk form the simulated cabinets announce in their status.
BULK_VERSION: Final = 1
BULK_CHANNELS: Final = frozenset({Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS})
# Commands whose bulk message is remembered, so their later replies join it.
REMEMBERED: Final = 200_000

# (gateway id, topic, payload, qos, retain)
Publish = Callable[[str, str, bytes, int, bool], None]


@dataclass(frozen=True, slots=True)
class BulkCommand:
    """One command of a bulk command message, for one child."""

    child: str
    command_id: str
    payload: bytes  # what the child's own command topic would carry


def split_command(body: bytes) -> tuple[list[BulkCommand], str | None]:
    """A bulk command message as one command per child, or why it cannot be read."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return [], f"not JSON: {exc}"
    if not isinstance(message, dict) or not isinstance(message.get("commands"), dict):
        return [], 'a bulk command is {"name", "params", "expires_at", "commands": {…}}'
    common = {k: message[k] for k in ("name", "params", "expires_at") if k in message}
    payload = orjson.dumps(common)
    out = [
        BulkCommand(child, command_id, payload)
        for child, command_id in message["commands"].items()
        if isinstance(child, str) and isinstance(command_id, str)
    ]
    return out, None


@dataclass
class Bundler:
    """What relayed devices say, gathered into one message per cabinet and kind."""

    root: str
    publish: Publish
    qos: int = 1
    _parts: dict[tuple[str, Channel], dict[str, Any]] = field(default_factory=dict)
    _replies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _message_of: FIFOCache[str, tuple[str, str]] = field(
        default_factory=lambda: FIFOCache(REMEMBERED)
    )

    def remember(self, gateway: str, message_id: str, command_id: str) -> None:
        """``command_id`` came in ``gateway``'s bulk message ``message_id``: its replies
        go back in bulk under that message."""
        self._message_of[command_id] = (gateway, message_id)

    def take(self, message: Message, payload: dict[str, Any]) -> bool:
        """Keep ``message`` for a bulk message if it goes in one; whether it was kept."""
        gateway = message.device.gateway
        if message.channel is Channel.REPLY:
            where = self._message_of.get(message.command_id or "")
            if where is None:
                return False
            self._replies.setdefault(where, {})[message.command_id or ""] = payload
            return True
        if gateway is None or message.channel not in BULK_CHANNELS:
            return False
        parts = self._parts.setdefault((gateway.id, message.channel), {})
        child = message.device.id
        if message.channel is Channel.STATUS:
            parts[child] = payload  # the last word on its status
        else:
            parts.setdefault(child, []).append(payload)
        return True

    def flush(self) -> None:
        """Send what was gathered, at most :data:`BULK_MAX` children (or replies) a message."""
        parts, self._parts = self._parts, {}
        for (gateway, channel), children in parts.items():
            topic = topics.build(topics.bulk(channel, gateway), self.root)
            # The last status message is retained, as each device's own is: a hub that
            # connects later learns the latest word of the children it names.
            retain = channel is Channel.STATUS
            for chunk in _chunks(children):
                self.publish(gateway, topic, orjson.dumps(chunk), self.qos, retain)
        replies, self._replies = self._replies, {}
        for (gateway, message_id), answers in replies.items():
            topic = topics.build(topics.bulk(Channel.REPLY, gateway, message_id), self.root)
            for chunk in _chunks(answers):
                self.publish(gateway, topic, orjson.dumps(chunk), 1, False)


def _chunks(entries: dict[str, Any]) -> Iterator[dict[str, Any]]:
    items = list(entries.items())
    for start in range(0, len(items), BULK_MAX):
        yield dict(items[start : start + BULK_MAX])


def by_moment(items: Sequence[Later]) -> list[Later]:
    """One later item per moment, standing for all those due then (see :func:`together`)."""
    due: dict[datetime, list[Later]] = {}
    for item in items:
        due.setdefault(item.at, []).append(item)
    return [Later(at, together(group)) for at, group in due.items()]


def together(items: Sequence[Later]) -> Callable[[datetime], list[Message]]:
    """One later item standing for several due at the same moment (the replies of one
    bulk command), so they go out in one send, hence one bulk message."""

    def make(moment: datetime) -> list[Message]:
        return [message for item in items for message in item.make(moment)]

    return make
