"""Decoding and validating device messages against the contract and the catalogue.

Pure functions: a message is either decoded into something to store, or rejected with a
reason. Nothing here raises on any input; a message that breaks the contract is dropped
whole (a reading with one bad key among three is not half-stored).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson
import structlog

from beffroi.catalogue import EquipmentType, TelemetryKey, ValueKind
from beffroi.devices import topics
from beffroi.devices.topics import Channel, ReplyStatus

log = structlog.get_logger(__name__)

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_READINGS = 1000
MAX_CLOCK_SKEW = timedelta(minutes=5)
REPLY_STATUSES = frozenset(ReplyStatus)
# Bulk-form versions are small numbers; a gateway may announce one newer than the hub's.
MAX_BULK_VERSION = 1000
# A tuple, not ``int | float``: that union would be built again on every value checked.
_NUMBERS = (int, float)
READING_FIELDS = frozenset({"ts", "values"})


class Reason(StrEnum):
    """Why a message was rejected; each is a label of the rejection counter."""

    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    BAD_ENCODING = "bad_encoding"
    BAD_JSON = "bad_json"
    BAD_PAYLOAD = "bad_payload"
    UNKNOWN_DEVICE = "unknown_device"
    NOT_A_CHILD = "not_a_child"
    UNKNOWN_KEY = "unknown_key"
    BAD_VALUE = "bad_value"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    UNKNOWN_CODE = "unknown_code"
    WRONG_CREDENTIALS = "wrong_credentials"
    UNKNOWN_COMMAND = "unknown_command"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the gateway knows of a device: its type and its parent (field gateway)."""

    type: EquipmentType
    parent_id: str | None
    commune: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that broke the contract (``asset_id``: the device its topic named)."""

    reason: Reason
    detail: str
    topic: str
    payload: bytes
    asset_id: str | None = None


Point = tuple[str, datetime, float | None, str | None]


@dataclass(frozen=True, slots=True)
class Readings:
    """Telemetry of one device: (key, ts, numeric value, text value) points."""

    asset_id: str
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Event:
    """A fault event raised or cleared."""

    asset_id: str
    ts: datetime
    code: str
    active: bool
    detail: dict[str, Any]
    gateway_id: str | None


@dataclass(frozen=True, slots=True)
class Status:
    """A device's own word on its connectivity (retained status or will message)."""

    asset_id: str
    online: bool
    firmware: str | None
    ts: datetime
    reason: str = "status"  # or "gateway": its field gateway went offline
    # The field gateway it spoke through, if any: the way commands reach it.
    via: str | None = None
    # The bulk-form version a field gateway announces (docs/device-api.md), if any.
    bulk: int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """A device's reply to a command. A reply in a gateway's bulk message names only the
    command: ``asset_id`` is ``None`` and ``via`` the gateway, which must be the one the
    command was sent through."""

    asset_id: str | None
    command_id: str
    status: str
    detail: dict[str, Any]
    ts: datetime
    via: str | None = None

    @property
    def sender(self) -> str:
        """Whose message it was: the device, or the gateway that answered in bulk."""
        return self.asset_id or self.via or ""


Decoded = Readings | Event | Status | Reply


class Bad(Exception):
    """A message (or a bulk entry) that breaks the contract, and why."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_ts(raw: Any, received_at: datetime, oldest: datetime) -> datetime:
    """A timestamp from ISO 8601 with an offset, or epoch milliseconds, within bounds."""
    if isinstance(raw, bool) or raw is None:
        raise Bad(Reason.BAD_TIMESTAMP, "ts must be ISO 8601 with offset or epoch ms")
    if isinstance(raw, _NUMBERS):
        if not math.isfinite(raw):
            raise Bad(Reason.BAD_TIMESTAMP, "ts is not finite")
        try:
            ts = datetime.fromtimestamp(raw / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise Bad(Reason.BAD_TIMESTAMP, f"ts {raw} is out of range") from None
    elif isinstance(raw, str) and len(raw) <= 40:
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise Bad(Reason.BAD_TIMESTAMP, f"ts {raw!r} is not ISO 8601") from None
        if ts.tzinfo is None:
            raise Bad(Reason.BAD_TIMESTAMP, f"ts {raw!r} has no UTC offset")
        ts = ts.astimezone(UTC)
    else:
        raise Bad(Reason.BAD_TIMESTAMP, "ts must be ISO 8601 with offset or epoch ms")
    if ts > received_at + MAX_CLOCK_SKEW:
        raise Bad(Reason.BAD_TIMESTAMP, f"ts {ts.isoformat()} is in the future")
    if ts < oldest:
        raise Bad(Reason.BAD_TIMESTAMP, f"ts {ts.isoformat()} is older than the retention")
    return ts


class KeyIndex:
    """Fast look-up of a type's telemetry keys, exact names first, then indexed patterns."""

    def __init__(self, spec: EquipmentType) -> None:
        self.exact = {k.key: k for k in spec.telemetry if not k.indexed}
        self.patterns: list[tuple[re.Pattern[str], TelemetryKey]] = [
            (k.matcher(), k) for k in spec.telemetry if k.indexed
        ]

    def get(self, key: str) -> TelemetryKey | None:
        """The spec of ``key``, if the type reports it."""
        spec = self.exact.get(key)
        if spec is not None:
            return spec
        for pattern, indexed in self.patterns:
            match = pattern.match(key)
            if match and int(match.group(1)) <= indexed.index_max:
                return indexed
        return None


_KEY_INDEXES: dict[str, KeyIndex] = {}


def _key_index(spec: EquipmentType) -> KeyIndex:
    index = _KEY_INDEXES.get(spec.key)
    if index is None:
        index = _KEY_INDEXES[spec.key] = KeyIndex(spec)
    return index


def check_value(spec: TelemetryKey, value: Any) -> tuple[float | None, str | None]:
    """The stored form of a value: (number, text). Raises on a wrong type or range."""
    kind = spec.kind
    if kind is ValueKind.BOOLEAN:
        if not isinstance(value, bool):
            raise Bad(Reason.BAD_VALUE, f"{spec.key} must be true or false")
        return (1.0 if value else 0.0), None
    if kind is ValueKind.ENUM:
        if not isinstance(value, str) or value not in spec.choices:
            raise Bad(Reason.BAD_VALUE, f"{spec.key} must be one of {list(spec.choices)}")
        return None, value
    if kind is ValueKind.TEXT:
        if not isinstance(value, str) or "\x00" in value:
            raise Bad(Reason.BAD_VALUE, f"{spec.key} must be text without NUL characters")
        if spec.max_length is not None and len(value) > spec.max_length:
            raise Bad(Reason.OUT_OF_RANGE, f"{spec.key} is longer than {spec.max_length}")
        return None, value
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        raise Bad(Reason.BAD_VALUE, f"{spec.key} must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise Bad(Reason.BAD_VALUE, f"{spec.key} must be finite")
    if kind is ValueKind.INTEGER and not number.is_integer():
        raise Bad(Reason.BAD_VALUE, f"{spec.key} must be an integer")
    if (spec.minimum is not None and number < spec.minimum) or (
        spec.maximum is not None and number > spec.maximum
    ):
        raise Bad(
            Reason.OUT_OF_RANGE,
            f"{spec.key}={number:g} outside [{spec.minimum:g}, {spec.maximum:g}]"
            if spec.minimum is not None and spec.maximum is not None
            else f"{spec.key}={number:g} out of range",
        )
    return number, None


def readings_of(
    asset_id: str, spec: EquipmentType, body: Any, received_at: datetime, oldest: datetime
) -> Readings:
    """A device's telemetry payload as readings (raises :class:`Bad`)."""
    if isinstance(body, list):
        if not body:
            raise Bad(Reason.BAD_PAYLOAD, "empty array")
        if len(body) > MAX_READINGS:
            raise Bad(Reason.TOO_LARGE, f"more than {MAX_READINGS} readings")
        readings = body
    elif isinstance(body, dict):
        # A bare object of values means "now"; {"ts":…, "values":{…}} is one reading.
        readings = [body] if "values" in body else [{"values": body}]
    else:
        raise Bad(Reason.BAD_PAYLOAD, "telemetry must be an object or an array of objects")
    index = _key_index(spec)
    points: list[Point] = []
    for reading in readings:
        if not isinstance(reading, dict):
            raise Bad(Reason.BAD_PAYLOAD, "each reading must be an object")
        values = reading.get("values")
        if not isinstance(values, dict) or not values:
            raise Bad(Reason.BAD_PAYLOAD, "values must be a non-empty object")
        stamped = "ts" in reading
        if len(reading) > 1 + stamped:
            extra = set(reading) - READING_FIELDS
            raise Bad(Reason.BAD_PAYLOAD, f"unexpected fields {sorted(extra)[:5]}")
        ts = parse_ts(reading["ts"], received_at, oldest) if stamped else received_at
        exact = index.exact
        for key, raw in values.items():
            key_spec = exact.get(key) or index.get(key)
            if key_spec is None:
                raise Bad(Reason.UNKNOWN_KEY, f"{spec.key} has no telemetry key {key[:64]!r}")
            number, text = check_value(key_spec, raw)
            points.append((key, ts, number, text))
    return Readings(asset_id, tuple(points))


def event_of(
    asset_id: str,
    spec: EquipmentType,
    body: Any,
    received_at: datetime,
    oldest: datetime,
    gateway_id: str | None,
) -> Event:
    """A device's event payload (raises :class:`Bad`)."""
    if not isinstance(body, dict):
        raise Bad(Reason.BAD_PAYLOAD, "an event must be an object")
    code, active, detail = body.get("code"), body.get("active"), body.get("detail", {})
    fault = spec.reported_fault(code) if isinstance(code, str) else None
    if fault is None:
        raise Bad(Reason.UNKNOWN_CODE, f"{spec.key} has no fault code {str(code)[:64]!r}")
    if not isinstance(active, bool):
        raise Bad(Reason.BAD_PAYLOAD, "active must be true or false")
    if not isinstance(detail, dict):
        raise Bad(Reason.BAD_PAYLOAD, "detail must be an object")
    if fault.code != code:
        # Reported in another vocabulary (RSMP): the alarm says both.
        detail = {**detail, "reported_code": code}
    ts = parse_ts(body["ts"], received_at, oldest) if "ts" in body else received_at
    return Event(asset_id, ts, fault.code, active, detail, gateway_id)


def status_of(asset_id: str, body: Any, received_at: datetime, via: str | None) -> Status:
    """A device's status payload (raises :class:`Bad`)."""
    if not isinstance(body, dict) or not isinstance(body.get("online"), bool):
        raise Bad(Reason.BAD_PAYLOAD, 'status must be {"online": true|false, ...}')
    firmware = body.get("firmware")
    if firmware is not None and (not isinstance(firmware, str) or len(firmware) > 100):
        raise Bad(Reason.BAD_PAYLOAD, "firmware must be text of at most 100 characters")
    bulk = body.get("bulk")
    if bulk is not None and (type(bulk) is not int or not 1 <= bulk <= MAX_BULK_VERSION):
        raise Bad(Reason.BAD_PAYLOAD, "bulk must be the version of the bulk form, a number")
    return Status(asset_id, body["online"], firmware, received_at, via=via, bulk=bulk)


def reply_of(
    asset_id: str | None,
    command_id: str,
    body: Any,
    received_at: datetime,
    via: str | None = None,
) -> Reply:
    """A device's reply to a command, or one entry of a gateway's bulk reply (``via``:
    the gateway; raises :class:`Bad`)."""
    status = body.get("status") if isinstance(body, dict) else None
    if not isinstance(status, str) or status not in REPLY_STATUSES:
        raise Bad(Reason.BAD_PAYLOAD, f"status must be one of {sorted(REPLY_STATUSES)}")
    detail = body.get("detail", {})
    if not isinstance(detail, dict):
        raise Bad(Reason.BAD_PAYLOAD, "detail must be an object")
    return Reply(asset_id, command_id, status, detail, received_at, via)


def decode(
    topic: str,
    payload: bytes,
    directory: Mapping[str, DeviceInfo],
    *,
    received_at: datetime,
    root: str = topics.DEFAULT_ROOT,
    retention: timedelta = timedelta(days=90),
) -> Decoded | Rejection:
    """Decode one message, or say why it is rejected."""
    try:
        return _decode(topic, payload, directory, received_at, root, received_at - retention)
    except Bad as bad:
        reason, detail = bad.reason, bad.detail
    except RecursionError:
        reason, detail = Reason.BAD_JSON, "nested too deeply"
    except Exception as exc:  # a decoder bug must cost one message, never the gateway
        log.exception("unexpected error decoding a message", topic=topic[:200])
        reason, detail = Reason.BAD_PAYLOAD, f"could not be decoded: {type(exc).__name__}"
    parsed = topics.parse(topic, root)
    return Rejection(reason, detail, topic, payload, parsed.device_id if parsed else None)


def _decode(
    topic: str,
    payload: bytes,
    directory: Mapping[str, DeviceInfo],
    received_at: datetime,
    root: str,
    oldest: datetime,
) -> Decoded:
    parsed = topics.parse(topic, root)
    if parsed is None or parsed.channel is Channel.COMMAND or parsed.bulk:
        raise Bad(Reason.BAD_TOPIC, "not a device topic of this API")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Bad(Reason.TOO_LARGE, f"payload over {MAX_PAYLOAD_BYTES} bytes")
    device = directory.get(parsed.device_id)
    if device is None:
        raise Bad(Reason.UNKNOWN_DEVICE, f"unknown device {parsed.device_id!r}")
    if parsed.gateway_id is not None and device.parent_id != parsed.gateway_id:
        raise Bad(
            Reason.NOT_A_CHILD, f"{parsed.device_id!r} is not a child of {parsed.gateway_id!r}"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad(Reason.BAD_ENCODING, "payload is not UTF-8") from None
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise Bad(Reason.BAD_JSON, f"not JSON: {str(exc)[:120]}") from None
    if parsed.channel is Channel.TELEMETRY:
        return readings_of(parsed.device_id, device.type, body, received_at, oldest)
    if parsed.channel is Channel.EVENTS:
        return event_of(parsed.device_id, device.type, body, received_at, oldest, parsed.gateway_id)
    if parsed.channel is Channel.STATUS:
        return status_of(parsed.device_id, body, received_at, parsed.gateway_id)
    assert parsed.command_id is not None
    return reply_of(parsed.device_id, parsed.command_id, body, received_at)
