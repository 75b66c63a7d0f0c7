"""Use cases of user accounts: create, list, read, update (sign-in is
:mod:`beffroi.accounts.signin`, API tokens :mod:`beffroi.accounts.tokens`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.models import ApiToken, User, WebSession
from beffroi.accounts.passwords import hash_password
from beffroi.accounts.schemas import UserCreate, UserUpdate
from beffroi.catalogue import Domain
from beffroi.communes.service import resolve_codes
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Role, permissions_of
from beffroi.core.time import utcnow
from beffroi.core.usecase import change

TARGET = "user"


def _check_roles(roles: Sequence[Role], domains: Sequence[Domain]) -> None:
    if Role.OPERATOR in roles and not domains:
        raise InvalidInput(
            FieldError("domains", f"an operator needs at least one domain of {list(Domain)}")
        )


async def load_user(session: AsyncSession, ctx: Context, username: str) -> User:
    """The user ``username``, if within the caller's scope."""
    user = (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
    # A user outside the caller's scope is reported exactly like a missing one.
    if user is None or not ctx.principal.covers(user.communes):
        raise NotFound(f"user {username!r} not found")
    return user


async def create_user(ctx: Context, data: UserCreate) -> User:
    """Create an account. Nobody can create an account wider than their own scope."""
    async with change(ctx, "user.create", target_type=TARGET, target_id=data.username) as uc:
        ctx.principal.require(Permission.USER_MANAGE)
        _check_roles(data.roles, data.domains)
        communes = (
            None
            if data.communes is None
            else await resolve_codes(uc.session, data.communes, "communes")
        )
        if not ctx.principal.covers(communes):
            raise PermissionDenied("cannot create an account wider than your own commune scope")
        taken = await uc.session.execute(select(User.id).where(User.username == data.username))
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
        uc.session.add(user)
        await uc.session.flush()
        uc.audit(
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
        return await load_user(session, ctx, username)


async def update_user(ctx: Context, username: str, changes: UserUpdate) -> User:
    """Change an account: roles, domains, scope, password, disabled. Disabling signs it out."""
    async with change(ctx, "user.update", target_type=TARGET, target_id=username) as uc:
        ctx.principal.require(Permission.USER_MANAGE)
        user = await load_user(uc.session, ctx, username)
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
            codes = await resolve_codes(uc.session, changes.communes, "communes")
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
            await _sign_out_everywhere(uc.session, user.id, revoke_tokens=user.disabled)
        user.updated_at = utcnow()
        after = {
            "roles": user.roles,
            "domains": user.domains,
            "communes": user.communes,
            "disabled": user.disabled,
        }
        uc.audit(
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
