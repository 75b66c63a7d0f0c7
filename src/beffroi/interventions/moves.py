"""Moving interventions along their lifecycle: assigning them, and every status change.

Managers (INTERVENTION_MANAGE) assign, cancel, close and reopen; the field
(INTERVENTION_WORK) starts, holds and resolves – a field agent only in their own teams.
Commune scope applies to everyone. Every move is written to the intervention's history
and audited in the same transaction; every refusal is audited on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.interventions.lifecycle import Actor, Status, allowed
from beffroi.interventions.models import Intervention, InterventionNote
from beffroi.interventions.records import check_team, history, load, to_out
from beffroi.interventions.schemas import Assignment, InterventionOut, StatusChange
from beffroi.interventions.teams import is_member

TARGET = "intervention"
# A reason is asked where the next reader will want to know why.
NEEDS_REASON = frozenset({Status.ON_HOLD, Status.CANCELLED})


async def assign(ctx: Context, intervention_id: int, body: Assignment) -> InterventionOut:
    """Hand an intervention to a team (and one of its members). Work already started
    goes back to ``assigned`` for the new hands to start."""
    async with change(
        ctx, "intervention.assign", target_type=TARGET, target_id=intervention_id
    ) as uc:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        now = utcnow()
        row = await load(uc.session, ctx, intervention_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        current = Status(row.status)
        if allowed(current, Status.ASSIGNED) is None:
            raise Conflict(
                f"cannot assign intervention {row.id}: it is {current}",
                current_status=current.value,
            )
        await check_team(
            uc.session,
            ctx.principal,
            body.team_id,
            body.assignee_id,
            row.commune_code,
            row.category,
        )
        before = {"team_id": row.team_id, "assignee_id": row.assignee_id}
        row.team_id = body.team_id
        row.assignee_id = body.assignee_id
        row.status = Status.ASSIGNED.value
        row.updated_at = now
        event = history(
            uc.session,
            row,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            "assigned",
            current.value,
            {
                "before": before,
                "team_id": body.team_id,
                "assignee_id": body.assignee_id,
                "reason": body.reason,
            },
        )
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            reason=body.reason,
            details={
                "from": current.value,
                "team_id": body.team_id,
                "assignee_id": body.assignee_id,
                "before": before,
            },
        )
        uc.publish(event)
    return to_out(row, now)


async def change_status(ctx: Context, intervention_id: int, body: StatusChange) -> InterventionOut:
    """Move an intervention along :data:`~.lifecycle.TRANSITIONS`; a move the table does
    not have is refused (409) naming the current status."""
    async with change(
        ctx, "intervention.status", target_type=TARGET, target_id=intervention_id
    ) as uc:
        ctx.principal.require(Permission.INTERVENTION_READ)
        target = body.status
        if target is Status.ASSIGNED:
            raise InvalidInput(FieldError("status", "assign through POST .../assign"))
        if body.clear_alarms and target is not Status.RESOLVED:
            raise InvalidInput(FieldError("clear_alarms", "only when resolving"))
        if target in NEEDS_REASON and not body.reason:
            raise InvalidInput(FieldError("reason", f"required to move to {target}"))
        now = utcnow()
        session = uc.session
        row = await load(session, ctx, intervention_id, lock=True)
        current = Status(row.status)
        actor = allowed(current, target)
        if actor is None:
            raise Conflict(
                f"cannot move intervention {row.id} from {current} to {target}",
                current_status=current.value,
            )
        await require_actor(session, ctx.principal, row, actor)
        ctx.principal.require_commune(row.commune_code)
        _apply(row, target, body.clear_alarms, now)
        if target is Status.IN_PROGRESS and row.assignee_id is None:
            user = ctx.principal.user_id
            if user is not None and row.team_id and await is_member(session, row.team_id, user):
                row.assignee_id = user
        detail: dict[str, Any] = {"reason": body.reason}
        if target is Status.RESOLVED:
            detail["clear_alarms"] = body.clear_alarms
        event = history(
            session,
            row,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            "status",
            current.value,
            detail,
        )
        if body.note:
            session.add(
                InterventionNote(
                    intervention_id=row.id, text=body.note, at=now, author=ctx.principal.name
                )
            )
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            reason=body.reason,
            details={"from": current.value, "to": target.value, **detail},
        )
        uc.publish(event)
    return to_out(row, now)


async def require_actor(
    session: AsyncSession, principal: Principal, row: Intervention, actor: Actor
) -> None:
    """Managers make dispatch moves; field moves need INTERVENTION_WORK and, unless one
    also manages, membership of the intervention's team."""
    if actor is Actor.MANAGER:
        principal.require(Permission.INTERVENTION_MANAGE)
        return
    principal.require(Permission.INTERVENTION_WORK)
    if principal.can(Permission.INTERVENTION_MANAGE):
        return
    if (
        row.team_id is None
        or principal.user_id is None
        or not await is_member(session, row.team_id, principal.user_id)
    ):
        raise PermissionDenied(f"intervention {row.id} is not your team's")


def _apply(row: Intervention, target: Status, clear_alarms: bool, now: datetime) -> None:
    """Set the status and the timestamps and flags that go with it."""
    current = Status(row.status)
    row.status = target.value
    row.updated_at = now
    if target is Status.IN_PROGRESS:
        if current is Status.RESOLVED:
            # Reopened: the repair did not hold; it is no longer resolved.
            row.resolved_at = None
            row.clear_alarms_pending = False
        row.started_at = row.started_at or now
    elif target is Status.RESOLVED:
        row.resolved_at = now
        row.clear_alarms_pending = clear_alarms
    elif target is Status.CLOSED:
        row.closed_at = now
    elif target is Status.CANCELLED:
        row.cancelled_at = now
        row.clear_alarms_pending = False
