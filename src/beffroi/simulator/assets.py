"""The equipment the simulator plays: a light, immutable view of registry assets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from beffroi.assets.filters import AssetFilter
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.reading import iter_assets
from beffroi.assets.schemas import AssetCreate, AssetOut
from beffroi.communes.service import list_communes
from beffroi.core.context import Context
from beffroi.core.sun import city_centre

# Equipment that is not in the field does not talk.
LIVE_STATUSES = (AssetStatus.IN_SERVICE, AssetStatus.MAINTENANCE, AssetStatus.OUT_OF_SERVICE)


@dataclass(frozen=True, slots=True, eq=False)
class SimAsset:
    """One simulated piece of equipment: what its behaviour needs, nothing more."""

    id: str
    type: str
    parent_id: str | None
    attributes: Mapping[str, Any]
    commune: str
    lon: float
    lat: float

    @classmethod
    def from_asset(cls, asset: AssetCreate | AssetOut) -> SimAsset:
        """From the registry (or the fleet generator, which gives create schemas)."""
        commune = asset.commune
        lon, lat = asset.location.coordinates
        return cls(
            id=asset.id,
            type=asset.type,
            parent_id=asset.parent_id,
            attributes=MappingProxyType(dict(asset.attributes or {})),
            commune=commune,
            lon=float(lon),
            lat=float(lat),
        )


async def load_sim_assets(
    ctx: Context,
    *,
    types: Sequence[str] = (),
    communes: Sequence[str] = (),
    limit: int | None = None,
) -> list[SimAsset]:
    """The registry's live equipment (not planned, not decommissioned), as simulator assets.

    ``types``/``communes`` narrow it; ``limit`` keeps the first N by id. A streetlight's
    lighting cabinet is its field gateway, so selected lights bring their cabinet along
    even when filters or the limit would leave it out.
    """
    selection = AssetFilter(types=list(types), communes=list(communes), statuses=LIVE_STATUSES)
    chosen: list[SimAsset] = []
    async for asset in iter_assets(ctx, selection):
        chosen.append(SimAsset.from_asset(asset))
        if limit is not None and len(chosen) >= limit:
            break
    have = {a.id for a in chosen}
    missing = sorted(
        {a.parent_id for a in chosen if a.type == "streetlight" and a.parent_id} - have
    )
    if missing:
        gateways = AssetFilter(ids=missing, statuses=LIVE_STATUSES)
        chosen += [SimAsset.from_asset(a) async for a in iter_assets(ctx, gateways)]
    return chosen


async def load_sim_fleet(
    ctx: Context,
    *,
    types: Sequence[str] = (),
    communes: Sequence[str] = (),
    limit: int | None = None,
) -> tuple[list[SimAsset], tuple[float, float]]:
    """The equipment to play (:func:`load_sim_assets`) and the centre of its communes
    (latitude, longitude), where the simulated sun rises and sets."""
    assets = await load_sim_assets(ctx, types=types, communes=communes, limit=limit)
    rows = list(await list_communes(ctx))
    used = {a.commune for a in assets}
    return assets, city_centre([r for r in rows if r.code in used] or rows)
