"""Use cases of intervention policies: which alarms open a work order on their own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.catalogue import Severity
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, refuse_nulls
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.interventions.lifecycle import Category, Priority
from beffroi.interventions.models import InterventionPolicy, Team
from beffroi.interventions.refusals import refused
from beffroi.interventions.schemas import PolicyCreate, PolicyOut, PolicyUpdate

# Fields an update may leave out but not set to null (``team_id`` null: choose by coverage).
NOT_NULL = ("min_severity", "category", "priority", "enabled")


def to_out(p: InterventionPolicy) -> PolicyOut:
    """The API shape of a policy."""
    return PolicyOut(
        id=p.id,
        alarm_type=p.alarm_type,
        min_severity=Severity(p.min_severity),
        category=Category(p.category),
        priority=Priority(p.priority),
        team_id=p.team_id,
        enabled=p.enabled,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


async def _require_team(session: AsyncSession, team_id: int | None) -> None:
    if team_id is not None and await session.get(Team, team_id) is None:
        raise InvalidInput(FieldError("team_id", f"no team {team_id}"))


def _require_metropolis(ctx: Context) -> None:
    # A policy applies to alarms of every commune: only a metropolis-wide scope sets one.
    ctx.principal.require(Permission.INTERVENTION_MANAGE)
    ctx.principal.require_commune(None)


async def create_policy(ctx: Context, body: PolicyCreate) -> PolicyOut:
    """Create the policy of an alarm type (one per type)."""
    return await refused(
        ctx,
        "intervention_policy.create",
        lambda: _create_policy(ctx, body),
        target_type="intervention_policy",
        target_id=None,
    )


async def _create_policy(ctx: Context, body: PolicyCreate) -> PolicyOut:
    """Create the policy of an alarm type (one per type)."""
    _require_metropolis(ctx)
    now = utcnow()
    async with ctx.db.write() as session:
        found = (
            await session.execute(
                select(InterventionPolicy.id).where(
                    InterventionPolicy.alarm_type == body.alarm_type
                )
            )
        ).scalar_one_or_none()
        if found is not None:
            raise Conflict(f"alarm type {body.alarm_type!r} already has policy {found}")
        await _require_team(session, body.team_id)
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
        session.add(row)
        await session.flush()
        await audit.record(
            session,
            ctx.principal,
            "intervention_policy.create",
            target_type="intervention_policy",
            target_id=str(row.id),
            details=body.model_dump(mode="json"),
        )
    return to_out(row)


async def update_policy(ctx: Context, policy_id: int, body: PolicyUpdate) -> PolicyOut:
    """Change a policy."""
    return await refused(
        ctx,
        "intervention_policy.update",
        lambda: _update_policy(ctx, policy_id, body),
        target_type="intervention_policy",
        target_id=policy_id,
    )


async def _update_policy(ctx: Context, policy_id: int, body: PolicyUpdate) -> PolicyOut:
    """Change a policy."""
    _require_metropolis(ctx)
    now = utcnow()
    changes = body.model_dump(mode="json", exclude_unset=True)
    refuse_nulls(changes, NOT_NULL)
    async with ctx.db.write() as session:
        row = await session.get(InterventionPolicy, policy_id, with_for_update=True)
        if row is None:
            raise NotFound(f"intervention policy {policy_id} not found")
        if "team_id" in changes:
            await _require_team(session, body.team_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = now
        await audit.record(
            session,
            ctx.principal,
            "intervention_policy.update",
            target_type="intervention_policy",
            target_id=str(row.id),
            details=changes,
        )
    return to_out(row)


async def delete_policy(ctx: Context, policy_id: int) -> None:
    """Delete a policy: alarms of its type no longer open work orders."""
    return await refused(
        ctx,
        "intervention_policy.delete",
        lambda: _delete_policy(ctx, policy_id),
        target_type="intervention_policy",
        target_id=policy_id,
    )


async def _delete_policy(ctx: Context, policy_id: int) -> None:
    """Delete a policy: alarms of its type no longer open work orders."""
    _require_metropolis(ctx)
    async with ctx.db.write() as session:
        row = await session.get(InterventionPolicy, policy_id, with_for_update=True)
        if row is None:
            raise NotFound(f"intervention policy {policy_id} not found")
        await audit.record(
            session,
            ctx.principal,
            "intervention_policy.delete",
            target_type="intervention_policy",
            target_id=str(row.id),
            details={"alarm_type": row.alarm_type},
        )
        await session.delete(row)


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
        row = await session.get(InterventionPolicy, policy_id)
    if row is None:
        raise NotFound(f"intervention policy {policy_id} not found")
    return to_out(row)
