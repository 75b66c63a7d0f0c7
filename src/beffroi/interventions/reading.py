"""Reading interventions: one with everything about it, pages of them, a team's queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, select

from beffroi.assets import queries as asset_queries
from beffroi.communes.lookup import filter_codes
from beffroi.core.context import Context
from beffroi.core.keyset import Keyset
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.interventions.lifecycle import (
    OPEN,
    PRIORITY_RANK,
    Category,
    Priority,
    Status,
)
from beffroi.interventions.models import (
    Intervention,
    InterventionAlarm,
    InterventionAsset,
    InterventionHistory,
    InterventionNote,
    InterventionPhoto,
)
from beffroi.interventions.records import field_only, load, photo_out, shown_clause, to_out
from beffroi.interventions.schemas import (
    HistoryOut,
    InterventionDetail,
    InterventionPage,
    NoteOut,
    QueueItem,
)
from beffroi.interventions.teams import teams_of

QUEUE_MAX = 200


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
            photos=[photo_out(p) for p in pics],
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
    cursor: str | None = None
    limit: int = 100


NEWEST = Keyset((Intervention.id,), descending=True)  # the list of interventions


async def list_interventions(ctx: Context, f: InterventionFilter) -> InterventionPage:
    """Interventions in scope, newest first; a field agent sees their teams' only."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    stmt = select(Intervention).where(
        ctx.principal.scope_clause(Intervention.commune_code), shown_clause(ctx.principal)
    )
    if f.statuses:
        stmt = stmt.where(Intervention.status.in_([s.value for s in f.statuses]))
    if f.open_only:
        stmt = stmt.where(Intervention.status.in_([s.value for s in OPEN]))
    if f.categories:
        stmt = stmt.where(Intervention.category.in_([c.value for c in f.categories]))
    if f.team_id is not None:
        stmt = stmt.where(Intervention.team_id == f.team_id)
    if f.asset_id is not None:
        stmt = stmt.where(Intervention.asset_id == f.asset_id)
    if f.mine:
        # Without a user id (the system) nothing is anyone's: never "IS NULL".
        stmt = stmt.where(Intervention.assignee_id == (ctx.principal.user_id or -1))
    async with ctx.db.read() as session:
        if f.communes:
            codes = await filter_codes(session, ctx.principal, f.communes)
            stmt = stmt.where(Intervention.commune_code.in_(codes))
        if field_only(ctx.principal):
            stmt = stmt.where(
                Intervention.team_id.in_(await teams_of(session, ctx.principal.user_id))
            )
        rows, next_cursor = await NEWEST.page(session, stmt, cursor=f.cursor, limit=f.limit)
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
            select(Intervention)
            .where(
                ctx.principal.scope_clause(Intervention.commune_code),
                shown_clause(ctx.principal),
                Intervention.status.in_([s.value for s in OPEN]),
                Intervention.team_id.in_(team_ids),
            )
            .order_by(rank, Intervention.due_at, Intervention.id)
            .limit(QUEUE_MAX)
        )
        if mine:
            stmt = stmt.where(Intervention.assignee_id == (user or -1))
        rows = list((await session.execute(stmt)).scalars())
        # Where the work order has no place of its own, its asset's.
        assets = await asset_queries.facts(
            session, (r.asset_id for r in rows if r.asset_id and (r.lon is None or r.lat is None))
        )
    now = utcnow()
    out = []
    for row in rows:
        at = None
        asset = assets.get(row.asset_id) if row.asset_id else None
        if row.lon is not None and row.lat is not None:
            at = (row.lon, row.lat)
        elif asset is not None:
            at = (asset.lon, asset.lat)
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
