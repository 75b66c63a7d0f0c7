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
    SCHEDULE = "schedule"  # hub -> a lighting cabinet's controller: its schedule
    SCHEDULE_ACK = "schedule_ack"  # controller -> hub: the schedule version it now runs
    TIMETABLE = "timetable"  # hub -> a traffic signal controller: its timetable and plans
    TIMETABLE_ACK = "timetable_ack"  # controller -> hub: the timetable version it now runs


class ReplyStatus(StrEnum):
    """What a device answers to a command (the ``status`` of a reply)."""

    ACCEPTED = "accepted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


# Channels a device publishes on; the hub publishes only commands, schedules, timetables.
DEVICE_CHANNELS = frozenset(
    {
        Channel.TELEMETRY,
        Channel.EVENTS,
        Channel.STATUS,
        Channel.REPLY,
        Channel.SCHEDULE_ACK,
        Channel.TIMETABLE_ACK,
    }
)


# Bulk-form versions a field gateway may announce in its status ({"bulk": 1}).
BULK_VERSIONS = frozenset({1})
# Children (or command ids) one bulk message may carry.
BULK_MAX = 1000


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed device topic. ``gateway_id`` is set when a field gateway relays it;
    ``bulk`` when the gateway speaks for many children in one message
    (``gateways/{gateway}/telemetry``, ``…/commands/{message_id}``): ``device_id`` is then
    the gateway itself and ``command_id`` the message id."""

    channel: Channel
    device_id: str
    gateway_id: str | None = None
    command_id: str | None = None
    bulk: bool = False

    @property
    def sender(self) -> str:
        """The MQTT identity allowed to publish it: the gateway, else the device itself."""
        return self.gateway_id or self.device_id


def bulk(channel: Channel, gateway_id: str, message_id: str | None = None) -> Topic:
    """A topic of the bulk form of ``gateway_id``."""
    return Topic(channel, gateway_id, gateway_id, message_id, bulk=True)


def schedule(gateway_id: str) -> Topic:
    """The topic on which the hub delivers ``gateway_id``'s lighting schedule."""
    return bulk(Channel.SCHEDULE, gateway_id)


def schedule_ack(gateway_id: str) -> Topic:
    """The topic on which ``gateway_id`` acknowledges the schedule version it runs."""
    return bulk(Channel.SCHEDULE_ACK, gateway_id)


def timetable(device_id: str) -> Topic:
    """The topic on which the hub delivers a traffic controller's timetable (a controller
    is a device of its own: ``{root}/devices/{id}/timetable``)."""
    return Topic(Channel.TIMETABLE, device_id)


def timetable_ack(device_id: str) -> Topic:
    """The topic on which a traffic controller acknowledges the timetable version it runs."""
    return Topic(Channel.TIMETABLE_ACK, device_id)


_MESSAGE_CHANNELS = ("telemetry", "events", "status")
_TIMETABLE = ["timetable"]
_TIMETABLE_ACK = ["timetable", "ack"]
_SCHEDULE = ["schedule"]
_SCHEDULE_ACK = ["schedule", "ack"]


def _commands(rest: list[str], device_id: str, gateway_id: str | None, bulk: bool) -> Topic | None:
    if len(rest) in (2, 3) and rest[0] == "commands" and ID_RE.match(rest[1]):
        if len(rest) == 2:
            return Topic(Channel.COMMAND, device_id, gateway_id, rest[1], bulk)
        if rest[2] == "reply":
            return Topic(Channel.REPLY, device_id, gateway_id, rest[1], bulk)
    return None


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
        if parts[0] != "devices":  # the bulk form: the gateway speaks for its children
            if len(parts) == 1 and parts[0] in _MESSAGE_CHANNELS:
                return bulk(Channel(parts[0]), gateway_id)
            if parts == _SCHEDULE:
                return schedule(gateway_id)
            if parts == _SCHEDULE_ACK:
                return schedule_ack(gateway_id)
            return _commands(parts, gateway_id, gateway_id, bulk=True)
    if len(parts) < 3 or parts[0] != "devices" or not ID_RE.match(parts[1]):
        return None
    device_id, rest = parts[1], parts[2:]
    if len(rest) == 1 and rest[0] in _MESSAGE_CHANNELS:
        return Topic(Channel(rest[0]), device_id, gateway_id)
    if gateway_id is None and rest == _TIMETABLE:
        return timetable(device_id)
    if gateway_id is None and rest == _TIMETABLE_ACK:
        return timetable_ack(device_id)
    return _commands(rest, device_id, gateway_id, bulk=False)


def build(topic: Topic, root: str = DEFAULT_ROOT) -> str:
    """The topic string of ``topic``."""
    base = f"{root}/devices/{topic.device_id}"
    if topic.bulk:
        base = f"{root}/gateways/{topic.gateway_id}"
    elif topic.gateway_id:
        base = f"{root}/gateways/{topic.gateway_id}/devices/{topic.device_id}"
    if topic.channel is Channel.COMMAND:
        return f"{base}/commands/{topic.command_id}"
    if topic.channel is Channel.REPLY:
        return f"{base}/commands/{topic.command_id}/reply"
    if topic.channel is Channel.SCHEDULE:
        return f"{root}/gateways/{topic.device_id}/schedule"
    if topic.channel is Channel.SCHEDULE_ACK:
        return f"{root}/gateways/{topic.device_id}/schedule/ack"
    if topic.channel is Channel.TIMETABLE:
        return f"{root}/devices/{topic.device_id}/timetable"
    if topic.channel is Channel.TIMETABLE_ACK:
        return f"{root}/devices/{topic.device_id}/timetable/ack"
    return f"{base}/{topic.channel.value}"


def hub_subscriptions(root: str = DEFAULT_ROOT) -> list[str]:
    """The filters the hub's gateway subscribes to: direct devices, field gateways' children
    one by one, field gateways' bulk messages, lighting controllers' schedule acks and
    traffic controllers' timetable acks."""
    filters = []
    for base in (f"{root}/devices/+", f"{root}/gateways/+/devices/+", f"{root}/gateways/+"):
        filters += [f"{base}/telemetry", f"{base}/events", f"{base}/status"]
        filters.append(f"{base}/commands/+/reply")
    filters.append(build(schedule_ack("+"), root))
    filters.append(build(timetable_ack("+"), root))
    return filters


def shared(filter_: str, group: str = "beffroi") -> str:
    """A shared-subscription filter: the broker splits the load between subscribers."""
    return f"$share/{group}/{filter_}"
