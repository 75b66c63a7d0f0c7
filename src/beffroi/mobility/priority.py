"""Bus priority: vehicle positions on an approach become ``priority_request`` commands to
the controller, one per bus pass, each recorded with its outcome.

The command goes through the command area like any other (checked against the catalogue,
queued, sent by the gateway's dispatcher, its reply recorded); this module only decides
when to ask and keeps the request beside the command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.commands.schemas import CommandCreate
from beffroi.commands.service import create_in
from beffroi.core.context import Context
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.metrics import MOBILITY_PRIORITY_REQUESTS
from beffroi.mobility.approach import Position, Zone, zone_of
from beffroi.mobility.models import PriorityApproach, PriorityRequest

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """An approach with what a request to its controller needs."""

    zone: Zone
    controller_id: str
    commune: str
    direction: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """A bus found on an approach: one request to make, unless its pass already asked."""

    target: Target
    position: Position
    distance_m: float
    pass_key: str


async def load_targets(session: AsyncSession) -> list[Target]:
    """Every approach, compiled for judging positions."""
    rows = (await session.execute(select(PriorityApproach))).scalars().all()
    return [
        Target(
            zone_of(
                r.id, r.shape, r.coordinates, r.radius_m, r.bearing_deg, r.tolerance_deg, r.lines
            ),
            r.controller_id,
            r.commune_code,
            r.direction,
        )
        for r in rows
    ]


def pass_key(position: Position, pass_s: int) -> str:
    """What identifies a bus's pass on an approach: its trip, else the time window (a bus
    without a trip id asks at most once per window)."""
    if position.trip_id:
        return f"t:{position.trip_id}"
    return f"w:{int(position.timestamp // pass_s)}"


def candidates(
    targets: Sequence[Target],
    positions: Sequence[Position],
    *,
    now: float,
    max_age_s: float,
    pass_s: int,
) -> list[Candidate]:
    """The (bus, approach) pairs where a fresh position is on an approach serving its line,
    heading for the stop line: pure, so the poller's cost is visible in one place."""
    out: list[Candidate] = []
    for position in positions:
        if now - position.timestamp > max_age_s:
            continue
        for target in targets:
            if not target.zone.serves(position.route_id):
                continue
            distance = target.zone.distance_to_stop(position)
            if distance is not None:
                out.append(Candidate(target, position, distance, pass_key(position, pass_s)))
    return out


async def _asked(session: AsyncSession, found: Sequence[Candidate]) -> set[tuple[int, str, str]]:
    """The (approach, vehicle, pass) of ``found`` that already asked."""
    approach_ids = sorted({c.target.zone.approach_id for c in found})
    rows = await session.execute(
        select(
            PriorityRequest.approach_id, PriorityRequest.vehicle_id, PriorityRequest.pass_key
        ).where(
            PriorityRequest.approach_id.in_(approach_ids),
            PriorityRequest.vehicle_id.in_(sorted({c.position.vehicle_id for c in found})),
        )
    )
    return {(r.approach_id, r.vehicle_id, r.pass_key) for r in rows}


class _AlreadyAsked(Exception):
    """Another poll (another process) recorded this pass first."""


async def request(ctx: Context, c: Candidate) -> int | None:
    """Record the request and queue its ``priority_request`` command in one transaction;
    None when the pass had asked already (the unique constraint decides between racing
    processes)."""
    z = c.target
    try:
        async with change(
            ctx, "mobility.priority_request", target_type="asset", target_id=z.controller_id
        ) as uc:
            row = PriorityRequest(
                approach_id=z.zone.approach_id,
                controller_id=z.controller_id,
                commune_code=z.commune,
                vehicle_id=c.position.vehicle_id,
                pass_key=c.pass_key,
                line=c.position.route_id,
                direction=z.direction,
                distance_m=round(c.distance_m, 1),
                observed_at=datetime.fromtimestamp(c.position.timestamp, UTC),
                requested_at=utcnow(),
                outcome="requested",
            )
            uc.session.add(row)
            try:
                await uc.session.flush()
            except IntegrityError:
                raise _AlreadyAsked from None
            command = await create_in(
                uc,
                CommandCreate(
                    asset_id=z.controller_id,
                    name="priority_request",
                    params={"line": c.position.route_id, "direction": z.direction},
                    reason=f"bus {c.position.vehicle_id} line {c.position.route_id}",
                ),
            )
            row.command_id = command.id
            row.outcome = command.state
            uc.audit(
                target_id=z.controller_id,
                commune=z.commune,
                details={
                    "request_id": row.id,
                    "command_id": command.id,
                    "approach_id": z.zone.approach_id,
                    "vehicle_id": c.position.vehicle_id,
                    "line": c.position.route_id,
                    "direction": z.direction,
                },
            )
    except _AlreadyAsked:
        return None
    MOBILITY_PRIORITY_REQUESTS.inc()
    return row.id


async def ask(ctx: Context, positions: Sequence[Position], now: float) -> list[int]:
    """Ask priority for every bus newly on an approach: the ids of the requests made."""
    settings = ctx.settings
    # One read for the approaches and the passes that asked: this is the poll's hot path.
    async with ctx.db.read() as session:
        found = candidates(
            await load_targets(session),
            positions,
            now=now,
            max_age_s=settings.mobility_max_age_s,
            pass_s=settings.mobility_pass_s,
        )
        if not found:
            return []
        asked = await _asked(session, found)
    made: list[int] = []
    for c in found:
        key = (c.target.zone.approach_id, c.position.vehicle_id, c.pass_key)
        if key in asked:
            continue
        asked.add(key)
        try:
            request_id = await request(ctx, c)
        except Exception:
            # One controller refusing (decommissioned, out of the catalogue) must not keep
            # the other buses waiting: logged, and the next poll tries again.
            log.exception("bus priority request failed", approach=key[0], vehicle=key[1])
            continue
        if request_id is not None:
            made.append(request_id)
    return made
