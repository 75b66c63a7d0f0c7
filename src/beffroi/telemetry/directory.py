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
        self._seen_until: datetime | None = None

    def __getitem__(self, asset_id: str) -> DeviceInfo:
        return self._devices[asset_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._devices)

    def __len__(self) -> int:
        return len(self._devices)

    def put(self, asset_id: str, info: DeviceInfo) -> None:
        """Add or replace one device (tests and benchmarks)."""
        self._devices[sys.intern(asset_id)] = info

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
                    self._devices.pop(row.id, None)
                else:
                    # Interned strings: the same parent and commune names are shared.
                    parent = sys.intern(row.parent_id) if row.parent_id else None
                    self._devices[sys.intern(row.id)] = DeviceInfo(
                        spec, parent, sys.intern(row.commune_code)
                    )
                changed += 1
                self._seen_until = row.updated_at
        return changed
