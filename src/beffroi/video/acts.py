"""An act on images as one use case: audited like any change, and registered whether it
happens or is refused (the register keeps the attempts too, CSI L252-3)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from beffroi.assets import queries as assets
from beffroi.core.context import Context
from beffroi.core.errors import BeffroiError
from beffroi.core.usecase import UseCase, change
from beffroi.video import register
from beffroi.video.lifecycle import EntryKind, EntryOutcome
from beffroi.video.register import Draft


@asynccontextmanager
async def act(
    ctx: Context,
    action: str,
    kind: EntryKind,
    cameras: Sequence[str],
    *,
    reason: str | None = None,
    session_id: int | None = None,
    target_type: str | None = None,
    target_id: Any = None,
) -> AsyncIterator[UseCase]:
    """:func:`change`, and on a refusal one ``refused`` register entry per camera asked,
    written in a transaction of its own (the act's rolled back)."""
    try:
        async with change(ctx, action, target_type=target_type, target_id=target_id) as uc:
            yield uc
    except BeffroiError as exc:
        await register_refusal(ctx, kind, cameras, exc.detail, reason, session_id)
        raise


async def register_refusal(
    ctx: Context,
    kind: EntryKind,
    cameras: Sequence[str],
    error: str,
    reason: str | None,
    session_id: int | None,
) -> None:
    """Register a refused act: one entry per camera asked (with its commune when it is a
    camera, so that the auditors of that commune see the attempt)."""
    asked: list[str | None] = []
    asked.extend(list(dict.fromkeys(cameras))[:100])
    asked = asked or [None]
    async with ctx.db.read() as session:
        found = await assets.facts(session, [c for c in asked if c is not None])
    drafts = [
        Draft(
            kind,
            camera_id[:64] if camera_id else None,
            found[camera_id].commune if camera_id in found else None,
            reason=reason,
            outcome=EntryOutcome.REFUSED,
            session_id=session_id,
            details={"error": error[:500]},
        )
        for camera_id in asked
    ]
    await register.append_alone(ctx.db, ctx.principal, drafts)
