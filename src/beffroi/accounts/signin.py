"""Signing in and being recognised: console sessions (password, cookie, sign-out) and
bearer tokens, each giving the principal a person acts as."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from beffroi.accounts.models import ApiToken, User, WebSession
from beffroi.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from beffroi.accounts.tokens import TOKEN_PREFIX, digest
from beffroi.catalogue import Domain
from beffroi.core import audit
from beffroi.core.errors import NotAuthenticated
from beffroi.core.principal import ActorKind, Principal, Role
from beffroi.core.time import utcnow
from beffroi.db import Database

MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
LAST_USED_PRECISION = timedelta(minutes=1)


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
                    id_hash=digest(cookie),
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
                .where(WebSession.id_hash == digest(cookie))
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
        await session.execute(delete(WebSession).where(WebSession.id_hash == digest(cookie)))
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
                .where(ApiToken.token_hash == digest(token))
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
