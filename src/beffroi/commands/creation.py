"""New commands: their ids, their rows, their hub events, and writing them in bulk.

A single command and the children of a batch are made the same way, so that a dim command
to the 34,000 lights of a city is one statement: what the children share is bound once,
what differs per target (id, asset, type, commune, verifiability) goes as arrays.

A new command has no transition row: its creation and the state it is created in
(``queued`` or ``awaiting_approval``) are the row itself (``created_at``, ``created_by``,
``approval_expires_at``), and :mod:`.reading` shows them as its first two steps.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.service import AssetRef
from beffroi.commands import policy
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.commands.verification import expected_state
from beffroi.core.context import Context
from beffroi.db import Base
from beffroi.db.copy import driver_connection, insert_rows
from beffroi.db.lists import is_postgres

ID_HEX = 32


def new_id() -> str:
    """A command or batch id: unique, and topic-safe for the device API (32 hex digits, as
    a random UUID's, without building one: a city-wide batch makes 34,000)."""
    return secrets.token_hex(ID_HEX // 2)


def new_ids(count: int) -> list[str]:
    """``count`` ids as :func:`new_id` makes them, from one draw of the system's random
    source rather than one call per id."""
    blob = secrets.token_hex(ID_HEX // 2 * count)
    return [blob[i : i + ID_HEX] for i in range(0, ID_HEX * count, ID_HEX)]


@dataclass(frozen=True, slots=True)
class NewCommands:
    """New commands, one per target, ``queued`` or ``awaiting_approval``: the columns they
    share (``shared``), and per target its id, asset, type, commune and verification."""

    shared: dict[str, Any]
    ids: list[str]
    asset_ids: list[str]
    asset_types: list[str]
    communes: list[str]
    verifications: list[str]

    @property
    def state(self) -> str:
        """The state they are created in."""
        return str(self.shared["state"])

    def rows(self) -> list[dict[str, Any]]:
        """One dict per command (the backends without the bulk statement)."""
        return [
            {
                "id": i,
                "asset_id": a,
                "asset_type": t,
                "commune_code": c,
                "verification": v,
                **self.shared,
            }
            for i, a, t, c, v in zip(
                self.ids,
                self.asset_ids,
                self.asset_types,
                self.communes,
                self.verifications,
                strict=True,
            )
        ]

    def events(self) -> list[CommandChanged]:
        """Their hub events: each command entered its first state."""
        s = self.shared
        state, batch_id, name = CommandState(s["state"]), s["batch_id"], s["name"]
        at = s["created_at"]
        checks = {v.value: v for v in Verification}
        return [
            CommandChanged(i, a, batch_id, name, state, checks[v], at)
            for i, a, v in zip(self.ids, self.asset_ids, self.verifications, strict=True)
        ]


def new_commands(
    ctx: Context,
    checked: policy.Checked,
    assets: Sequence[AssetRef],
    now: datetime,
    reason: str | None,
    batch_id: str | None,
) -> NewCommands:
    """New commands, one per target: what every child of a batch shares is worked out
    once, what differs per target (id, asset, verifiability by asset type) per target."""
    waiting = checked.needs_approval
    shared = {
        "batch_id": batch_id,
        "name": checked.spec.name,
        "params": checked.params,
        "critical": checked.critical,
        "reason": reason,
        "state": (CommandState.AWAITING_APPROVAL if waiting else CommandState.QUEUED).value,
        "attempts": 0,
        "max_attempts": checked.max_attempts,
        "timeout_s": checked.timeout_s,
        "created_at": now,
        "created_by": ctx.principal.name,
        "created_by_user_id": ctx.principal.user_id,
        "approval_expires_at": now + timedelta(seconds=ctx.settings.approval_ttl_s)
        if waiting
        else None,
        # The lifetime runs from creation: an approval that comes late leaves less of it.
        "expires_at": now + timedelta(seconds=checked.expires_in_s),
        "next_attempt_at": None if waiting else now,
        "updated_at": now,
    }
    verification: dict[str, str] = {}
    for asset_type in {a.type for a in assets}:
        verifiable = bool(expected_state(asset_type, checked.spec.name, checked.params))
        outcome = Verification.PENDING if verifiable else Verification.NOT_APPLICABLE
        verification[asset_type] = outcome.value
    types = [a.type for a in assets]
    return NewCommands(
        shared,
        new_ids(len(assets)),
        [a.id for a in assets],
        types,
        [a.commune for a in assets],
        [verification[t] for t in types],
    )


# The columns bound once for every new command, with their PostgreSQL types (the others go
# as arrays, one per target). JSON goes as text.
_SHARED = {
    "batch_id": "text",
    "name": "text",
    "params": "text::jsonb",
    "critical": "boolean",
    "reason": "text",
    "state": "text",
    "attempts": "integer",
    "max_attempts": "integer",
    "timeout_s": "integer",
    "created_at": "timestamptz",
    "created_by": "text",
    "created_by_user_id": "integer",
    "approval_expires_at": "timestamptz",
    "expires_at": "timestamptz",
    "next_attempt_at": "timestamptz",
    "updated_at": "timestamptz",
}
_PER_TARGET = ("id", "asset_id", "asset_type", "commune_code", "verification")
_BOUND = ", ".join(f"${n}::{t}" for n, t in enumerate(_SHARED.values(), start=6))
# Only the names and types above are put in the statement's text; every value is bound.
_INSERT_PG = (
    f"INSERT INTO commands ({', '.join((*_PER_TARGET, *_SHARED))}) "  # noqa: S608
    f"SELECT v.*, {_BOUND} "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v"
)


async def insert(session: AsyncSession, new: NewCommands) -> None:
    """Write new commands in this transaction: on PostgreSQL one ``INSERT … SELECT`` over
    the per-target arrays (no row built in Python), elsewhere one executemany."""
    if not new.ids:
        return
    if not is_postgres(session):
        await insert_rows(session, Base.metadata.tables["commands"], new.rows())
        return
    shared = [
        orjson.dumps(new.shared[c]).decode() if c == "params" else new.shared[c] for c in _SHARED
    ]
    conn = await driver_connection(session)
    await conn.execute(
        _INSERT_PG,
        new.ids,
        new.asset_ids,
        new.asset_types,
        new.communes,
        new.verifications,
        *shared,
    )
