"""Use cases of accounts: users, sign-in, console sessions, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.models import ApiToken, User, WebSession
from beffroi.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from beffroi.accounts.schemas import TokenCreate, UserCreate, UserUpdate
from beffroi.catalogue import Domain
from beffroi.communes.service import resolve_codes
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from beffroi.core.principal import ActorKind, Permission, Principal, Role, permissions_of
from beffroi.core.time import utcnow
from beffroi.db import Database

TOKEN_PREFIX = "bfr_"
MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
LAST_USED_PRECISION = timedelta(minutes=1)


def _digest(secret: str) -> str:
    # Tokens and session ids are 256-bit random values: a plain SHA-256 is enough at rest,
    # and it allows an indexed look-up (a salted slow hash would not).
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_for(user: User, via: str) -> Principal:
    """The principal a signed-in user acts as."""
    return Principal(
        name=user.username,
        kind=ActorKind.USER,
        roles=frozenset(Role(r) for r in user.roles),
        domains=frozenset(Domain(d) for d in user.domains),
        communes=None if user.communes is None else frozenset(user.communes),
        user_id=user.id,
        via=via,
    )


def _check_roles(roles: Sequence[Role], domains: Sequence[Domain]) -> None:
    if Role.OPERATOR in roles and not domains:
        raise InvalidInput(
            FieldError("domains", f"an operator needs at least one domain of {list(Domain)}")
        )


async def _load_user(session: AsyncSession, ctx: Context, username: str) -> User:
    user = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    # A user outside the caller's scope is reported exactly like a missing one.
    if user is None or not ctx.principal.covers(user.communes):
        raise NotFound(f"user {username!r} not found")
    return user


async def create_user(ctx: Context, data: UserCreate) -> User:
    """Create an account. Nobody can create an account wider than their own scope."""
    ctx.principal.require(Permission.USER_MANAGE)
    _check_roles(data.roles, data.domains)
    async with ctx.db.write() as session:
        communes = (
            None
            if data.communes is None
            else await resolve_codes(session, data.communes, "communes")
        )
        if not ctx.principal.covers(communes):
            raise PermissionDenied("cannot create an account wider than your own commune scope")
        taken = await session.execute(select(User.id).where(User.username == data.username))
        if taken.first() is not None:
            raise Conflict(f"username {data.username!r} is taken")
        user = User(
            username=data.username,
            display_name=data.display_name,
            email=data.email,
            password_hash=await hash_password(data.password),
            roles=sorted(r.value for r in data.roles),
            domains=sorted(d.value for d in data.domains),
            communes=communes,
        )
        session.add(user)
        await session.flush()
        await audit.record(
            session,
            ctx.principal,
            "user.create",
            target_type="user",
            target_id=user.username,
            commune=communes[0] if communes and len(communes) == 1 else None,
            details={"roles": user.roles, "domains": user.domains, "communes": communes},
        )
    return user


async def list_users(ctx: Context) -> list[User]:
    """Accounts whose scope lies within the caller's."""
    ctx.principal.require(Permission.USER_READ)
    async with ctx.db.read() as session:
        users = (await session.execute(select(User).order_by(User.username))).scalars().all()
    return [u for u in users if ctx.principal.covers(u.communes)]


async def get_user(ctx: Context, username: str) -> User:
    """One account, if within the caller's scope."""
    if ctx.principal.name != username:
        ctx.principal.require(Permission.USER_READ)
    async with ctx.db.read() as session:
        return await _load_user(session, ctx, username)


async def update_user(ctx: Context, username: str, changes: UserUpdate) -> User:
    """Change an account: roles, domains, scope, password, disabled. Disabling signs it out."""
    ctx.principal.require(Permission.USER_MANAGE)
    async with ctx.db.write() as session:
        user = await _load_user(session, ctx, username)
        before = {
            "roles": user.roles,
            "domains": user.domains,
            "communes": user.communes,
            "disabled": user.disabled,
        }
        if changes.all_communes and changes.communes is not None:
            raise InvalidInput(FieldError("communes", "give communes or all_communes, not both"))
        if changes.all_communes:
            if not ctx.principal.covers(None):
                raise PermissionDenied("only a metropolis-wide account can grant that scope")
            user.communes = None
        elif changes.communes is not None:
            codes = await resolve_codes(session, changes.communes, "communes")
            if not ctx.principal.covers(codes):
                raise PermissionDenied("cannot grant communes outside your own scope")
            user.communes = codes
        roles = changes.roles if changes.roles is not None else [Role(r) for r in user.roles]
        domains = (
            changes.domains if changes.domains is not None else [Domain(d) for d in user.domains]
        )
        _check_roles(roles, domains)
        is_self = user.id == ctx.principal.user_id
        # Whoever manages accounts keeps a way back: the roles left must still manage them.
        if is_self and (changes.disabled or Permission.USER_MANAGE not in permissions_of(roles)):
            raise Conflict(
                "you cannot disable yourself or take away your own "
                f"{Permission.USER_MANAGE.value} permission"
            )
        user.roles = sorted(r.value for r in roles)
        user.domains = sorted(d.value for d in domains)
        if changes.display_name is not None:
            user.display_name = changes.display_name
        if changes.email is not None:
            user.email = changes.email
        if changes.password is not None:
            user.password_hash = await hash_password(changes.password)
            user.failed_logins, user.locked_until = 0, None
        if changes.disabled is not None:
            user.disabled = changes.disabled
        if user.disabled or changes.password is not None:
            await _sign_out_everywhere(session, user.id, revoke_tokens=user.disabled)
        user.updated_at = utcnow()
        after = {
            "roles": user.roles,
            "domains": user.domains,
            "communes": user.communes,
            "disabled": user.disabled,
        }
        await audit.record(
            session,
            ctx.principal,
            "user.update",
            target_type="user",
            target_id=user.username,
            details={
                "before": before,
                "after": after,
                "password_changed": changes.password is not None,
            },
        )
    return user


async def _sign_out_everywhere(session: AsyncSession, user_id: int, *, revoke_tokens: bool) -> None:
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    if revoke_tokens:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful console sign-in: the cookie secret, the CSRF token and the user."""

    cookie: str
    csrf_token: str
    user: User


async def sign_in(
    db: Database, username: str, password: str, client: str, ttl: timedelta
) -> SignIn:
    """Check a password and open a console session; every attempt is audited.

    Ten failures in a row lock the account for 15 minutes. The error never says whether the
    username exists.
    """
    now = utcnow()
    async with db.read() as session:
        user = (
            await session.execute(select(User).where(User.username == username))
        ).scalar_one_or_none()
    ok = await verify_password(user.password_hash if user else DUMMY_HASH, password)
    actor = Principal(name=username[:64], kind=ActorKind.USER, via="login")
    failure: str | None = None
    if user is None or not ok:
        failure = "bad username or password"
    elif user.disabled:
        failure = "account disabled"
    elif user.locked_until is not None and user.locked_until > now:
        failure = "account locked after repeated failures"
    # A hash made with weaker parameters than today's is replaced while the password is
    # at hand: the only moment it ever is.
    rehashed = (
        await hash_password(password)
        if failure is None and user is not None and needs_rehash(user.password_hash)
        else None
    )
    async with db.write() as session:
        if failure is not None:
            if user is not None and not ok:
                failures = user.failed_logins + 1
                await session.execute(
                    update(User)
                    .where(User.id == user.id)
                    .values(
                        failed_logins=failures,
                        locked_until=now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None,
                    )
                )
            await audit.record(
                session,
                actor,
                "auth.login",
                target_type="user",
                target_id=username[:64],
                outcome=audit.Outcome.DENIED,
                details={"reason": failure, "client": client},
            )
        else:
            assert user is not None
            cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session.add(
                WebSession(
                    id_hash=_digest(cookie),
                    user_id=user.id,
                    csrf_token=csrf,
                    expires_at=now + ttl,
                    client=client[:200],
                )
            )
            upgrade = {"password_hash": rehashed} if rehashed else {}
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(failed_logins=0, locked_until=None, last_login_at=now, **upgrade)
            )
            await session.execute(delete(WebSession).where(WebSession.expires_at < now))
            await audit.record(
                session,
                principal_for(user, "session"),
                "auth.login",
                target_type="user",
                target_id=user.username,
                details={"client": client, "password_rehashed": rehashed is not None},
            )
    if failure is not None or user is None:
        raise NotAuthenticated("bad username or password, or account locked or disabled")
    return SignIn(cookie=cookie, csrf_token=csrf, user=user)


@dataclass(frozen=True, slots=True)
class Authenticated:
    """A principal from a credential, and the CSRF token when it came from a cookie."""

    principal: Principal
    user: User
    csrf_token: str | None = None


async def from_session(db: Database, cookie: str) -> Authenticated | None:
    """The principal of a console session cookie, if valid and not expired."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(WebSession, User)
                .join(User, User.id == WebSession.user_id)
                .where(WebSession.id_hash == _digest(cookie))
            )
        ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= utcnow() or user.disabled:
        return None
    return Authenticated(principal_for(user, "session"), user, web_session.csrf_token)


async def sign_out(db: Database, cookie: str, principal: Principal) -> None:
    """Close a console session."""
    async with db.write() as session:
        await session.execute(delete(WebSession).where(WebSession.id_hash == _digest(cookie)))
        await audit.record(
            session, principal, "auth.logout", target_type="user", target_id=principal.name
        )


async def from_token(db: Database, token: str) -> Authenticated | None:
    """The principal of a bearer token, if valid, unrevoked and unexpired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    async with db.read() as session:
        row = (
            await session.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == _digest(token))
            )
        ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.revoked_at is not None or api_token.expires_at <= now or user.disabled:
        return None
    last = api_token.last_used_at
    if last is None or now - last > LAST_USED_PRECISION:
        # Once a minute at most: a write on every request would serialise readers on SQLite.
        async with db.write() as session:
            await session.execute(
                update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
            )
    return Authenticated(principal_for(user, "token"), user)


async def create_token(ctx: Context, data: TokenCreate) -> tuple[ApiToken, str]:
    """Issue an API token; returns the row and the secret, which is never shown again."""
    ctx.principal.require(Permission.TOKEN_OWN)
    days = data.expires_in_days or ctx.settings.token_default_ttl_days
    async with ctx.db.write() as session:
        if ctx.principal.user_id is None and not data.username:
            raise InvalidInput(FieldError("username", "the system must name whose token"))
        owner_name = data.username or ctx.principal.name
        if ctx.principal.user_id is None or owner_name != ctx.principal.name:
            ctx.principal.require(Permission.USER_MANAGE)
        owner = await _load_user(session, ctx, owner_name)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(
            user_id=owner.id,
            name=data.name,
            prefix=secret[:12],
            token_hash=_digest(secret),
            expires_at=utcnow() + timedelta(days=days),
        )
        session.add(token)
        await session.flush()
        await audit.record(
            session,
            ctx.principal,
            "token.create",
            target_type="token",
            target_id=str(token.id),
            details={"owner": owner.username, "name": data.name, "expires_in_days": days},
        )
    return token, secret


async def list_tokens(ctx: Context, username: str | None = None) -> Sequence[ApiToken]:
    """Tokens of the caller, or of another user for account managers."""
    ctx.principal.require(Permission.TOKEN_OWN)
    async with ctx.db.read() as session:
        if username and username != ctx.principal.name:
            ctx.principal.require(Permission.USER_MANAGE)
        owner = await _load_user(session, ctx, username or ctx.principal.name)
        stmt = select(ApiToken).where(ApiToken.user_id == owner.id).order_by(ApiToken.id)
        return (await session.execute(stmt)).scalars().all()


async def revoke_token(ctx: Context, token_id: int) -> ApiToken:
    """Revoke a token (own, or any in scope for account managers). Idempotent."""
    ctx.principal.require(Permission.TOKEN_OWN)
    async with ctx.db.write() as session:
        row = (
            await session.execute(
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
            await audit.record(
                session,
                ctx.principal,
                "token.revoke",
                target_type="token",
                target_id=str(token.id),
                details={"owner": owner.username},
            )
    return token
