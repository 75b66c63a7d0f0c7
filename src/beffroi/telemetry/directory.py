"""The gateway's in-memory directory of devices: type, parent and commune by asset id.

Every message needs it, so it lives in memory (100,000 devices take a few tens of MB)
and follows the registry by re-reading what changed since the last look.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from datetime import datetime

from sqlalchemy import select

from beffroi.assets.models import Asset, AssetStatus
from beffroi.catalogue import CATALOGUE
from beffroi.db import Database
from beffroi.telemetry.decode import DeviceInfo


class DeviceDirectory(Mapping[str, DeviceInfo]):
    """Devices the gateway accepts messages from (decommissioned ones are left out)."""

    def __init__(self) -> None:
        self._devices: dict[str, DeviceInfo] = {}
        self._children: dict[str, set[str]] = {}
        self._seen_until: datetime | None = None

    def __getitem__(self, asset_id: str) -> DeviceInfo:
        return self._devices[asset_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._devices)

    def __len__(self) -> int:
        return len(self._devices)

    def put(self, asset_id: str, info: DeviceInfo) -> None:
        """Add or replace one device."""
        self.remove(asset_id)
        asset_id = sys.intern(asset_id)
        self._devices[asset_id] = info
        if info.parent_id:
            self._children.setdefault(info.parent_id, set()).add(asset_id)

    def remove(self, asset_id: str) -> None:
        """Forget one device (decommissioned)."""
        old = self._devices.pop(asset_id, None)
        if old is not None and old.parent_id:
            siblings = self._children.get(old.parent_id)
            if siblings is not None:
                siblings.discard(asset_id)
                if not siblings:
                    del self._children[old.parent_id]

    def children_of(self, gateway_id: str) -> frozenset[str]:
        """The devices a field gateway relays for."""
        return frozenset(self._children.get(gateway_id, ()))

    async def refresh(self, db: Database) -> int:
        """Read the assets changed since the last refresh (all, the first time)."""
        stmt = select(
            Asset.id,
            Asset.type,
            Asset.parent_id,
            Asset.commune_code,
            Asset.status,
            Asset.updated_at,
        ).order_by(Asset.updated_at)
        if self._seen_until is not None:
            stmt = stmt.where(Asset.updated_at >= self._seen_until)
        changed = 0
        async with db.read() as session:
            result = await session.stream(stmt.execution_options(yield_per=5000))
            async for row in result:
                spec = CATALOGUE.get(row.type)
                if row.status == AssetStatus.DECOMMISSIONED or spec is None:
                    self.remove(row.id)
                else:
                    # Interned strings: the same parent and commune names are shared.
                    parent = sys.intern(row.parent_id) if row.parent_id else None
                    self.put(row.id, DeviceInfo(spec, parent, sys.intern(row.commune_code)))
                changed += 1
                self._seen_until = row.updated_at
        return changed
