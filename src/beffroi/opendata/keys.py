"""Open data API keys: a key raises its holder's rate limit (never what it may read: all
of open data is public). Handed out and revoked by an administrator, audited; the key is
shown once and kept as its SHA-256.

Clients send it as Opendatasoft's API expects: ``Authorization: Apikey <key>``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import select

from beffroi.core.context import Context
from beffroi.core.errors import NotFound
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db import Database
from beffroi.opendata.models import OpendataApiKey
from beffroi.opendata.service import require_manager

KEY_PREFIX = "bod_"
TARGET = "opendata_key"


def digest(key: str) -> str:
    """The form a key is kept in and looked up by (keys are 256-bit random values: a plain
    SHA-256 allows an indexed look-up and is enough at rest)."""
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(ctx: Context, name: str) -> tuple[OpendataApiKey, str]:
    """Hand out a key named ``name`` (who it is for); returns the row and the key, which is
    never shown again."""
    async with change(
        ctx, "opendata_key.create", target_type=TARGET, refused_details={"name": name}
    ) as uc:
        require_manager(ctx)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = OpendataApiKey(
            name=name,
            key_hash=digest(key),
            prefix=key[:12],
            created_at=utcnow(),
            created_by=ctx.principal.name,
            revoked_at=None,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(target_id=row.id, details={"name": name, "prefix": row.prefix})
    return row, key


async def list_keys(ctx: Context) -> Sequence[OpendataApiKey]:
    """Every key handed out, revoked ones included, oldest first."""
    require_manager(ctx)
    async with ctx.db.read() as session:
        return (await session.scalars(select(OpendataApiKey).order_by(OpendataApiKey.id))).all()


async def revoke_key(ctx: Context, key_id: int) -> OpendataApiKey:
    """Revoke a key (idempotent: a revoked key stays revoked as it was)."""
    async with change(ctx, "opendata_key.revoke", target_type=TARGET, target_id=key_id) as uc:
        require_manager(ctx)
        row = await uc.session.get(OpendataApiKey, key_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no open data API key {key_id}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            uc.audit(details={"name": row.name, "prefix": row.prefix})
    return row


async def holder(db: Database, key: str) -> int | None:
    """The id of the live key ``key``, if it is one."""
    async with db.read() as session:
        row = await session.scalar(
            select(OpendataApiKey.id).where(
                OpendataApiKey.key_hash == digest(key), OpendataApiKey.revoked_at.is_(None)
            )
        )
    return row
