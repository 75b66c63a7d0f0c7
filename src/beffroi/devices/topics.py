"""The MQTT topics of the device API, version 1 (docs/device-api.md), and its words.

One module parses and builds every topic, so the gateway, the brokers' access rules, the
simulator and the command dispatcher cannot disagree on a single character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_ROOT = "beffroi/v1"
ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Channel(StrEnum):
    """What a topic carries."""

    TELEMETRY = "telemetry"
    EVENTS = "events"
    STATUS = "status"
    REPLY = "reply"  # device -> hub, reply to a command
    COMMAND = "command"  # hub -> device


class ReplyStatus(StrEnum):
    """What a device answers to a command (the ``status`` of a reply)."""

    ACCEPTED = "accepted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


# Channels a device publishes on; the hub publishes only commands.
DEVICE_CHANNELS = frozenset({Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS, Channel.REPLY})


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed device topic. ``gateway_id`` is set when a field gateway relays it."""

    channel: Channel
    device_id: str
    gateway_id: str | None = None
    command_id: str | None = None

    @property
    def sender(self) -> str:
        """The MQTT identity allowed to publish it: the gateway, else the device itself."""
        return self.gateway_id or self.device_id


def parse(topic: str, root: str = DEFAULT_ROOT) -> Topic | None:
    """Parse a topic under ``root``; ``None`` when it is not a well-formed device topic."""
    prefix = root + "/"
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix) :].split("/")
    gateway_id = None
    if parts[0] == "gateways":
        if len(parts) < 3 or not ID_RE.match(parts[1]):
            return None
        gateway_id, parts = parts[1], parts[2:]
    if len(parts) < 3 or parts[0] != "devices" or not ID_RE.match(parts[1]):
        return None
    device_id, rest = parts[1], parts[2:]
    if len(rest) == 1 and rest[0] in ("telemetry", "events", "status"):
        return Topic(Channel(rest[0]), device_id, gateway_id)
    if len(rest) in (2, 3) and rest[0] == "commands" and ID_RE.match(rest[1]):
        if len(rest) == 2:
            return Topic(Channel.COMMAND, device_id, gateway_id, rest[1])
        if rest[2] == "reply":
            return Topic(Channel.REPLY, device_id, gateway_id, rest[1])
    return None


def build(topic: Topic, root: str = DEFAULT_ROOT) -> str:
    """The topic string of ``topic``."""
    base = f"{root}/devices/{topic.device_id}"
    if topic.gateway_id:
        base = f"{root}/gateways/{topic.gateway_id}/devices/{topic.device_id}"
    if topic.channel is Channel.COMMAND:
        return f"{base}/commands/{topic.command_id}"
    if topic.channel is Channel.REPLY:
        return f"{base}/commands/{topic.command_id}/reply"
    return f"{base}/{topic.channel.value}"


def hub_subscriptions(root: str = DEFAULT_ROOT) -> list[str]:
    """The filters the hub's gateway subscribes to (direct devices and field gateways)."""
    filters = []
    for base in (f"{root}/devices/+", f"{root}/gateways/+/devices/+"):
        filters += [f"{base}/telemetry", f"{base}/events", f"{base}/status"]
        filters.append(f"{base}/commands/+/reply")
    return filters


def shared(filter_: str, group: str = "beffroi") -> str:
    """A shared-subscription filter: the broker splits the load between subscribers."""
    return f"$share/{group}/{filter_}"
