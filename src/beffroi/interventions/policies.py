"""Use cases of intervention policies: which alarms open a work order on their own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, refuse_nulls
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.interventions.models import InterventionPolicy, Team
from beffroi.interventions.schemas import PolicyCreate, PolicyOut, PolicyUpdate

TARGET = "intervention_policy"
# Fields an update may leave out but not set to null (``team_id`` null: choose by coverage).
NOT_NULL = ("min_severity", "category", "priority", "enabled")


def to_out(p: InterventionPolicy) -> PolicyOut:
    """The API shape of a policy."""
    return PolicyOut.model_validate(p)


async def _load(session: AsyncSession, policy_id: int, *, lock: bool) -> InterventionPolicy:
    row = await session.get(InterventionPolicy, policy_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"intervention policy {policy_id} not found")
    return row


async def _require_team(session: AsyncSession, team_id: int | None) -> None:
    if team_id is not None and await session.get(Team, team_id) is None:
        raise InvalidInput(FieldError("team_id", f"no team {team_id}"))


def _require_metropolis(ctx: Context) -> None:
    # A policy applies to alarms of every commune: only a metropolis-wide scope sets one.
    ctx.principal.require(Permission.INTERVENTION_MANAGE)
    ctx.principal.require_commune(None)


async def create_policy(ctx: Context, body: PolicyCreate) -> PolicyOut:
    """Create the policy of an alarm type (one per type)."""
    async with change(ctx, "intervention_policy.create", target_type=TARGET) as uc:
        _require_metropolis(ctx)
        now = utcnow()
        found = (
            await uc.session.execute(
                select(InterventionPolicy.id).where(
                    InterventionPolicy.alarm_type == body.alarm_type
                )
            )
        ).scalar_one_or_none()
        if found is not None:
            raise Conflict(f"alarm type {body.alarm_type!r} already has policy {found}")
        await _require_team(uc.session, body.team_id)
        row = InterventionPolicy(
            alarm_type=body.alarm_type,
            min_severity=body.min_severity.value,
            category=body.category.value,
            priority=body.priority.value,
            team_id=body.team_id,
            enabled=body.enabled,
            created_at=now,
            updated_at=now,
        )
        uc.session.add(row)
        await uc.session.flush()
        uc.audit(target_id=row.id, details=body.model_dump(mode="json"))
    return to_out(row)


async def update_policy(ctx: Context, policy_id: int, body: PolicyUpdate) -> PolicyOut:
    """Change a policy."""
    async with change(
        ctx, "intervention_policy.update", target_type=TARGET, target_id=policy_id
    ) as uc:
        _require_metropolis(ctx)
        now = utcnow()
        changes = body.model_dump(mode="json", exclude_unset=True)
        refuse_nulls(changes, NOT_NULL)
        row = await _load(uc.session, policy_id, lock=True)
        if "team_id" in changes:
            await _require_team(uc.session, body.team_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = now
        uc.audit(target_id=row.id, details=changes)
    return to_out(row)


async def delete_policy(ctx: Context, policy_id: int) -> None:
    """Delete a policy: alarms of its type no longer open work orders."""
    async with change(
        ctx, "intervention_policy.delete", target_type=TARGET, target_id=policy_id
    ) as uc:
        _require_metropolis(ctx)
        row = await _load(uc.session, policy_id, lock=True)
        uc.audit(target_id=row.id, details={"alarm_type": row.alarm_type})
        await uc.session.delete(row)


async def list_policies(ctx: Context) -> list[PolicyOut]:
    """Every policy, by alarm type."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        rows = (
            await session.execute(
                select(InterventionPolicy).order_by(InterventionPolicy.alarm_type)
            )
        ).scalars()
        return [to_out(r) for r in rows]


async def get_policy(ctx: Context, policy_id: int) -> PolicyOut:
    """One policy."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        return to_out(await _load(session, policy_id, lock=False))
