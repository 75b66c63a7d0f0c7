"""The nearest available crews for an intervention (docs/vehicles.md).

A crew is an interventions team (``interventions/teams.py``) with a vehicle whose
``team_id`` attribute names it. A team is proposed when:

- it serves the intervention's commune and the caller sees it;
- it is available: no intervention of its is in progress (one assigned but not started
  does not hold it: the dispatcher may send it elsewhere first);
- one of its vehicles reported a position within ``BEFFROI_VEHICLES_FRESH_S``.

Its distance is the straight-line (geodesic) distance from the intervention's place (its
point, else its main asset's) to the nearest of those vehicles; nearest first.
"""

from __future__ import annotations

from pyproj import Geod

from beffroi.assets import queries as asset_queries
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.interventions import queries as work_queries
from beffroi.vehicles.positions import latest
from beffroi.vehicles.schemas import CrewProposal, NearestCrews, VehiclePosition

GEOD = Geod(ellps="WGS84")
PROPOSED = 5


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two points (WGS84), on the ellipsoid."""
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


async def nearest(ctx: Context, intervention_id: int, limit: int = PROPOSED) -> NearestCrews:
    """The available teams nearest to the intervention, each with its nearest vehicle."""
    ctx.principal.require(Permission.INTERVENTION_MANAGE)
    ctx.principal.require(Permission.ASSET_READ)
    now = utcnow()
    async with ctx.db.read() as session:
        work = await work_queries.where(session, intervention_id, ctx.principal)
        if work is None:
            raise NotFound(f"intervention {intervention_id} not found")
        lon, lat = work.lon, work.lat
        if (lon is None or lat is None) and work.asset_id is not None:
            facts = (await asset_queries.facts(session, [work.asset_id])).get(work.asset_id)
            if facts is not None:
                lon, lat = facts.lon, facts.lat
        if lon is None or lat is None:
            raise Conflict(f"intervention {intervention_id} names no place: no crew is nearest")
        positions = await latest(session, ctx.principal, ctx.settings.vehicles_fresh_s, now)
        crewed = [p for p in positions if p.fresh and p.team_id is not None]
        teams = await work_queries.teams(session, (p.team_id for p in crewed if p.team_id))
        busy = await work_queries.busy_teams(session, teams)
    best: dict[int, tuple[float, VehiclePosition]] = {}
    for position in crewed:
        team = teams.get(position.team_id or 0)
        if team is None or team.id in busy or work.commune_code not in team.communes:
            continue
        if not ctx.principal.covers(team.communes):
            continue
        metres = distance_m(lon, lat, position.lon, position.lat)
        if team.id not in best or metres < best[team.id][0]:
            best[team.id] = (metres, position)
    ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))[:limit]
    return NearestCrews(
        intervention_id=intervention_id,
        items=[
            CrewProposal(
                team_id=team_id,
                team_name=teams[team_id].name,
                asset_id=p.asset_id,
                vehicle_name=p.name,
                kind=p.kind,
                distance_m=round(metres, 1),
                ts=p.ts,
                lon=p.lon,
                lat=p.lat,
            )
            for team_id, (metres, p) in ranked
        ],
    )
