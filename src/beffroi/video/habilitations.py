"""Habilitations: recording, reading and revoking the designation of agents (VIDEO_MANAGE);
an agent reads their own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts import queries as accounts
from beffroi.assets import queries as assets
from beffroi.communes.lookup import filter_codes
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Principal, Role
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db.rows import Derived
from beffroi.video import coverage
from beffroi.video.models import Habilitation
from beffroi.video.schemas import HabilitationCreate, HabilitationOut, Revocation

MAX_DAYS = 5 * 366  # a designation is renewed, not granted for life


async def _out(session: AsyncSession, rows: list[Habilitation]) -> list[HabilitationOut]:
    names = await accounts.people(session, [r.user_id for r in rows])
    now = utcnow()
    return [
        HabilitationOut.model_validate(
            Derived(
                r,
                username=names[r.user_id].username if r.user_id in names else "?",
                active=r.revoked_at is None and r.valid_from <= now < r.valid_until,
            )
        )
        for r in rows
    ]


async def _visible(session: AsyncSession, principal: Principal, row: Habilitation) -> bool:
    """An agent sees their own; a manager those whose communes and cameras are all in scope."""
    if principal.user_id is not None and row.user_id == principal.user_id:
        return True
    if not principal.can(Permission.VIDEO_MANAGE) or not principal.covers(row.communes):
        return False
    found = await assets.facts(session, row.cameras)
    return all(principal.sees(f.commune) for f in found.values())


async def record_habilitation(ctx: Context, body: HabilitationCreate) -> HabilitationOut:
    """Record an agent's habilitation, checked: a person within the manager's scope holding
    the video agent role, communes and cameras in both scopes, dates in order."""
    async with change(ctx, "video.habilitation.create", target_type="video_habilitation") as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        errors = []
        if body.valid_until <= body.valid_from:
            errors.append(FieldError("valid_until", "must be after valid_from"))
        elif (body.valid_until - body.valid_from).days > MAX_DAYS:
            errors.append(FieldError("valid_until", f"at most {MAX_DAYS} days after valid_from"))
        if body.valid_until <= utcnow():
            errors.append(FieldError("valid_until", "must be in the future"))
        if not body.communes and not body.cameras:
            errors.append(FieldError("cameras", "name communes or cameras to cover"))
        if errors:
            raise InvalidInput(errors)
        person = await accounts.person_named(uc.session, body.username)
        # A manager designates only people within their own scope (as they manage accounts).
        if person is None or person.disabled or not ctx.principal.covers(person.communes):
            raise InvalidInput(FieldError("username", f"no active user {body.username!r}"))
        if Role.VIDEO_AGENT.value not in person.roles:
            raise InvalidInput(
                FieldError("username", f"{body.username!r} does not hold the video_agent role")
            )
        codes = await filter_codes(uc.session, ctx.principal, body.communes, "communes")
        found = await coverage.cameras(uc.session, ctx.principal, body.cameras)
        outside = [c for c in codes if not person.works_in(c)]
        outside += [f.commune for f in found.values() if not person.works_in(f.commune)]
        if outside:
            raise InvalidInput(
                FieldError("communes", f"outside {body.username!r}'s scope: {sorted(set(outside))}")
            )
        row = Habilitation(
            user_id=person.id,
            authority=body.authority,
            reference=body.reference,
            communes=codes,
            cameras=list(dict.fromkeys(body.cameras)),
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            created_by=ctx.principal.name,
            created_at=utcnow(),
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(
            target_id=row.id,
            commune=codes[0] if len(codes) == 1 else None,
            details={
                "user": body.username,
                "authority": body.authority,
                "reference": body.reference,
                "communes": codes,
                "cameras": row.cameras,
            },
        )
        [out] = await _out(uc.session, [row])
    return out


async def _load(session: AsyncSession, principal: Principal, habilitation_id: int) -> Habilitation:
    row = await session.get(Habilitation, habilitation_id)
    if row is None or not await _visible(session, principal, row):
        raise NotFound("habilitation not found")
    return row


async def get_habilitation(ctx: Context, habilitation_id: int) -> HabilitationOut:
    """One habilitation: a manager's in scope, or the agent's own."""
    async with ctx.db.read() as session:
        row = await _load(session, ctx.principal, habilitation_id)
        [out] = await _out(session, [row])
    return out


async def list_habilitations(
    ctx: Context, *, username: str | None = None, active: bool | None = None
) -> list[HabilitationOut]:
    """Habilitations in scope (a manager), or one's own (an agent), newest first."""
    if not ctx.principal.can(Permission.VIDEO_MANAGE) and not ctx.principal.can(
        Permission.VIDEO_WATCH
    ):
        raise PermissionDenied(f"{ctx.principal.name} lacks permission video:manage")
    async with ctx.db.read() as session:
        query = select(Habilitation).order_by(Habilitation.id.desc())
        if not ctx.principal.can(Permission.VIDEO_MANAGE):
            query = query.where(Habilitation.user_id == (ctx.principal.user_id or -1))
        if username:
            person = await accounts.person_named(session, username)
            query = query.where(Habilitation.user_id == (person.id if person else -1))
        rows = [
            r
            for r in (await session.execute(query.limit(2000))).scalars()
            if await _visible(session, ctx.principal, r)
        ]
        out = await _out(session, rows)
    return [h for h in out if active is None or h.active == active]


async def revoke_habilitation(
    ctx: Context, habilitation_id: int, body: Revocation
) -> HabilitationOut:
    """End a habilitation now, with a reason; its row stays, for the register."""
    async with change(
        ctx,
        "video.habilitation.revoke",
        target_type="video_habilitation",
        target_id=habilitation_id,
    ) as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        row = await _load(uc.session, ctx.principal, habilitation_id)
        if row.revoked_at is not None:
            raise Conflict(f"habilitation {habilitation_id} is already revoked")
        row.revoked_at = utcnow()
        row.revoked_by = ctx.principal.name
        row.revoke_reason = body.reason
        uc.audit(reason=body.reason, details={"user_id": row.user_id})
        [out] = await _out(uc.session, [row])
    return out
