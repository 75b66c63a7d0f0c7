"""Who may publish, subscribe to and receive which MQTT topics: pure decisions.

The embedded broker asks these functions on every PUBLISH, SUBSCRIBE and delivery; the
Mosquitto ACL file is rendered from the same :func:`device_grants`, so both brokers enforce
one rule: a device (username = its asset id) publishes and subscribes only under its own
id, and a field gateway also under ``{root}/gateways/{its id}/devices/{child}/…`` and
``{root}/gateways/{its id}/…`` (its bulk messages); a lighting cabinet's controller
receives its schedule on ``{root}/gateways/{its id}/schedule`` and acknowledges it on
``…/schedule/ack``; a traffic controller receives its timetable on
``{root}/devices/{its id}/timetable`` and acknowledges it on ``…/timetable/ack``.

The broker checks only the gateway *prefix*: it does not know which devices are the
gateway's children (Mosquitto cannot, with one ``pattern`` line for every device). The hub
checks, on ingest, that the child really is a child of the gateway (its device directory:
see :mod:`beffroi.telemetry.decode`) and rejects the message otherwise.

The hub's account may do everything; it is told apart by its username alone, which is
only ever authenticated against the hub's own password, never as a device.
"""

from __future__ import annotations

from dataclasses import dataclass

from paho.mqtt.client import topic_matches_sub

from beffroi.devices.topics import (
    DEVICE_CHANNELS,
    ID_RE,
    build,
    parse,
    schedule,
    schedule_ack,
    timetable,
    timetable_ack,
)

SINGLE = "+"
MULTI = "#"


@dataclass(frozen=True, slots=True)
class Grants:
    """Topic filters a device may publish to and subscribe to (and so receive from)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def device_grants(root: str, device_id: str) -> Grants:
    """The filters granted to ``device_id`` (or to ``%u`` for a Mosquitto pattern).

    Publishing is further limited to well-formed topics by :func:`may_publish`.
    """
    grants_publish: list[str] = []
    grants_subscribe: list[str] = []
    for base in (
        f"{root}/devices/{device_id}",
        f"{root}/gateways/{device_id}/devices/{SINGLE}",
        # The bulk form: one message for many children of the gateway.
        f"{root}/gateways/{device_id}",
    ):
        grants_publish += [f"{base}/telemetry", f"{base}/events", f"{base}/status"]
        grants_publish.append(f"{base}/commands/{SINGLE}/reply")
        grants_subscribe.append(f"{base}/commands/{SINGLE}")
    # A lighting cabinet's controller: its schedule from the hub, and its acknowledgement.
    grants_publish.append(build(schedule_ack(device_id), root))
    grants_subscribe.append(build(schedule(device_id), root))
    # A traffic signal controller: its timetable from the hub, and its acknowledgement.
    grants_publish.append(build(timetable_ack(device_id), root))
    grants_subscribe.append(build(timetable(device_id), root))
    return Grants(tuple(grants_publish), tuple(grants_subscribe))


def is_valid_filter(topic_filter: str) -> bool:
    """Whether ``topic_filter`` is a well-formed MQTT filter (wildcards on whole levels,
    ``#`` only last)."""
    if not topic_filter or "\x00" in topic_filter:
        return False
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if MULTI in level and (level != MULTI or index != len(levels) - 1):
            return False
        if SINGLE in level and level != SINGLE:
            return False
    return True


def filter_covers(outer: str, inner: str) -> bool:
    """Whether every topic matched by filter ``inner`` is matched by filter ``outer``.

    This is how a subscription is judged: ``{root}/devices/+/commands/+`` is not covered
    by ``{root}/devices/A/commands/+``, since it also matches B's commands.
    """
    outer_levels = outer.split("/")
    inner_levels = inner.split("/")
    for index, level in enumerate(outer_levels):
        if level == MULTI:
            return True
        if index >= len(inner_levels):
            return False
        wanted = inner_levels[index]
        if wanted == MULTI:
            return False  # inner reaches arbitrarily deep, outer does not
        if level == SINGLE:
            continue
        if wanted == SINGLE or wanted != level:
            return False
    return len(outer_levels) == len(inner_levels)


def _is_device(username: str) -> bool:
    return bool(ID_RE.match(username))


def may_publish(username: str, topic: str, *, root: str, hub_username: str) -> bool:
    """Whether ``username`` may publish on ``topic``.

    A device: only a well-formed device-to-hub topic (telemetry, events, status, command
    reply) under its own id, or relayed under its own gateway prefix.
    """
    if username == hub_username:
        return True
    if not _is_device(username):
        return False
    parsed = parse(topic, root)
    return parsed is not None and parsed.channel in DEVICE_CHANNELS and parsed.sender == username


def may_subscribe(username: str, topic_filter: str, *, root: str, hub_username: str) -> bool:
    """Whether ``username`` may subscribe to ``topic_filter``: for a device, the filter must
    lie wholly within its own command topics (no wildcard may reach beyond them)."""
    if username == hub_username:
        return True
    if not _is_device(username) or not is_valid_filter(topic_filter):
        return False
    return any(
        filter_covers(granted, topic_filter) for granted in device_grants(root, username).subscribe
    )


def may_receive(username: str, topic: str, *, root: str, hub_username: str) -> bool:
    """Whether a message on ``topic`` may be delivered to ``username`` (checked per message,
    so a subscription granted before a rule change still leaks nothing)."""
    if username == hub_username:
        return True
    if not _is_device(username):
        return False
    return any(
        topic_matches_sub(granted, topic) for granted in device_grants(root, username).subscribe
    )
