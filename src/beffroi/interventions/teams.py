"""Use cases of field teams: create, change, delete, members, read.

A team is seen and changed only by someone whose scope covers all its communes, as rules,
routes and batches are: a team spanning Talant and Chenôve is not Talant's to show. Its
members are people its manager can see who work in at least one of its communes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts import queries as account_queries
from beffroi.accounts.queries import Person
from beffroi.communes.service import resolve_codes
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db import Derived
from beffroi.interventions.events import TeamChanged
from beffroi.interventions.models import Team, TeamMember
from beffroi.interventions.schemas import MemberOut, TeamCreate, TeamOut, TeamUpdate

TARGET = "team"


def team_visible(principal: Principal, team: Team) -> bool:
    """Whether the principal sees the team: every one of its communes is in scope."""
    return principal.covers(team.communes)


def may_join(principal: Principal, user: Person, team: Team) -> bool:
    """Whether ``principal`` may put ``user`` in ``team``: an active person the principal
    can see, who works in at least one of the team's communes."""
    works_there = user.communes is None or bool(set(user.communes) & set(team.communes))
    return not user.disabled and principal.covers(user.communes) and works_there


def _require_covers(principal: Principal, communes: Sequence[str]) -> None:
    if not principal.covers(communes):
        outside = sorted(set(communes) - (principal.communes or set()))
        raise PermissionDenied(f"communes {outside} are outside the scope of {principal.name}")


async def _members(session: AsyncSession, team_ids: Sequence[int]) -> dict[int, list[MemberOut]]:
    out: dict[int, list[MemberOut]] = {t: [] for t in team_ids}
    if not team_ids:
        return out
    rows = (
        await session.execute(
            select(TeamMember.team_id, TeamMember.user_id).where(TeamMember.team_id.in_(team_ids))
        )
    ).all()
    found = await account_queries.people(session, (user_id for _, user_id in rows))
    for team_id, user_id in sorted(rows, key=lambda r: found[r.user_id].username):
        person = found[user_id]
        out[team_id].append(
            MemberOut(user_id=person.id, username=person.username, display_name=person.display_name)
        )
    return out


def _out(team: Team, members: list[MemberOut]) -> TeamOut:
    return TeamOut.model_validate(Derived(team, members=members))


async def load_team(
    session: AsyncSession, ctx: Context, team_id: int, *, lock: bool = False
) -> Team:
    """A team in scope, or :class:`NotFound`."""
    stmt = select(Team).where(Team.id == team_id)
    if lock:
        stmt = stmt.with_for_update()
    team = (await session.execute(stmt)).scalar_one_or_none()
    if team is None or not team_visible(ctx.principal, team):
        raise NotFound(f"team {team_id} not found")
    return team


async def _require_unique_name(session: AsyncSession, name: str, own_id: int | None) -> None:
    found = (await session.execute(select(Team.id).where(Team.name == name))).scalar_one_or_none()
    if found is not None and found != own_id:
        raise Conflict(f"a team named {name!r} already exists")


async def create_team(ctx: Context, body: TeamCreate) -> TeamOut:
    """Create a team covering communes the caller's scope includes."""
    async with change(ctx, "team.create", target_type=TARGET) as uc:
        ctx.principal.require(Permission.TEAM_MANAGE)
        now = utcnow()
        communes = await resolve_codes(uc.session, body.communes, "communes")
        _require_covers(ctx.principal, communes)
        await _require_unique_name(uc.session, body.name, None)
        team = Team(
            name=body.name,
            categories=sorted({c.value for c in body.categories}),
            communes=communes,
            created_at=now,
            updated_at=now,
        )
        uc.session.add(team)
        await uc.session.flush()
        uc.audit(
            target_id=team.id,
            commune=communes[0] if len(communes) == 1 else None,
            details={"name": team.name, "categories": team.categories, "communes": communes},
        )
        uc.publish(TeamChanged(team.id, "created", now))
    return _out(team, [])


async def update_team(ctx: Context, team_id: int, body: TeamUpdate) -> TeamOut:
    """Rename a team or change its categories or communes."""
    async with change(ctx, "team.update", target_type=TARGET, target_id=team_id) as uc:
        ctx.principal.require(Permission.TEAM_MANAGE)
        now = utcnow()
        team = await load_team(uc.session, ctx, team_id, lock=True)
        before = {"name": team.name, "categories": team.categories, "communes": team.communes}
        if body.communes is not None:
            communes = await resolve_codes(uc.session, body.communes, "communes")
            _require_covers(ctx.principal, communes)
            team.communes = communes
        if body.name is not None:
            await _require_unique_name(uc.session, body.name, team.id)
            team.name = body.name
        if body.categories is not None:
            team.categories = sorted({c.value for c in body.categories})
        team.updated_at = now
        uc.audit(
            target_id=team.id,
            details={
                "before": before,
                "after": {
                    "name": team.name,
                    "categories": team.categories,
                    "communes": team.communes,
                },
            },
        )
        members = (await _members(uc.session, [team.id]))[team.id]
        uc.publish(TeamChanged(team.id, "updated", now))
    return _out(team, members)


async def delete_team(ctx: Context, team_id: int) -> None:
    """Delete a team; its interventions keep their history and lose their team."""
    async with change(ctx, "team.delete", target_type=TARGET, target_id=team_id) as uc:
        ctx.principal.require(Permission.TEAM_MANAGE)
        now = utcnow()
        team = await load_team(uc.session, ctx, team_id, lock=True)
        uc.audit(target_id=team.id, details={"name": team.name})
        await uc.session.delete(team)
        uc.publish(TeamChanged(team_id, "deleted", now))


async def add_member(ctx: Context, team_id: int, user_id: int) -> TeamOut:
    """Put a person in a team."""
    async with change(ctx, "team.member_add", target_type=TARGET, target_id=team_id) as uc:
        ctx.principal.require(Permission.TEAM_MANAGE)
        now = utcnow()
        team = await load_team(uc.session, ctx, team_id, lock=True)
        user = (await account_queries.people(uc.session, [user_id])).get(user_id)
        # One answer for a missing person and one out of reach, so ids reveal nothing.
        if user is None or not may_join(ctx.principal, user, team):
            raise InvalidInput(
                FieldError("user_id", f"no active user {user_id} working in {team.communes}")
            )
        if await uc.session.get(TeamMember, (team.id, user_id)) is not None:
            raise Conflict(f"{user.username} is already in team {team.name!r}")
        uc.session.add(TeamMember(team_id=team.id, user_id=user_id, added_at=now))
        await uc.session.flush()
        uc.audit(target_id=team.id, details={"user_id": user_id, "username": user.username})
        members = (await _members(uc.session, [team.id]))[team.id]
        uc.publish(TeamChanged(team.id, "member_added", now))
    return _out(team, members)


async def remove_member(ctx: Context, team_id: int, user_id: int) -> TeamOut:
    """Take a person out of a team."""
    async with change(ctx, "team.member_remove", target_type=TARGET, target_id=team_id) as uc:
        ctx.principal.require(Permission.TEAM_MANAGE)
        now = utcnow()
        team = await load_team(uc.session, ctx, team_id, lock=True)
        gone = await uc.session.execute(
            delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
        )
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"user {user_id} is not in team {team.name!r}")
        uc.audit(target_id=team.id, details={"user_id": user_id})
        members = (await _members(uc.session, [team.id]))[team.id]
        uc.publish(TeamChanged(team.id, "member_removed", now))
    return _out(team, members)


async def get_team(ctx: Context, team_id: int) -> TeamOut:
    """One team in scope, with its members."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        team = await load_team(session, ctx, team_id)
        return _out(team, (await _members(session, [team.id]))[team.id])


async def list_teams(ctx: Context) -> list[TeamOut]:
    """The teams in scope, by name."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        teams = [
            t
            for t in (await session.execute(select(Team).order_by(Team.name))).scalars()
            if team_visible(ctx.principal, t)
        ]
        members = await _members(session, [t.id for t in teams])
    return [_out(t, members[t.id]) for t in teams]


async def teams_of(session: AsyncSession, user_id: int | None) -> list[int]:
    """The ids of the teams a person belongs to."""
    if user_id is None:
        return []
    rows = await session.execute(select(TeamMember.team_id).where(TeamMember.user_id == user_id))
    return [r for (r,) in rows]


async def is_member(session: AsyncSession, team_id: int, user_id: int) -> bool:
    """Whether the person is in the team."""
    return await session.get(TeamMember, (team_id, user_id)) is not None
