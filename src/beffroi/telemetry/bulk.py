"""Decoding a field gateway's bulk messages: one message, many children.

A lighting cabinet's controller (a TALQ segment controller, say) speaks for its lights in
one message rather than one message per light::

    gateways/{gateway}/telemetry  {"SL-1": [{"ts": …, "values": {…}}, …], "SL-2": {"values": {…}}}
    gateways/{gateway}/events     {"SL-1": {"code": "lampFailure", "active": true}, …}
    gateways/{gateway}/status     {"SL-1": {"online": false}, …}
    gateways/{gateway}/commands/{message}/reply   {"<command id>": {"status": "succeeded"}, …}

Each child's entry has the payload its own topic would carry, and is judged on its own:
a bad entry (a child the gateway does not own, a key the type does not have, a value out
of range) is rejected alone, with its reason, and the others are stored. The envelope is
judged whole: not a JSON object of at most :data:`~beffroi.devices.topics.BULK_MAX`
children, or from an unknown gateway, and nothing of it is stored. Like the rest of the
decoder, nothing here raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog

from beffroi.devices import topics
from beffroi.devices.topics import BULK_MAX, Channel, Topic
from beffroi.telemetry.decode import (
    MAX_PAYLOAD_BYTES,
    Bad,
    Decoded,
    DeviceInfo,
    Reason,
    Rejection,
    Reply,
    decode,
    event_of,
    readings_of,
    reply_of,
    status_of,
)

log = structlog.get_logger(__name__)
DEFAULT_RETENTION = timedelta(days=90)
BULK_CHANNELS = frozenset({Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS, Channel.REPLY})

# A bulk message carries up to a thousand children: more than one device's message.
MAX_BULK_BYTES = 4 * MAX_PAYLOAD_BYTES
# The start of a refused entry kept for inspection.
ENTRY_SAMPLE_BYTES = 300


def decode_message(
    topic: str,
    payload: bytes,
    directory: Mapping[str, DeviceInfo],
    *,
    received_at: datetime,
    root: str = topics.DEFAULT_ROOT,
    retention: timedelta = DEFAULT_RETENTION,
) -> list[Decoded | Rejection]:
    """What one MQTT message brings: one decoded message (or its rejection) for a device's
    own topic, every child's part for a gateway's bulk message."""
    parsed = topics.parse(topic, root)
    if parsed is None or not parsed.bulk or parsed.channel not in BULK_CHANNELS:
        return [
            decode(
                topic, payload, directory, received_at=received_at, root=root, retention=retention
            )
        ]
    try:
        return decode_bulk(
            parsed,
            topic,
            payload,
            directory,
            received_at=received_at,
            oldest=received_at - retention,
        )
    except Exception as exc:  # a decoder bug must cost one message, never the gateway
        log.exception("unexpected error decoding a bulk message", topic=topic[:200])
        detail = f"could not be decoded: {type(exc).__name__}"
        return [Rejection(Reason.BAD_PAYLOAD, detail, topic, payload, parsed.device_id)]


def decode_bulk(
    parsed: Topic,
    topic: str,
    payload: bytes,
    directory: Mapping[str, DeviceInfo],
    *,
    received_at: datetime,
    oldest: datetime,
) -> list[Decoded | Rejection]:
    """Every child's part of a bulk telemetry, events or status message (every command's
    reply of a bulk reply), or the rejections of the entries (or of the whole envelope)
    that break the contract."""
    gateway = parsed.device_id

    def whole(reason: Reason, detail: str) -> list[Decoded | Rejection]:
        return [Rejection(reason, detail, topic, payload, gateway)]

    if len(payload) > MAX_BULK_BYTES:
        return whole(Reason.TOO_LARGE, f"payload over {MAX_BULK_BYTES} bytes")
    if gateway not in directory:
        return whole(Reason.UNKNOWN_DEVICE, f"unknown gateway {gateway!r}")
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        reason = Reason.BAD_ENCODING if _not_utf8(payload) else Reason.BAD_JSON
        return whole(reason, f"not JSON: {str(exc)[:120]}")
    if not isinstance(body, dict):
        return whole(Reason.BAD_PAYLOAD, f"a bulk message is an object keyed by {_KEYED_BY}")
    if len(body) > BULK_MAX:
        return whole(Reason.TOO_LARGE, f"more than {BULK_MAX} entries in one message")
    out: list[Decoded | Rejection] = []
    for child, entry in body.items():
        try:
            if parsed.channel is Channel.REPLY:
                out.append(_reply(gateway, child, entry, received_at))
                continue
            out += _entry(parsed.channel, gateway, child, entry, directory, received_at, oldest)
        except Bad as bad:
            about = gateway if parsed.channel is Channel.REPLY else _id(child)
            out.append(Rejection(bad.reason, bad.detail, topic, _sample(entry), about))
        except RecursionError:
            out.append(Rejection(Reason.BAD_JSON, "nested too deeply", topic, b"", _id(child)))
    return out


_KEYED_BY = "child id (command id for a reply)"


def _reply(gateway: str, command_id: str, entry: Any, received_at: datetime) -> Reply:
    """One command's outcome in a gateway's bulk reply: which child it was sent to is the
    hub's to know (the tracker checks it went through this gateway)."""
    if not topics.ID_RE.match(command_id):
        raise Bad(Reason.BAD_TOPIC, f"{command_id[:64]!r} is not a command id")
    return reply_of(None, command_id, entry, received_at, via=gateway)


def _entry(
    channel: Channel,
    gateway: str,
    child: str,
    entry: Any,
    directory: Mapping[str, DeviceInfo],
    received_at: datetime,
    oldest: datetime,
) -> list[Decoded]:
    if not topics.ID_RE.match(child):
        raise Bad(Reason.BAD_TOPIC, f"{child[:64]!r} is not a device id")
    device = directory.get(child)
    if device is None:
        raise Bad(Reason.UNKNOWN_DEVICE, f"unknown device {child!r}")
    # The gateway speaks for its children, and may put its own part in the same message.
    if child != gateway and device.parent_id != gateway:
        raise Bad(Reason.NOT_A_CHILD, f"{child!r} is not a child of {gateway!r}")
    via = None if child == gateway else gateway
    if channel is Channel.TELEMETRY:
        return [readings_of(child, device.type, entry, received_at, oldest)]
    if channel is Channel.EVENTS:
        events = entry if isinstance(entry, list) else [entry]
        if len(events) > BULK_MAX:
            raise Bad(Reason.TOO_LARGE, f"more than {BULK_MAX} events for one child")
        return [event_of(child, device.type, e, received_at, oldest, via) for e in events]
    if channel is Channel.STATUS:
        return [status_of(child, entry, received_at, via)]
    raise Bad(Reason.BAD_TOPIC, f"no bulk form for {channel.value}")


def _id(child: object) -> str | None:
    return child[:64] if isinstance(child, str) else None


def _sample(entry: Any) -> bytes:
    try:
        return orjson.dumps(entry)[:ENTRY_SAMPLE_BYTES]
    except (TypeError, orjson.JSONEncodeError):
        return b""


def _not_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
