"""Whether a person holds an active habilitation, told to the :class:`Principal` when a
request is authenticated, so that every area below can hide cameras from the others
(``Principal.sees_video``) without reading the habilitations itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.callers import authenticate_request
from beffroi.accounts.signin import Authenticated
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.video.models import Habilitation


def active_clause(at: datetime) -> ColumnElement[bool]:
    """SQL condition: a habilitation in force at ``at`` (begun, not ended, not revoked)."""
    return (
        (Habilitation.valid_from <= at)
        & (Habilitation.valid_until > at)
        & Habilitation.revoked_at.is_(None)
    )


async def is_cleared(session: AsyncSession, user_id: int, at: datetime | None = None) -> bool:
    """Whether user ``user_id`` holds a habilitation in force at ``at`` (default: now)."""
    query = select(exists().where(Habilitation.user_id == user_id, active_clause(at or utcnow())))
    return bool(await session.scalar(query))


async def authenticate_with_clearance(
    db: Database, authorization: str | None, cookie: str | None
) -> Authenticated:
    """:func:`authenticate_request`, with the principal's ``video_cleared`` told."""
    found = await authenticate_request(db, authorization, cookie)
    principal = found.principal
    # Only an agent who would see cameras through a habilitation costs the extra read.
    if (
        principal.user_id is None
        or principal.can(Permission.VIDEO_SEE)
        or not principal.can(Permission.VIDEO_WATCH)
    ):
        return found
    async with db.read() as session:
        cleared = await is_cleared(session, principal.user_id)
    if not cleared:
        return found
    return replace(found, principal=replace(principal, video_cleared=True))
