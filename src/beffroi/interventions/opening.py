"""Opening work orders by hand, and changing what they say (title, description, priority).

Both are for managers (INTERVENTION_MANAGE) within their communes. Each change is
written to the intervention's history and audited in the same transaction; a refusal
is audited on its own.
"""

from __future__ import annotations

from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, refuse_nulls
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.interventions import sla
from beffroi.interventions.lifecycle import OPEN, Source, Status
from beffroi.interventions.records import (
    NewIntervention,
    alarms_in_scope,
    assets_in_scope,
    check_team,
    history,
    insert,
    load,
    to_out,
)
from beffroi.interventions.schemas import InterventionCreate, InterventionOut, InterventionUpdate

TARGET = "intervention"


async def create_intervention(ctx: Context, body: InterventionCreate) -> InterventionOut:
    """Open a work order by hand. Nothing is written when a check fails."""
    async with change(ctx, "intervention.create", target_type=TARGET) as uc:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        now = utcnow()
        session = uc.session
        lon = body.location.coordinates[0] if body.location else None
        lat = body.location.coordinates[1] if body.location else None
        if body.asset_id is not None:
            (asset,) = await assets_in_scope(session, ctx.principal, [body.asset_id], "asset_id")
            commune = asset.commune
            if body.commune is not None and (await resolve(session, body.commune)).code != commune:
                raise InvalidInput(
                    FieldError("commune", f"asset {asset.id!r} is in {commune!r}; omit commune")
                )
            if body.location is None:
                lon, lat = asset.lon, asset.lat
        elif body.commune is not None:
            commune = (await resolve(session, body.commune)).code
        else:
            raise InvalidInput(FieldError("commune", "required without asset_id"))
        ctx.principal.require_commune(commune)
        if body.team_id is not None:
            await check_team(
                session, ctx.principal, body.team_id, body.assignee_id, commune, body.category
            )
        elif body.assignee_id is not None:
            raise InvalidInput(FieldError("assignee_id", "an assignee needs a team_id"))
        await alarms_in_scope(session, ctx.principal, body.alarm_ids, "alarm_ids")
        await assets_in_scope(session, ctx.principal, body.asset_ids, "asset_ids")
        row, event = await insert(
            session,
            NewIntervention(
                category=body.category,
                priority=body.priority,
                title=body.title,
                description=body.description,
                commune=commune,
                asset_id=body.asset_id,
                lon=lon,
                lat=lat,
                team_id=body.team_id,
                assignee_id=body.assignee_id,
                source=Source.MANUAL,
                alarm_ids=body.alarm_ids,
                asset_ids=body.asset_ids,
            ),
            sla.SlaConfig.from_settings(ctx.settings),
            ctx.principal.name,
            ctx.principal.kind.value,
            now,
        )
        uc.audit(
            target_id=row.id,
            commune=commune,
            details={
                "category": row.category,
                "priority": row.priority,
                "title": row.title,
                "team_id": row.team_id,
                "assignee_id": row.assignee_id,
                "status": row.status,
            },
        )
        uc.publish(event)
    return to_out(row, now)


async def update_intervention(
    ctx: Context, intervention_id: int, body: InterventionUpdate
) -> InterventionOut:
    """Retitle, describe or reprioritise open work; a new priority moves the due time to
    what its service level gives from the creation time."""
    async with change(
        ctx, "intervention.update", target_type=TARGET, target_id=intervention_id
    ) as uc:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        changes = body.model_dump(mode="json", exclude_unset=True, exclude={"reason"})
        refuse_nulls(changes, ("title", "description", "priority"))
        if not changes:
            raise InvalidInput(FieldError("body", "nothing to change"))
        now = utcnow()
        row = await load(uc.session, ctx, intervention_id, lock=True)
        ctx.principal.require_commune(row.commune_code)
        if Status(row.status) not in OPEN:
            raise Conflict(
                f"intervention {row.id} is {row.status}: it can no longer be changed",
                current_status=row.status,
            )
        before = {k: getattr(row, k) for k in changes}
        if body.title is not None:
            row.title = body.title
        if body.description is not None:
            row.description = body.description
        if body.priority is not None and body.priority.value != row.priority:
            row.priority = body.priority.value
            config = sla.SlaConfig.from_settings(ctx.settings)
            before["due_at"] = row.due_at.isoformat()
            row.due_at = sla.due_at(row.created_at, body.priority, config)
            changes["due_at"] = row.due_at.isoformat()
        row.updated_at = now
        detail = {"before": before, "after": changes, "reason": body.reason}
        event = history(
            uc.session,
            row,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            "updated",
            row.status,
            detail,
        )
        uc.audit(target_id=row.id, commune=row.commune_code, reason=body.reason, details=detail)
        uc.publish(event)
    return to_out(row, now)
