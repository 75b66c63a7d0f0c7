"""Steps the intervention use cases share: API shapes, loading in scope, history entries,
team and link checks, and inserting a new intervention (by hand or from an alarm)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import queries as alarm_queries
from beffroi.alarms.queries import AlarmFacts
from beffroi.assets import queries as asset_queries
from beffroi.assets.queries import Facts
from beffroi.assets.schemas import Point
from beffroi.catalogue.visibility import hidden_types, in_view
from beffroi.core.context import Context
from beffroi.core.errors import (
    FieldError,
    InvalidInput,
    NotFound,
)
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.db import Derived
from beffroi.interventions import sla
from beffroi.interventions.events import InterventionChanged
from beffroi.interventions.lifecycle import (
    OPEN,
    Category,
    Priority,
    Source,
    Status,
    next_statuses,
)
from beffroi.interventions.models import (
    Intervention,
    InterventionAlarm,
    InterventionAsset,
    InterventionHistory,
    Team,
)
from beffroi.interventions.schemas import InterventionOut, PhotoOut
from beffroi.interventions.teams import is_member, team_visible, teams_of

# --- shapes --------------------------------------------------------------------------------


def to_out(row: Intervention, now: datetime | None = None) -> InterventionOut:
    """The API shape of an intervention: its row, where it is, whether it is late (at
    ``now``) and where its status may go."""
    status = Status(row.status)
    located = row.lon is not None and row.lat is not None
    derived = Derived(
        row,
        location=Point(coordinates=(row.lon, row.lat)) if located else None,
        overdue=status in OPEN and row.due_at < (now or utcnow()),
        next_statuses=next_statuses(status),
    )
    return InterventionOut.model_validate(derived)


def photo_url(intervention_id: int, photo_id: int) -> str:
    """Where a photo's bytes are served."""
    return f"/api/v1/interventions/{intervention_id}/photos/{photo_id}"


class PhotoFields(Protocol):
    """What a photo's shape needs: its row, or a selection of its columns without the bytes."""

    @property
    def id(self) -> int: ...
    @property
    def intervention_id(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def author(self) -> str: ...


def photo_out(p: PhotoFields) -> PhotoOut:
    """The API shape of a photo (its bytes are served at its URL)."""
    return PhotoOut(
        id=p.id,
        content_type=p.content_type,
        size=p.size,
        sha256=p.sha256,
        at=p.at,
        author=p.author,
        url=photo_url(p.intervention_id, p.id),
    )


# --- shared steps --------------------------------------------------------------------------


def field_only(principal: Principal) -> bool:
    """Someone who works interventions without dispatching them (a field agent) sees and
    works only their teams' ones."""
    return principal.can(Permission.INTERVENTION_WORK) and not principal.can(
        Permission.INTERVENTION_MANAGE
    )


def shown_clause(principal: Principal) -> ColumnElement[bool]:
    """A SQL condition keeping the interventions that touch no equipment hidden from
    ``principal`` (cameras): neither their main asset, nor a linked asset or alarm. The
    work order of a camera is as hidden as the camera."""
    if not hidden_types(principal):
        return true()
    linked_assets = select(InterventionAsset.intervention_id).where(
        ~asset_queries.shown_clause(principal, InterventionAsset.asset_id)
    )
    condition = asset_queries.shown_clause(
        principal, Intervention.asset_id
    ) & Intervention.id.not_in(linked_assets)
    hidden_alarms = alarm_queries.hidden_ids(principal)
    if hidden_alarms is not None:
        linked_alarms = select(InterventionAlarm.intervention_id).where(
            InterventionAlarm.alarm_id.in_(hidden_alarms)
        )
        condition = condition & Intervention.id.not_in(linked_alarms)
    return condition


async def load(
    session: AsyncSession, ctx: Context, intervention_id: int, *, lock: bool = False
) -> Intervention:
    """An intervention the caller may see, or :class:`NotFound`."""
    stmt = select(Intervention).where(
        Intervention.id == intervention_id, shown_clause(ctx.principal)
    )
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
    return InterventionChanged(
        row.id, row.commune_code, row.team_id, row.status, action, at, row.asset_id
    )


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


async def alarms_in_scope(
    session: AsyncSession, principal: Principal, alarm_ids: Sequence[int], field: str
) -> list[AlarmFacts]:
    """The alarms named, all of them existing and in the principal's scope."""
    if not alarm_ids:
        return []
    wanted = sorted(set(alarm_ids))
    found = {
        i: a
        for i, a in (await alarm_queries.alarms(session, wanted)).items()
        if in_view(principal, a.commune_code, a.asset_type)
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InvalidInput(FieldError(field, f"unknown alarms {missing[:10]}"))
    return [found[i] for i in wanted]


async def assets_in_scope(
    session: AsyncSession, principal: Principal, asset_ids: Sequence[str], field: str
) -> list[Facts]:
    """The assets named, all of them existing and in the principal's scope."""
    if not asset_ids:
        return []
    wanted = sorted(set(asset_ids))
    found = {
        i: a
        for i, a in (await asset_queries.facts(session, wanted)).items()
        if in_view(principal, a.commune, a.type)
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
