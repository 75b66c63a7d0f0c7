"""New commands: their ids, their rows, their first moves, and writing them in bulk.

A single command and the children of a batch are made the same way, so that a dim command
to the 34,000 lights of a city is one insert and one set of moves.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.service import AssetRef
from beffroi.commands import policy
from beffroi.commands.history import Move
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.commands.verification import expected_state
from beffroi.core.context import Context
from beffroi.db import Base
from beffroi.db.copy import insert_rows


def new_id() -> str:
    """A command or batch id: unique, and topic-safe for the device API (32 hex digits, as
    a random UUID's, without building one: a city-wide batch makes 34,000)."""
    return secrets.token_hex(16)


def new_row(
    ctx: Context,
    checked: policy.Checked,
    asset: AssetRef,
    now: datetime,
    reason: str | None,
    batch_id: str | None,
) -> dict[str, Any]:
    """A new command row for one target, ``queued`` or ``awaiting_approval``."""
    return new_rows(ctx, checked, [asset], now, reason, batch_id)[0]


def new_rows(
    ctx: Context,
    checked: policy.Checked,
    assets: Sequence[AssetRef],
    now: datetime,
    reason: str | None,
    batch_id: str | None,
) -> list[dict[str, Any]]:
    """New command rows, one per target, ``queued`` or ``awaiting_approval``: what every
    child of a batch shares is worked out once, what differs per target (id, asset,
    verifiability by asset type) per row."""
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
    return [
        {
            "id": new_id(),
            "asset_id": a.id,
            "asset_type": a.type,
            "commune_code": a.commune,
            "verification": verification[a.type],
            **shared,
        }
        for a in assets
    ]


def first_moves(ctx: Context, rows: Sequence[dict[str, Any]], now: datetime) -> list[Move]:
    """The first move of new commands. Their creation is the row itself (``created_at``,
    ``created_by``): one transition row per command rather than two, for 34,000 at once."""
    actor, kind = ctx.principal.name, ctx.principal.kind.value
    return [
        Move(
            r["id"],
            r["asset_id"],
            r["batch_id"],
            r["name"],
            r["state"],
            r["verification"],
            now,
            actor,
            kind,
        )
        for r in rows
    ]


async def insert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write new command rows in one statement (``COPY`` on PostgreSQL)."""
    await insert_rows(session, Base.metadata.tables["commands"], rows)
