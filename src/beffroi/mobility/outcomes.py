"""What became of priority requests: each copies its command's state until that state is
final, and a granted request gets its delay-saved estimate (docs/mobility.md).

The estimate: a bus arriving at random on a red of ``r`` seconds in a cycle of ``C``
waits ``r²/2C`` on average; priority (green extension or early green) removes that wait.
With the bus approach red for half the cycle, that is ``C/8``, from the controller's
newest reported ``cycle_s``; without one, ``BEFFROI_MOBILITY_SAVED_S``.
"""

from __future__ import annotations

from sqlalchemy import select

from beffroi.assets import queries as assets
from beffroi.commands import queries as commands
from beffroi.commands.lifecycle import FINAL, CommandState
from beffroi.core.context import Context
from beffroi.mobility.models import PriorityRequest
from beffroi.telemetry import queries as telemetry

OPEN_OUTCOMES = ("requested", *sorted(s.value for s in set(CommandState) - FINAL))
GRANTED = CommandState.SUCCEEDED.value


def delay_saved(cycle_s: float | None, default_s: float) -> float | None:
    """Seconds a granted request saves: an eighth of the cycle (mean wait on a red half
    the cycle long), else the configured figure; None when that is 0."""
    if cycle_s is not None and cycle_s > 0:
        return round(cycle_s / 8.0, 1)
    return default_s or None


async def follow(ctx: Context) -> int:
    """Bring open requests up to date with their commands: the requests that moved."""
    async with ctx.db.write() as session:
        rows = (
            (
                await session.execute(
                    select(PriorityRequest)
                    .where(PriorityRequest.outcome.in_(OPEN_OUTCOMES))
                    .where(PriorityRequest.command_id.is_not(None))
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            return 0
        states = await commands.states_of(session, [r.command_id for r in rows if r.command_id])
        cycles = await telemetry.newest_values(
            session, assets.id_query(types=("traffic_controller",)), "cycle_s"
        )
        moved = 0
        for row in rows:
            found = states.get(row.command_id or "")
            if found is None or found[0] == row.outcome:
                continue
            state, finished_at, result = found
            row.outcome = state
            row.finished_at = finished_at
            if result:
                row.detail = {k: result[k] for k in list(result)[:8]}
            if state == GRANTED:
                cycle = cycles.get(row.controller_id)
                row.delay_saved_s = delay_saved(
                    cycle[1] if cycle else None, ctx.settings.mobility_saved_s
                )
            moved += 1
    return moved
