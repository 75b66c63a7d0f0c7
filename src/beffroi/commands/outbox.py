"""What one dispatch round publishes: a message per command, or a bulk message per field
gateway for the commands it relays (docs/device-api.md, "Field gateways in bulk").

A gateway that announced a bulk-form version the hub speaks gets, in one message, the
same command for up to :data:`~beffroi.devices.topics.BULK_MAX` of its children, each
child with its own command id; the hub uses that form when two or more of a round's
commands for its children are the same command (name, parameters, lifetime), and the
per-device topics otherwise. Pure: the dispatcher reads the rows and publishes.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from beffroi.devices import topics
from beffroi.devices.topics import BULK_MAX, BULK_VERSIONS, Channel, Topic


class Due(Protocol):
    """A command ready to leave (a row of the dispatcher's claim)."""

    @property
    def id(self) -> str: ...
    @property
    def asset_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def expires_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One MQTT message, and the commands it carries (one, or many in bulk)."""

    topic: str
    payload: bytes
    command_ids: tuple[str, ...]
    message_id: str | None = None  # a bulk message's own id


def command_payload(name: str, params: dict[str, Any], expires_at: datetime) -> bytes:
    """The message a device receives (docs/device-api.md)."""
    return orjson.dumps(_body(name, params, expires_at))


def _body(name: str, params: dict[str, Any], expires_at: datetime) -> dict[str, Any]:
    return {"name": name, "params": params, "expires_at": expires_at.isoformat()}


def new_message_id() -> str:
    """A bulk message's id: unique, and topic-safe."""
    return uuid.uuid4().hex


def plan(
    rows: Sequence[Due],
    routes: Mapping[str, str | None],
    bulk_versions: Mapping[str, int],
    *,
    root: str,
    message_id: Callable[[], str] = new_message_id,
) -> list[Outgoing]:
    """The messages that send ``rows``, each to the device through its route
    (``routes``: the field gateway each device speaks through, ``None``: directly)."""
    out: list[Outgoing] = []
    # A device with several commands in the round gets them one by one, in order: bulk
    # messages would not keep their order.
    count = Counter(row.asset_id for row in rows)
    together: dict[tuple[str, str, bytes, datetime], list[Due]] = {}
    # A batch's children share one parameters object: encoded once, not once per child.
    encoded: dict[int, bytes] = {}
    for row in rows:
        gateway = routes.get(row.asset_id)
        if (
            gateway is not None
            and bulk_versions.get(gateway) in BULK_VERSIONS
            and count[row.asset_id] == 1
        ):
            params = encoded.get(id(row.params))
            if params is None:
                params = orjson.dumps(row.params, option=orjson.OPT_SORT_KEYS)
                encoded[id(row.params)] = params
            together.setdefault((gateway, row.name, params, row.expires_at), []).append(row)
        else:
            out.append(_single(row, gateway, root))
    for (gateway, _name, _params, _expires), group in together.items():
        if len(group) == 1:
            out.append(_single(group[0], gateway, root))
            continue
        for start in range(0, len(group), BULK_MAX):
            out.append(_bulk(gateway, group[start : start + BULK_MAX], root, message_id()))
    return out


def _single(row: Due, gateway: str | None, root: str) -> Outgoing:
    topic = topics.build(Topic(Channel.COMMAND, row.asset_id, gateway, row.id), root)
    return Outgoing(topic, command_payload(row.name, row.params, row.expires_at), (row.id,))


def _bulk(gateway: str, group: Sequence[Due], root: str, message_id: str) -> Outgoing:
    first = group[0]
    body = _body(first.name, first.params, first.expires_at)
    body["commands"] = {row.asset_id: row.id for row in group}
    topic = topics.build(topics.bulk(Channel.COMMAND, gateway, message_id), root)
    return Outgoing(topic, orjson.dumps(body), tuple(row.id for row in group), message_id)
