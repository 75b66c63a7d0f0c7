"""Use cases of overrides: a level imposed on a selection of lights for a while (a
festival, an accident scene lit at 100 %), winning over the programs.

An override belongs to its target's commune (scope as for assignments). Lights out over
a whole commune or more is critical: with four-eyes on, it waits for another person with
the approve permission (the rule and the check commands follow,
:mod:`beffroi.commands.policy`). Each change recompiles the schedules of the cabinets it
reaches in its own transaction, so the controllers apply the override, and end it, by
themselves. An override ends by itself: its state is derived from the clock
(:mod:`beffroi.lighting.override`); the ``lighting.overrides`` job only notes the end
(audit, event) and prunes it from the schedules.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.assets.groups import polygon_shape
from beffroi.catalogue.visibility import in_view
from beffroi.commands import policy
from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.db.rows import Derived
from beffroi.lighting import override_reach
from beffroi.lighting.compiling import compile_in
from beffroi.lighting.events import OverrideChanged
from beffroi.lighting.library import visible
from beffroi.lighting.models import LightingOverride
from beffroi.lighting.override import (
    MAX_DURATION,
    MAX_LEAD,
    START_SLACK,
    Decision,
    OverrideState,
    OverrideTarget,
    critical_because,
    state_at,
)
from beffroi.lighting.override_reach import light_types
from beffroi.lighting.reading import cabinet_types
from beffroi.lighting.schemas import OverrideCreate, OverrideDecision, OverrideOut

TARGET = "lighting_override"
# The field each kind of target is named by; the others must be left out.
_NAMED_BY: dict[OverrideTarget, frozenset[str]] = {
    OverrideTarget.ASSETS: frozenset({"asset_ids"}),
    OverrideTarget.GROUP: frozenset({"group_id"}),
    OverrideTarget.POLYGON: frozenset({"polygon", "commune"}),
    OverrideTarget.COMMUNE: frozenset({"commune"}),
    OverrideTarget.METROPOLIS: frozenset(),
}
_REQUIRED: dict[OverrideTarget, str] = {
    OverrideTarget.ASSETS: "asset_ids",
    OverrideTarget.GROUP: "group_id",
    OverrideTarget.POLYGON: "polygon",
    OverrideTarget.COMMUNE: "commune",
}


def out(row: LightingOverride, now: datetime | None = None) -> OverrideOut:
    """An override as the API shows it, with its state at ``now``."""
    state = state_at(row.state, row.starts_at, row.ends_at, now or utcnow())
    return OverrideOut.model_validate(Derived(row, state=state))


def _shape_errors(data: OverrideCreate, now: datetime) -> list[FieldError]:
    """Everything wrong with the request on its face, each naming its field."""
    errors = []
    for name in ("asset_ids", "group_id", "polygon", "commune"):
        if getattr(data, name) is not None and name not in _NAMED_BY[data.target]:
            errors.append(FieldError(name, f"not for a {data.target.value} override"))
    required = _REQUIRED.get(data.target)
    if required and getattr(data, required) is None:
        errors.append(FieldError(required, f"required for a {data.target.value} override"))
    starts = data.starts_at or now
    if starts < now - START_SLACK:
        errors.append(FieldError("starts_at", "in the past"))
    elif starts > now + MAX_LEAD:
        errors.append(FieldError("starts_at", f"at most {MAX_LEAD.days} days ahead"))
    if data.ends_at <= max(starts, now):
        errors.append(FieldError("ends_at", "must be after starts_at and now"))
    elif data.ends_at - starts > MAX_DURATION:
        errors.append(FieldError("ends_at", f"at most {MAX_DURATION.days} days after starts_at"))
    if not data.reason.strip():
        errors.append(FieldError("reason", "required"))
    return errors


async def _assets_commune(session: AsyncSession, ctx: Context, ids: list[str]) -> str | None:
    """The commune of a list of lights and cabinets, checked one by one (out of scope is
    unknown); None when they span communes (metropolis-wide people only)."""
    kinds = {*cabinet_types(), *light_types()}
    found = await asset_queries.facts(session, ids)
    errors, communes = [], set()
    for i, asset_id in enumerate(ids):
        asset = found.get(asset_id)
        if asset is None or not asset.live or not in_view(ctx.principal, asset.commune, asset.type):
            errors.append(FieldError(f"asset_ids.{i}", f"unknown asset {asset_id!r}"))
        elif asset.type not in kinds:
            what = f"{asset_id!r} is not a light nor a cabinet"
            errors.append(FieldError(f"asset_ids.{i}", what))
        else:
            communes.add(asset.commune)
    if errors:
        raise InvalidInput(errors)
    return communes.pop() if len(communes) == 1 else None


async def _target_commune(session: AsyncSession, ctx: Context, data: OverrideCreate) -> str | None:
    """The commune the override belongs to, its target checked."""
    if data.target is OverrideTarget.ASSETS:
        assert data.asset_ids is not None
        return await _assets_commune(session, ctx, data.asset_ids)
    if data.target is OverrideTarget.GROUP:
        assert data.group_id is not None
        group = (await asset_queries.group_facts(session, [data.group_id])).get(data.group_id)
        if group is None or not ctx.principal.sees(group.commune):
            raise InvalidInput(FieldError("group_id", f"unknown group {data.group_id}"))
        kinds = [*cabinet_types(), *light_types()]
        if not (await asset_queries.group_members(session, [group.id], kinds))[group.id]:
            raise InvalidInput(FieldError("group_id", "the group holds no light nor cabinet"))
        return group.commune
    commune = (await resolve(session, data.commune)).code if data.commune else None
    if data.target is OverrideTarget.POLYGON:
        assert data.polygon is not None
        polygon_shape(data.polygon)
        polygon = data.polygon.model_dump()
        if not await asset_queries.ids_inside(session, polygon, commune, light_types()):
            raise InvalidInput(FieldError("polygon", "no light inside"))
    return commune


async def _load(
    session: AsyncSession, ctx: Context, override_id: int, *, lock: bool = False
) -> LightingOverride:
    stmt = select(LightingOverride).where(LightingOverride.id == override_id)
    row = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if row is None or not visible(ctx.principal, row.commune_code):
        raise NotFound(f"override {override_id} not found")
    return row


async def _reached_cabinets(
    session: AsyncSession, rows: list[LightingOverride]
) -> list[str] | None:
    """The cabinets these overrides reach now; ``None``: all."""
    reaches = await override_reach.reach_of(session, rows)
    communes: set[str] = set()
    cabinets: set[str] = set()
    for reach in reaches.values():
        if reach.everything:
            return None
        communes |= reach.communes
        cabinets |= reach.cabinets | {c for c in reach.lights.values() if c}
    if communes:
        query = asset_queries.id_query(types=cabinet_types(), communes=sorted(communes))
        cabinets.update((await session.execute(query)).scalars())
    return sorted(cabinets)


async def _recompile(
    uc: UseCase, rows: list[LightingOverride], now: datetime, *, withdrawn: bool = False
) -> list[str]:
    """Recompile, in the use case's transaction, the schedules of the cabinets these
    overrides reach (``withdrawn``: of every cabinet, as what an override reached when
    it was sent, a group's members then, may differ from what it reaches now, and a
    cabinet left with a cancelled override would still apply it); returns those whose
    version moved."""
    cabinets = None if withdrawn else await _reached_cabinets(uc.session, rows)
    if cabinets == []:
        return []
    changed, _count = await compile_in(uc, cabinets, now, everywhere=True)
    return changed


async def create_override(ctx: Context, data: OverrideCreate) -> OverrideOut:
    """Impose a level on a selection for a while. Lights out over a whole commune or
    more waits for a second person's approval (when four-eyes is on)."""
    async with change(
        ctx,
        f"{TARGET}.create",
        target_type=TARGET,
        refused_details={"target": data.target.value, "level_pct": data.level_pct},
    ) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        now = utcnow()
        errors = _shape_errors(data, now)
        if errors:
            raise InvalidInput(errors)
        session = uc.session
        commune = await _target_commune(session, ctx, data)
        ctx.principal.require_commune(commune)
        because = critical_because(data.target, data.level_pct)
        waits = because is not None and ctx.settings.four_eyes
        row = LightingOverride(
            target_kind=data.target.value,
            asset_ids=data.asset_ids,
            group_id=data.group_id,
            commune_code=commune,
            polygon=data.polygon.model_dump() if data.polygon else None,
            level_pct=data.level_pct,
            starts_at=max(data.starts_at or now, now),
            ends_at=data.ends_at,
            reason=data.reason.strip(),
            critical=because is not None,
            state=(Decision.PENDING_APPROVAL if waits else Decision.APPROVED).value,
            created_by=ctx.principal.name,
            created_by_user_id=ctx.principal.user_id,
            created_at=now,
            approved_at=None if waits else now,
        )
        session.add(row)
        await session.flush()
        changed = [] if waits else await _recompile(uc, [row], now)
        shown = out(row, now)
        uc.audit(
            commune=commune,
            target_id=row.id,
            reason=row.reason,
            details={
                "target": data.target.value,
                "level_pct": data.level_pct,
                "starts_at": row.starts_at.isoformat(),
                "ends_at": row.ends_at.isoformat(),
                "critical": because,
                "state": shown.state.value,
                "schedules_changed": len(changed),
            },
        )
        uc.publish(OverrideChanged(row.id, shown.state.value, "created", now))
    return shown


async def _decide(
    ctx: Context, override_id: int, action: str, body: OverrideDecision, approve: bool
) -> OverrideOut:
    """Approve or refuse an override awaiting approval: the four-eyes rule, in time."""
    async with change(ctx, f"{TARGET}.{action}", target_type=TARGET, target_id=override_id) as uc:
        if not approve and not (body.reason or "").strip():
            raise InvalidInput(FieldError("reason", "required to refuse an override"))
        now = utcnow()
        row = await _load(uc.session, ctx, override_id, lock=True)
        policy.may_approve(ctx.principal, row.created_by_user_id, row.created_by)
        ctx.principal.require_commune(row.commune_code)
        state = state_at(row.state, row.starts_at, row.ends_at, now)
        if state != OverrideState.PENDING_APPROVAL:
            raise Conflict(
                f"override {override_id} is {state}, not awaiting approval", current_state=state
            )
        row.state = (Decision.APPROVED if approve else Decision.REFUSED).value
        row.decided_by, row.decided_at, row.decision_reason = ctx.principal.name, now, body.reason
        changed = []
        if approve:
            row.approved_at = now
            # It applies from its approval on, not from a start that passed meanwhile.
            row.starts_at = max(row.starts_at, now)
            await uc.session.flush()
            changed = await _recompile(uc, [row], now)
        shown = out(row, now)
        uc.audit(
            commune=row.commune_code,
            reason=body.reason,
            details={"state": shown.state.value, "schedules_changed": len(changed)},
        )
        uc.publish(OverrideChanged(row.id, shown.state.value, action, now))
    return shown


async def approve_override(ctx: Context, override_id: int, body: OverrideDecision) -> OverrideOut:
    """Someone other than its author, with the approve permission, lets a critical
    override apply."""
    return await _decide(ctx, override_id, "approve", body, approve=True)


async def refuse_override(ctx: Context, override_id: int, body: OverrideDecision) -> OverrideOut:
    """Someone other than its author, with the approve permission, refuses a critical
    override (a reason is required)."""
    return await _decide(ctx, override_id, "refuse", body, approve=False)


async def cancel_override(ctx: Context, override_id: int, body: OverrideDecision) -> OverrideOut:
    """End an override now (or drop it before it starts, or withdraw a request): the
    programs take over again. Needs no approval, even for a critical one."""
    async with change(ctx, f"{TARGET}.cancel", target_type=TARGET, target_id=override_id) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        now = utcnow()
        row = await _load(uc.session, ctx, override_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        state = state_at(row.state, row.starts_at, row.ends_at, now)
        if state in (OverrideState.ENDED, OverrideState.CANCELLED, OverrideState.REFUSED):
            raise Conflict(f"override {override_id} is {state}", current_state=state)
        row.state = Decision.CANCELLED.value
        row.cancelled_by, row.cancelled_at = ctx.principal.name, now
        row.closed_at = now
        await uc.session.flush()
        changed = await _recompile(uc, [row], now, withdrawn=True)
        uc.audit(
            commune=row.commune_code,
            reason=body.reason,
            details={"was": state, "schedules_changed": len(changed)},
        )
        uc.publish(OverrideChanged(row.id, Decision.CANCELLED.value, "cancel", now))
    return out(row, now)


async def list_overrides(
    ctx: Context, state: OverrideState | None = None, *, now: datetime | None = None
) -> list[OverrideOut]:
    """The overrides in the caller's scope, newest first, with their state at ``now``
    (those in ``state`` when given)."""
    ctx.principal.require(Permission.ASSET_READ)
    now = now or utcnow()
    async with ctx.db.read() as session:
        rows = (
            await session.execute(select(LightingOverride).order_by(LightingOverride.id.desc()))
        ).scalars()
        shown = [out(r, now) for r in rows if visible(ctx.principal, r.commune_code)]
    return [o for o in shown if state is None or o.state is state]


async def get_override(
    ctx: Context, override_id: int, *, now: datetime | None = None
) -> OverrideOut:
    """One override in the caller's scope, with its state at ``now``."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        return out(await _load(session, ctx, override_id), now)


async def close_ended(ctx: Context, now: datetime | None = None) -> list[int]:
    """Note the overrides that came to their end (audit, event) and prune them from the
    schedules they were in; returns their ids. Their state already says ``ended`` (it is
    derived from the clock): this only tidies up after them, and is idempotent."""
    now = now or utcnow()
    async with change(ctx, f"{TARGET}.end", target_type=TARGET) as uc:
        ctx.principal.require(Permission.LIGHTING_PROGRAM)
        rows = list(
            (
                await uc.session.execute(
                    select(LightingOverride)
                    .where(LightingOverride.closed_at.is_(None), LightingOverride.ends_at <= now)
                    .order_by(LightingOverride.id)
                    .with_for_update()
                )
            ).scalars()
        )
        if not rows:
            return []
        for row in rows:
            row.closed_at = now
        await uc.session.flush()
        # Only those that applied until their end are in schedules (a cancelled one left
        # them when cancelled): one compilation of the whole city for them all.
        applied = [r for r in rows if r.approved_at is not None and r.cancelled_at is None]
        changed = await _recompile(uc, applied, now, withdrawn=True) if applied else []
        uc.audit(details={"overrides": [r.id for r in rows], "schedules_changed": len(changed)})
        uc.publish(*(OverrideChanged(r.id, OverrideState.ENDED.value, "end", now) for r in rows))
    return [r.id for r in rows]
