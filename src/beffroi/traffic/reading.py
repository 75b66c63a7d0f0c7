"""Which assets are traffic signal controllers, and finding one within the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.assets.queries import Facts
from beffroi.catalogue.equipment import TRAFFIC_CONTROLLER
from beffroi.core.context import Context
from beffroi.core.errors import NotFound


def controller_types() -> list[str]:
    """The catalogue's traffic signal controllers: the equipment that runs a timetable."""
    return [TRAFFIC_CONTROLLER.key]


async def controllers(
    session: AsyncSession, ctx: Context, controller_ids: Iterable[str]
) -> dict[str, Facts]:
    """The live controllers among ``controller_ids``, all in the caller's scope;
    :class:`NotFound` naming the first that is not (existence outside the scope stays
    hidden: "not found" either way)."""
    ids = list(dict.fromkeys(controller_ids))
    found = await asset_queries.facts(session, ids)
    for controller_id in ids:
        facts = found.get(controller_id)
        if (
            facts is None
            or not facts.live
            or facts.type not in controller_types()
            or not ctx.principal.sees(facts.commune)
        ):
            raise NotFound(f"traffic controller {controller_id!r} not found")
    return found


async def controller(session: AsyncSession, ctx: Context, controller_id: str) -> Facts:
    """One live controller in the caller's scope (see :func:`controllers`)."""
    return (await controllers(session, ctx, [controller_id]))[controller_id]
