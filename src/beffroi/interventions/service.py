"""Use cases of interventions: open, assign, move, note, photograph, link, read.

Rights: managers (INTERVENTION_MANAGE) open, assign, cancel, close and reopen; the field
(INTERVENTION_WORK) starts, holds and resolves – a field agent only in their own teams,
and a field agent who does not also manage sees nothing but their teams' work. Commune
scope applies to everyone. Every change is written to the intervention's history and
audited in the same transaction; every refusal is audited on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.principal import Permission, Principal, Role
from beffroi.alarms.models import Alarm
from beffroi.assets.models import Asset
from beffroi.assets.schemas import Point
from beffroi.audit import service as audit
from beffroi.communes.service import resolve
from beffroi.context import Context
from beffroi.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    refuse_nulls,
)
from beffroi.interventions import photos, sla
from beffroi.interventions.events import InterventionChanged
from beffroi.interventions.lifecycle import (
    OPEN,
    PRIORITY_RANK,
    Actor,
    Category,
    Priority,
    Source,
    Status,
    allowed,
    next_statuses,
)
from beffroi.interventions.models import (
    Intervention,
    InterventionAlarm,
    InterventionAsset,
    InterventionHistory,
    InterventionNote,
    InterventionPhoto,
    Team,
)
from beffroi.interventions.refusals import refused
from beffroi.interventions.schemas import (
    Assignment,
    HistoryOut,
    InterventionCreate,
    InterventionDetail,
    InterventionOut,
    InterventionPage,
    InterventionUpdate,
    Links,
    NoteCreate,
    NoteOut,
    PhotoOut,
    QueueItem,
    StatusChange,
)
from beffroi.interventions.teams import is_member, team_visible, teams_of
from beffroi.timeutil import utcnow

T = TypeVar("T")
QUEUE_MAX = 200


# --- shapes --------------------------------------------------------------------------------


def to_out(row: Intervention, now: datetime | None = None) -> InterventionOut:
    """The API shape of an intervention."""
    now = now or utcnow()
    status = Status(row.status)
    return InterventionOut(
        id=row.id,
        category=Category(row.category),
        priority=Priority(row.priority),
        title=row.title,
        description=row.description,
        commune=row.commune_code,
        asset_id=row.asset_id,
        location=Point(coordinates=(row.lon, row.lat))
        if row.lon is not None and row.lat is not None
        else None,
        team_id=row.team_id,
        assignee_id=row.assignee_id,
        status=status,
        source=Source(row.source),
        created_at=row.created_at,
        created_by=row.created_by,
        due_at=row.due_at,
        overdue=status in OPEN and row.due_at < now,
        started_at=row.started_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        cancelled_at=row.cancelled_at,
        clear_alarms_pending=row.clear_alarms_pending,
        updated_at=row.updated_at,
        next_statuses=next_statuses(status),
    )


def photo_url(intervention_id: int, photo_id: int) -> str:
    """Where a photo's bytes are served."""
    return f"/api/v1/interventions/{intervention_id}/photos/{photo_id}"


# --- shared steps --------------------------------------------------------------------------


async def _refused(
    ctx: Context, action: str, target_id: Any, call: Callable[[], Awaitable[T]]
) -> T:
    return await refused(ctx, action, call, target_id=target_id)


def field_only(principal: Principal) -> bool:
    """A field agent who does not dispatch sees and works only their teams' interventions."""
    return principal.has_role(Role.FIELD_AGENT) and not principal.can(
        Permission.INTERVENTION_MANAGE
    )


async def load(
    session: AsyncSession, ctx: Context, intervention_id: int, *, lock: bool = False
) -> Intervention:
    """An intervention the caller may see, or :class:`NotFound`."""
    stmt = select(Intervention).where(Intervention.id == intervention_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not ctx.principal.sees(row.commune_code):
        raise NotFound(f"intervention {intervention_id} not found")
    if field_only(ctx.principal) and row.team_id not in await teams_of(
        session, ctx.principal.user_id
    ):
        raise NotFound(f"intervention {intervention_id} not found")
    return row


def history(
    session: AsyncSession,
    row: Intervention,
    at: datetime,
    actor: str,
    actor_kind: str,
    action: str,
    from_status: str | None,
    detail: dict[str, Any] | None = None,
) -> InterventionChanged:
    """Write one history entry of ``row`` (in its current status) and return its event."""
    session.add(
        InterventionHistory(
            intervention_id=row.id,
            at=at,
            actor=actor,
            actor_kind=actor_kind,
            action=action,
            from_status=from_status,
            to_status=row.status,
            detail=detail or {},
        )
    )
    return InterventionChanged(row.id, row.commune_code, row.team_id, row.status, action, at)


async def check_team(
    session: AsyncSession,
    principal: Principal,
    team_id: int,
    assignee_id: int | None,
    commune: str,
    category: str,
    *,
    field: str = "team_id",
) -> Team:
    """The team taking the work: one the principal sees, covering the commune and category;
    the assignee, if any, must be one of its members."""
    team = await session.get(Team, team_id)
    if team is None or not team_visible(principal, team):
        raise InvalidInput(FieldError(field, f"no team {team_id}"))
    if commune not in team.communes:
        raise InvalidInput(FieldError(field, f"team {team.name!r} does not cover {commune!r}"))
    if category not in team.categories:
        raise InvalidInput(FieldError(field, f"team {team.name!r} does not do {category} work"))
    if assignee_id is not None and not await is_member(session, team.id, assignee_id):
        raise InvalidInput(
            FieldError("assignee_id", f"user {assignee_id} is not a member of team {team.name!r}")
        )
    return team


async def _alarms_in_scope(
    session: AsyncSession, principal: Principal, alarm_ids: Sequence[int], field: str
) -> list[Alarm]:
    if not alarm_ids:
        return []
    wanted = sorted(set(alarm_ids))
    found = {
        a.id: a
        for a in (await session.execute(select(Alarm).where(Alarm.id.in_(wanted)))).scalars()
        if principal.sees(a.commune_code)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(FieldError(field, f"unknown alarms {missing[:10]}"))
    return [found[i] for i in wanted]


async def _assets_in_scope(
    session: AsyncSession, principal: Principal, asset_ids: Sequence[str], field: str
) -> list[Asset]:
    if not asset_ids:
        return []
    wanted = sorted(set(asset_ids))
    found = {
        a.id: a
        for a in (await session.execute(select(Asset).where(Asset.id.in_(wanted)))).scalars()
        if principal.sees(a.commune_code)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(FieldError(field, f"unknown assets {missing[:10]}"))
    return [found[i] for i in wanted]


async def link(
    session: AsyncSession,
    intervention_id: int,
    alarm_ids: Sequence[int],
    asset_ids: Sequence[str],
    now: datetime,
) -> tuple[list[int], list[str]]:
    """Link alarms and assets not linked yet; returns the ones newly linked."""
    have_alarms = set(
        (
            await session.execute(
                select(InterventionAlarm.alarm_id).where(
                    InterventionAlarm.intervention_id == intervention_id
                )
            )
        ).scalars()
    )
    have_assets = set(
        (
            await session.execute(
                select(InterventionAsset.asset_id).where(
                    InterventionAsset.intervention_id == intervention_id
                )
            )
        ).scalars()
    )
    new_alarms = sorted(set(alarm_ids) - have_alarms)
    new_assets = sorted(set(asset_ids) - have_assets)
    session.add_all(
        InterventionAlarm(intervention_id=intervention_id, alarm_id=a, linked_at=now)
        for a in new_alarms
    )
    session.add_all(
        InterventionAsset(intervention_id=intervention_id, asset_id=a, linked_at=now)
        for a in new_assets
    )
    return new_alarms, new_assets


@dataclass(frozen=True, slots=True)
class NewIntervention:
    """Everything a new intervention is made of, checked."""

    category: Category
    priority: Priority
    title: str
    description: str
    commune: str
    asset_id: str | None
    lon: float | None
    lat: float | None
    team_id: int | None
    assignee_id: int | None
    source: Source
    alarm_ids: Sequence[int] = ()
    asset_ids: Sequence[str] = ()


async def insert(
    session: AsyncSession,
    new: NewIntervention,
    config: sla.SlaConfig,
    actor: str,
    actor_kind: str,
    now: datetime,
) -> tuple[Intervention, InterventionChanged]:
    """Write a checked intervention, its links and its first history entry."""
    status = Status.ASSIGNED if new.team_id is not None else Status.NEW
    row = Intervention(
        category=new.category.value,
        priority=new.priority.value,
        title=new.title,
        description=new.description,
        commune_code=new.commune,
        asset_id=new.asset_id,
        lon=new.lon,
        lat=new.lat,
        team_id=new.team_id,
        assignee_id=new.assignee_id,
        status=status.value,
        source=new.source.value,
        created_at=now,
        created_by=actor,
        due_at=sla.due_at(now, new.priority, config),
        clear_alarms_pending=False,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    assets = list(new.asset_ids)
    if new.asset_id is not None:
        assets.append(new.asset_id)
    await link(session, row.id, new.alarm_ids, assets, now)
    event = history(
        session,
        row,
        now,
        actor,
        actor_kind,
        "created",
        None,
        {
            "source": new.source.value,
            "team_id": new.team_id,
            "assignee_id": new.assignee_id,
            "alarm_ids": sorted(set(new.alarm_ids)),
            "due_at": row.due_at.isoformat(),
        },
    )
    await session.flush()
    return row, event


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
            (asset,) = await _assets_in_scope(session, ctx.principal, [body.asset_id], "asset_id")
            commune = asset.commune_code
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
        await _alarms_in_scope(session, ctx.principal, body.alarm_ids, "alarm_ids")
        await _assets_in_scope(session, ctx.principal, body.asset_ids, "asset_ids")
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
        return _photo_out(photo)

    return await _refused(ctx, "intervention.photo", intervention_id, run)


def _photo_out(p: InterventionPhoto) -> PhotoOut:
    return PhotoOut(
        id=p.id,
        content_type=p.content_type,
        size=p.size,
        sha256=p.sha256,
        at=p.at,
        author=p.author,
        url=photo_url(p.intervention_id, p.id),
    )


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
            await _alarms_in_scope(session, ctx.principal, body.alarm_ids, "alarm_ids")
            await _assets_in_scope(session, ctx.principal, body.asset_ids, "asset_ids")
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
    return await get_intervention(ctx, intervention_id)


async def get_intervention(ctx: Context, intervention_id: int) -> InterventionDetail:
    """One intervention in scope with its links, notes, photos and history."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        row = await load(session, ctx, intervention_id)
        alarm_ids = list(
            (
                await session.execute(
                    select(InterventionAlarm.alarm_id)
                    .where(InterventionAlarm.intervention_id == row.id)
                    .order_by(InterventionAlarm.alarm_id)
                )
            ).scalars()
        )
        asset_ids = list(
            (
                await session.execute(
                    select(InterventionAsset.asset_id)
                    .where(InterventionAsset.intervention_id == row.id)
                    .order_by(InterventionAsset.asset_id)
                )
            ).scalars()
        )
        notes = (
            await session.execute(
                select(InterventionNote)
                .where(InterventionNote.intervention_id == row.id)
                .order_by(InterventionNote.id)
            )
        ).scalars()
        pics = (
            await session.execute(
                select(
                    InterventionPhoto.id,
                    InterventionPhoto.intervention_id,
                    InterventionPhoto.content_type,
                    InterventionPhoto.size,
                    InterventionPhoto.sha256,
                    InterventionPhoto.at,
                    InterventionPhoto.author,
                )
                .where(InterventionPhoto.intervention_id == row.id)
                .order_by(InterventionPhoto.id)
            )
        ).all()
        moves = (
            await session.execute(
                select(InterventionHistory)
                .where(InterventionHistory.intervention_id == row.id)
                .order_by(InterventionHistory.id)
            )
        ).scalars()
        return InterventionDetail(
            **to_out(row).model_dump(),
            alarm_ids=alarm_ids,
            asset_ids=asset_ids,
            notes=[NoteOut(id=n.id, text=n.text, at=n.at, author=n.author) for n in notes],
            photos=[
                PhotoOut(
                    id=p.id,
                    content_type=p.content_type,
                    size=p.size,
                    sha256=p.sha256,
                    at=p.at,
                    author=p.author,
                    url=photo_url(p.intervention_id, p.id),
                )
                for p in pics
            ],
            history=[
                HistoryOut(
                    at=m.at,
                    actor=m.actor,
                    actor_kind=m.actor_kind,
                    action=m.action,
                    from_status=Status(m.from_status) if m.from_status else None,
                    to_status=Status(m.to_status) if m.to_status else None,
                    detail=m.detail,
                )
                for m in moves
            ],
        )


@dataclass(frozen=True, slots=True)
class InterventionFilter:
    """Filters of an intervention search."""

    statuses: Sequence[Status] = ()
    categories: Sequence[Category] = ()
    communes: Sequence[str] = ()
    team_id: int | None = None
    mine: bool = False
    open_only: bool = False
    asset_id: str | None = None
    cursor: int | None = None
    limit: int = 100


async def list_interventions(ctx: Context, f: InterventionFilter) -> InterventionPage:
    """Interventions in scope, newest first; a field agent sees their teams' only."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    stmt = select(Intervention).where(ctx.principal.scope_clause(Intervention.commune_code))
    if f.statuses:
        stmt = stmt.where(Intervention.status.in_([s.value for s in f.statuses]))
    if f.open_only:
        stmt = stmt.where(Intervention.status.in_([s.value for s in OPEN]))
    if f.categories:
        stmt = stmt.where(Intervention.category.in_([c.value for c in f.categories]))
    if f.communes:
        stmt = stmt.where(Intervention.commune_code.in_(list(f.communes)))
    if f.team_id is not None:
        stmt = stmt.where(Intervention.team_id == f.team_id)
    if f.asset_id is not None:
        stmt = stmt.where(Intervention.asset_id == f.asset_id)
    if f.mine:
        # Without a user id (the system) nothing is anyone's: never "IS NULL".
        stmt = stmt.where(Intervention.assignee_id == (ctx.principal.user_id or -1))
    if f.cursor is not None:
        stmt = stmt.where(Intervention.id < f.cursor)
    stmt = stmt.order_by(Intervention.id.desc()).limit(f.limit + 1)
    async with ctx.db.read() as session:
        if field_only(ctx.principal):
            stmt = stmt.where(
                Intervention.team_id.in_(await teams_of(session, ctx.principal.user_id))
            )
        rows = list((await session.execute(stmt)).scalars())
    next_cursor = None
    if len(rows) > f.limit:
        rows = rows[: f.limit]
        next_cursor = str(rows[-1].id)
    now = utcnow()
    return InterventionPage(items=[to_out(r, now) for r in rows], next_cursor=next_cursor)


async def queue(ctx: Context, *, mine: bool = False) -> list[QueueItem]:
    """The open work of the caller's teams, most urgent first (priority, then due time),
    in the compact shape of a phone list. ``mine``: only what is assigned to the caller."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    user = ctx.principal.user_id
    rank = case(*[(Intervention.priority == p.value, r) for p, r in PRIORITY_RANK.items()], else_=9)
    async with ctx.db.read() as session:
        team_ids = await teams_of(session, user)
        stmt = (
            select(Intervention, Asset.lon, Asset.lat)
            .outerjoin(Asset, Asset.id == Intervention.asset_id)
            .where(
                ctx.principal.scope_clause(Intervention.commune_code),
                Intervention.status.in_([s.value for s in OPEN]),
                Intervention.team_id.in_(team_ids),
            )
            .order_by(rank, Intervention.due_at, Intervention.id)
            .limit(QUEUE_MAX)
        )
        if mine:
            stmt = stmt.where(Intervention.assignee_id == (user or -1))
        rows = (await session.execute(stmt)).all()
    now = utcnow()
    out = []
    for row, asset_lon, asset_lat in rows:
        at = None
        if row.lon is not None and row.lat is not None:
            at = (row.lon, row.lat)
        elif asset_lon is not None and asset_lat is not None:
            at = (asset_lon, asset_lat)
        out.append(
            QueueItem(
                id=row.id,
                title=row.title,
                priority=Priority(row.priority),
                status=Status(row.status),
                category=Category(row.category),
                commune=row.commune_code,
                due_at=row.due_at,
                overdue=row.due_at < now,
                asset_id=row.asset_id,
                at=at,
                mine=user is not None and row.assignee_id == user,
            )
        )
    return out
