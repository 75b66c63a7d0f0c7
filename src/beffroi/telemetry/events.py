"""Events the device gateway publishes on the hub, after their data is durably stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beffroi.core.event_kinds import kind
from beffroi.core.events import DomainEvent

Value = float | str | bool


@kind("telemetry", console={"id": "asset_id", "ts": "ts", "values": "values"})
@dataclass(frozen=True, slots=True)
class TelemetryUpdated(DomainEvent):
    """New latest values of an asset (only keys whose timestamp moved forward)."""

    asset_id: str
    ts: datetime
    values: Mapping[str, Value]


@kind("connectivity", relayed=True)
@dataclass(frozen=True, slots=True)
class ConnectivityChanged(DomainEvent):
    """An asset came online or went offline (status, will message, or silence)."""

    asset_id: str
    online: bool
    ts: datetime
    reason: str


@kind("device_event")
@dataclass(frozen=True, slots=True)
class DeviceEventReceived(DomainEvent):
    """A device raised or cleared a fault event."""

    asset_id: str
    ts: datetime
    code: str
    active: bool
    detail: Mapping[str, Any]
    gateway_id: str | None = None


@kind("command_reply")
@dataclass(frozen=True, slots=True)
class CommandReplyReceived(DomainEvent):
    """A device answered a command (``asset_id`` is ``None`` when its field gateway
    answered for it in bulk: ``via``)."""

    asset_id: str | None
    command_id: str
    status: str
    detail: Mapping[str, Any]
    ts: datetime
    via: str | None = None
