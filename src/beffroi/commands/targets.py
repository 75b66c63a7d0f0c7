"""The assets a group command addresses: its target resolved, within the caller's scope.

Each kind of target (:data:`beffroi.commands.schemas.Target`) chooses assets its own way;
all of them then pass the same checks (the batch's type, none decommissioned, at least
one, at most :data:`MAX_BATCH`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beffroi.assets import groups
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.service import AssetFilter, AssetRef, BBox, asset_refs, get_asset
from beffroi.catalogue import CATALOGUE
from beffroi.commands.schemas import (
    BatchCreate,
    CabinetTarget,
    CommuneTarget,
    GroupTarget,
    IdsTarget,
    PolygonTarget,
)
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput

MAX_BATCH = 200_000
# Targets named one by one in an error: enough to act on, not a wall of text.
NAMED_AT_MOST = 10
# What a group command reaches unless the caller names statuses (the filter kind).
LIVE = (AssetStatus.IN_SERVICE, AssetStatus.MAINTENANCE)


async def resolve(ctx: Context, body: BatchCreate) -> tuple[list[AssetRef], dict[str, Any]]:
    """The assets a batch addresses, in the caller's scope, and how they were chosen (as
    the batch and its audit entry keep it)."""
    refs, described = await _chosen(ctx, body)
    wrong = [r.id for r in refs if r.type != body.type]
    if wrong:
        raise InvalidInput(
            FieldError("target", f"not a {body.type}: {wrong[:NAMED_AT_MOST]}"),
        )
    dead = [r.id for r in refs if r.status == AssetStatus.DECOMMISSIONED]
    if dead:
        raise InvalidInput(FieldError("target", f"decommissioned: {dead[:NAMED_AT_MOST]}"))
    if not refs:
        raise InvalidInput(FieldError("target", f"no {body.type} in your scope matches"))
    if len(refs) > MAX_BATCH:
        raise InvalidInput(FieldError("target", f"{len(refs)} targets; at most {MAX_BATCH}"))
    return refs, described


async def _chosen(ctx: Context, body: BatchCreate) -> tuple[list[AssetRef], dict[str, Any]]:
    t = body.target
    types = [body.type]
    described: dict[str, Any] = {"kind": t.kind}
    match t:
        case IdsTarget():
            # Every status, so a decommissioned target is named as such rather than as missing.
            refs = await asset_refs(ctx, AssetFilter(ids=t.asset_ids, statuses=list(AssetStatus)))
            _require_all(t.asset_ids, refs, "target.asset_ids")
            described["asset_ids"] = len(set(t.asset_ids))
        case GroupTarget():
            ids = await groups.group_member_ids(ctx, t.group_id)
            refs = (
                await asset_refs(ctx, AssetFilter(ids=ids, types=types, statuses=LIVE))
                if ids
                else []
            )
            described["group_id"] = t.group_id
        case CabinetTarget():
            cabinet = await get_asset(ctx, t.cabinet_id)
            feeds = CATALOGUE.get(cabinet.type)
            if feeds is None or not feeds.cabinet:
                raise InvalidInput(
                    FieldError("target.cabinet_id", f"{cabinet.id!r} is a {cabinet.type}")
                )
            refs = await asset_refs(
                ctx, AssetFilter(parent_id=cabinet.id, types=types, statuses=LIVE)
            )
            described["cabinet_id"] = cabinet.id
        case CommuneTarget():
            refs = await asset_refs(
                ctx, AssetFilter(communes=[t.commune], types=types, statuses=LIVE)
            )
            described["commune"] = t.commune
        case PolygonTarget():
            shape = groups.polygon_shape(t.polygon, "target.polygon")
            async with ctx.db.read() as session:
                ids = await groups.ids_in_polygon(session, ctx, shape, types=types)
            refs = await asset_refs(ctx, AssetFilter(ids=ids, statuses=LIVE)) if ids else []
            described["polygon"] = t.polygon.model_dump()
        case _:
            refs = await asset_refs(
                ctx,
                AssetFilter(
                    types=types,
                    communes=t.communes,
                    statuses=t.statuses or LIVE,
                    parent_id=t.parent_id,
                    bbox=BBox.parse(t.bbox) if t.bbox else None,
                    q=t.q,
                ),
            )
            described.update(t.model_dump(exclude={"kind"}, exclude_none=True))
    return refs, described


def _require_all(asked: Sequence[str], refs: Sequence[AssetRef], field: str) -> None:
    found = {r.id for r in refs}
    missing = sorted(set(asked) - found)
    if missing:
        raise InvalidInput(FieldError(field, f"not found: {missing[:NAMED_AT_MOST]}"))
