"""API tokens: issued to a user (the secret shown once, its SHA-256 kept), listed, revoked."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from beffroi.accounts.models import ApiToken, User
from beffroi.accounts.schemas import TokenCreate
from beffroi.accounts.service import load_user
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change

TOKEN_PREFIX = "bfr_"
TARGET = "token"


def digest(secret: str) -> str:
    """The form a token or a session id is kept in, and looked up by."""
    # Tokens and session ids are 256-bit random values: a plain SHA-256 is enough at rest,
    # and it allows an indexed look-up (a salted slow hash would not).
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(ctx: Context, data: TokenCreate) -> tuple[ApiToken, str]:
    """Issue an API token; returns the row and the secret, which is never shown again."""
    days = data.expires_in_days or ctx.settings.token_default_ttl_days
    owner_name = data.username or ctx.principal.name
    # Until it has an id, a refused token is named by its owner and name.
    asked = {"owner": owner_name, "name": data.name}
    async with change(ctx, "token.create", target_type=TARGET, refused_details=asked) as uc:
        ctx.principal.require(Permission.TOKEN_OWN)
        if ctx.principal.user_id is None and not data.username:
            raise InvalidInput(FieldError("username", "the system must name whose token"))
        if ctx.principal.user_id is None or owner_name != ctx.principal.name:
            ctx.principal.require(Permission.USER_MANAGE)
        owner = await load_user(uc.session, ctx, owner_name)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            user_id=owner.id,
            name=data.name,
            prefix=secret[:12],
            token_hash=digest(secret),
            expires_at=utcnow() + timedelta(days=days),
        )
        uc.session.add(token)
        await uc.session.flush()
        uc.audit(
            target_id=token.id,
            details={"owner": owner.username, "name": data.name, "expires_in_days": days},
        )
    return token, secret


async def list_tokens(ctx: Context, username: str | None = None) -> Sequence[ApiToken]:
    """Tokens of the caller, or of another user for account managers."""
    ctx.principal.require(Permission.TOKEN_OWN)
    async with ctx.db.read() as session:
        if username and username != ctx.principal.name:
            ctx.principal.require(Permission.USER_MANAGE)
        owner = await load_user(session, ctx, username or ctx.principal.name)
        stmt = select(ApiToken).where(ApiToken.user_id == owner.id).order_by(ApiToken.id)
        return (await session.execute(stmt)).scalars().all()


async def revoke_token(ctx: Context, token_id: int) -> ApiToken:
    """Revoke a token (own, or any in scope for account managers). Idempotent."""
    async with change(ctx, "token.revoke", target_type=TARGET, target_id=token_id) as uc:
        ctx.principal.require(Permission.TOKEN_OWN)
        row = (
            await uc.session.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.id == token_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"token {token_id} not found")
        token, owner = row
        if owner.id != ctx.principal.user_id and not (
            ctx.principal.can(Permission.USER_MANAGE) and ctx.principal.covers(owner.communes)
        ):
            raise NotFound(f"token {token_id} not found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            uc.audit(details={"owner": owner.username})
    return token
