"""Use cases that change interventions: open, assign, move, note, photograph, link.

Rights: managers (INTERVENTION_MANAGE) open, assign, cancel, close and reopen; the field
(INTERVENTION_WORK) starts, holds and resolves – a field agent only in their own teams,
and a field agent who does not also manage sees nothing but their teams' work. Commune
scope applies to everyone. Every change is written to the intervention's history and
audited in the same transaction; every refusal is audited on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.service import resolve
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    refuse_nulls,
)
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.interventions import photos, reading, sla
from beffroi.interventions.lifecycle import (
    OPEN,
    Actor,
    Source,
    Status,
    allowed,
)
from beffroi.interventions.models import (
    Intervention,
    InterventionNote,
    InterventionPhoto,
)
from beffroi.interventions.records import (
    NewIntervention,
    alarms_in_scope,
    assets_in_scope,
    check_team,
    history,
    insert,
    link,
    load,
    photo_out,
    to_out,
)
from beffroi.interventions.refusals import refused
from beffroi.interventions.schemas import (
    Assignment,
    InterventionCreate,
    InterventionDetail,
    InterventionOut,
    InterventionUpdate,
    Links,
    NoteCreate,
    NoteOut,
    PhotoOut,
    StatusChange,
)
from beffroi.interventions.teams import is_member

T = TypeVar("T")


async def _refused(
    ctx: Context, action: str, target_id: Any, call: Callable[[], Awaitable[T]]
) -> T:
    return await refused(ctx, action, call, target_id=target_id)


# --- use cases -----------------------------------------------------------------------------


async def create_intervention(ctx: Context, body: InterventionCreate) -> InterventionOut:
    """Open a work order by hand. Nothing is written when a check fails."""
    return await _refused(ctx, "intervention.create", None, lambda: _create(ctx, body))


async def _create(ctx: Context, body: InterventionCreate) -> InterventionOut:
    ctx.principal.require(Permission.INTERVENTION_MANAGE)
    now = utcnow()
    async with ctx.db.write() as session:
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
        await audit.record(
            session,
            ctx.principal,
            "intervention.create",
            target_type="intervention",
            target_id=str(row.id),
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
    ctx.runtime.events.publish(event)
    return to_out(row, now)


async def assign(ctx: Context, intervention_id: int, body: Assignment) -> InterventionOut:
    """Hand an intervention to a team (and one of its members). Work already started
    goes back to ``assigned`` for the new hands to start."""

    async def run() -> InterventionOut:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        now = utcnow()
        async with ctx.db.write() as session:
            row = await load(session, ctx, intervention_id, lock=True)
            ctx.principal.require_commune(row.commune_code)
            current = Status(row.status)
            if allowed(current, Status.ASSIGNED) is None:
                raise Conflict(
                    f"cannot assign intervention {row.id}: it is {current}",
                    current_status=current.value,
                )
            await check_team(
                session,
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
                session,
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
            await audit.record(
                session,
                ctx.principal,
                "intervention.assign",
                target_type="intervention",
                target_id=str(row.id),
                commune=row.commune_code,
                reason=body.reason,
                details={
                    "from": current.value,
                    "team_id": body.team_id,
                    "assignee_id": body.assignee_id,
                    "before": before,
                },
            )
        ctx.runtime.events.publish(event)
        return to_out(row, now)

    return await _refused(ctx, "intervention.assign", intervention_id, run)


async def update_intervention(
    ctx: Context, intervention_id: int, body: InterventionUpdate
) -> InterventionOut:
    """Retitle, describe or reprioritise open work; a new priority moves the due time to
    what its service level gives from the creation time."""

    async def run() -> InterventionOut:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        changes = body.model_dump(mode="json", exclude_unset=True, exclude={"reason"})
        refuse_nulls(changes, ("title", "description", "priority"))
        if not changes:
            raise InvalidInput(FieldError("body", "nothing to change"))
        now = utcnow()
        async with ctx.db.write() as session:
            row = await load(session, ctx, intervention_id, lock=True)
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
                session,
                row,
                now,
                ctx.principal.name,
                ctx.principal.kind.value,
                "updated",
                row.status,
                detail,
            )
            await audit.record(
                session,
                ctx.principal,
                "intervention.update",
                target_type="intervention",
                target_id=str(row.id),
                commune=row.commune_code,
                reason=body.reason,
                details=detail,
            )
        ctx.runtime.events.publish(event)
        return to_out(row, now)

    return await _refused(ctx, "intervention.update", intervention_id, run)


# A reason is asked where the next reader will want to know why.
NEEDS_REASON = frozenset({Status.ON_HOLD, Status.CANCELLED})


async def change_status(ctx: Context, intervention_id: int, body: StatusChange) -> InterventionOut:
    """Move an intervention along :data:`~.lifecycle.TRANSITIONS`; a move the table does
    not have is refused (409) naming the current status."""

    async def run() -> InterventionOut:
        ctx.principal.require(Permission.INTERVENTION_READ)
        target = body.status
        if target is Status.ASSIGNED:
            raise InvalidInput(FieldError("status", "assign through POST .../assign"))
        if body.clear_alarms and target is not Status.RESOLVED:
            raise InvalidInput(FieldError("clear_alarms", "only when resolving"))
        if target in NEEDS_REASON and not body.reason:
            raise InvalidInput(FieldError("reason", f"required to move to {target}"))
        now = utcnow()
        async with ctx.db.write() as session:
            row = await load(session, ctx, intervention_id, lock=True)
            current = Status(row.status)
            actor = allowed(current, target)
            if actor is None:
                raise Conflict(
                    f"cannot move intervention {row.id} from {current} to {target}",
                    current_status=current.value,
                )
            await _require_actor(session, ctx.principal, row, actor)
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
            await audit.record(
                session,
                ctx.principal,
                "intervention.status",
                target_type="intervention",
                target_id=str(row.id),
                commune=row.commune_code,
                reason=body.reason,
                details={"from": current.value, "to": target.value, **detail},
            )
        ctx.runtime.events.publish(event)
        return to_out(row, now)

    return await _refused(ctx, "intervention.status", intervention_id, run)


async def _require_actor(
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


async def _require_work(ctx: Context, session: AsyncSession, row: Intervention) -> None:
    """Notes, photos and links: anyone who may make a field move on it, while not final."""
    if Status(row.status) not in OPEN | {Status.RESOLVED}:
        raise Conflict(
            f"intervention {row.id} is {row.status}: nothing more can be added",
            current_status=row.status,
        )
    await _require_actor(session, ctx.principal, row, Actor.FIELD)
    ctx.principal.require_commune(row.commune_code)


async def add_note(ctx: Context, intervention_id: int, body: NoteCreate) -> NoteOut:
    """Write a note on an intervention."""

    async def run() -> NoteOut:
        now = utcnow()
        async with ctx.db.write() as session:
            row = await load(session, ctx, intervention_id, lock=True)
            await _require_work(ctx, session, row)
            note = InterventionNote(
                intervention_id=row.id, text=body.text, at=now, author=ctx.principal.name
            )
            session.add(note)
            row.updated_at = now
            await session.flush()
            event = history(
                session,
                row,
                now,
                ctx.principal.name,
                ctx.principal.kind.value,
                "note",
                row.status,
                {"note_id": note.id},
            )
            await audit.record(
                session,
                ctx.principal,
                "intervention.note",
                target_type="intervention",
                target_id=str(row.id),
                commune=row.commune_code,
                details={"note_id": note.id, "length": len(body.text)},
            )
        ctx.runtime.events.publish(event)
        return NoteOut(id=note.id, text=note.text, at=note.at, author=note.author)

    return await _refused(ctx, "intervention.note", intervention_id, run)


async def add_photo(
    ctx: Context, intervention_id: int, content_type: str | None, data: bytes
) -> PhotoOut:
    """Store a photo taken on site: JPEG, PNG or WebP, checked by its first bytes."""

    async def run() -> PhotoOut:
        ctx.principal.require(Permission.INTERVENTION_READ)
        kind = photos.check(content_type, data, ctx.settings.intervention_photo_max_bytes)
        now = utcnow()
        digest = hashlib.sha256(data).hexdigest()
        async with ctx.db.write() as session:
            row = await load(session, ctx, intervention_id, lock=True)
            await _require_work(ctx, session, row)
            photo = InterventionPhoto(
                intervention_id=row.id,
                content_type=kind,
                size=len(data),
                sha256=digest,
                data=data,
                at=now,
                author=ctx.principal.name,
            )
            session.add(photo)
            row.updated_at = now
            await session.flush()
            event = history(
                session,
                row,
                now,
                ctx.principal.name,
                ctx.principal.kind.value,
                "photo",
                row.status,
                {"photo_id": photo.id, "size": len(data)},
            )
            await audit.record(
                session,
                ctx.principal,
                "intervention.photo",
                target_type="intervention",
                target_id=str(row.id),
                commune=row.commune_code,
                details={
                    "photo_id": photo.id,
                    "content_type": kind,
                    "size": len(data),
                    "sha256": digest,
                },
            )
        ctx.runtime.events.publish(event)
        return photo_out(photo)

    return await _refused(ctx, "intervention.photo", intervention_id, run)


async def get_photo(ctx: Context, intervention_id: int, photo_id: int) -> tuple[str, bytes]:
    """A photo's content type and bytes."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        await load(session, ctx, intervention_id)
        photo = (
            await session.execute(
                select(InterventionPhoto).where(
                    InterventionPhoto.id == photo_id,
                    InterventionPhoto.intervention_id == intervention_id,
                )
            )
        ).scalar_one_or_none()
    if photo is None:
        raise NotFound(f"photo {photo_id} of intervention {intervention_id} not found")
    return photo.content_type, photo.data


async def add_links(ctx: Context, intervention_id: int, body: Links) -> InterventionDetail:
    """Link more alarms or assets to an intervention (managers)."""

    async def run() -> None:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        if not body.alarm_ids and not body.asset_ids:
            raise InvalidInput(FieldError("alarm_ids", "nothing to link"))
        now = utcnow()
        async with ctx.db.write() as session:
            row = await load(session, ctx, intervention_id, lock=True)
            await _require_work(ctx, session, row)
            await alarms_in_scope(session, ctx.principal, body.alarm_ids, "alarm_ids")
            await assets_in_scope(session, ctx.principal, body.asset_ids, "asset_ids")
            alarms, assets = await link(session, row.id, body.alarm_ids, body.asset_ids, now)
            row.updated_at = now
            event = history(
                session,
                row,
                now,
                ctx.principal.name,
                ctx.principal.kind.value,
                "linked",
                row.status,
                {"alarm_ids": alarms, "asset_ids": assets},
            )
            await audit.record(
                session,
                ctx.principal,
                "intervention.link",
                target_type="intervention",
                target_id=str(row.id),
                commune=row.commune_code,
                details={"alarm_ids": alarms, "asset_ids": assets},
            )
        ctx.runtime.events.publish(event)

    await _refused(ctx, "intervention.link", intervention_id, run)
    return await reading.get_intervention(ctx, intervention_id)
