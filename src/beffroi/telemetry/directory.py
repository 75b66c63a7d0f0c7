"""The gateway's in-memory directory of devices: type, parent and commune by asset id.

Every message needs it, so it lives in memory (100,000 devices take a few tens of MB)
and follows the registry by re-reading what changed since the last look; a device it does
not know yet is looked up at once (:meth:`DeviceDirectory.learn`), so the first messages of
a device registered a moment ago are not lost.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from beffroi.assets import queries
from beffroi.assets.lifecycle import AssetStatus
from beffroi.catalogue import CATALOGUE
from beffroi.db import Database
from beffroi.devices import topics
from beffroi.telemetry.decode import DeviceInfo, Reason, Rejection


class DeviceDirectory(Mapping[str, DeviceInfo]):
    """Devices the gateway accepts messages from (decommissioned ones are left out)."""

    def __init__(self) -> None:
        self._devices: dict[str, DeviceInfo] = {}
        self._children: dict[str, set[str]] = {}
        self._seen_until: datetime | None = None

    def __getitem__(self, asset_id: str) -> DeviceInfo:
        return self._devices[asset_id]

    def get(self, asset_id: str, default: DeviceInfo | None = None) -> DeviceInfo | None:  # type: ignore[override]
        """The device, or ``default``: straight from the dictionary (every child of every
        bulk message is looked up; Mapping's own ``get`` goes through ``__getitem__``)."""
        return self._devices.get(asset_id, default)

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
        changed = 0
        async with db.read() as session:
            async for row in queries.changed_since(session, self._seen_until):
                self._file(row)
                changed += 1
                self._seen_until = row.updated_at
        return changed

    async def learn(self, db: Database, asset_ids: Iterable[str]) -> int:
        """Look up devices the directory does not know (registered since its last
        refresh), so their first messages are stored rather than dropped; returns how
        many it learnt. One query whatever the number of ids."""
        wanted = {a for a in asset_ids if a not in self._devices}
        if not wanted:
            return 0
        async with db.read() as session:
            rows = await queries.directory_rows(session, wanted)
        return sum(self._file(row) for row in rows)

    def _file(self, row: queries.DirectoryRow) -> bool:
        spec = CATALOGUE.get(row.type)
        if row.status == AssetStatus.DECOMMISSIONED or spec is None:
            self.remove(row.id)
            return False
        # Interned strings: the same parent and commune names are shared.
        parent = sys.intern(row.parent_id) if row.parent_id else None
        self.put(row.id, DeviceInfo(spec, parent, sys.intern(row.commune)))
        return True


def unknown_senders(rejections: Iterable[Rejection], root: str) -> set[str]:
    """The devices named by messages rejected as coming from an unknown device."""
    found = set()
    for rejection in rejections:
        if rejection.reason is Reason.UNKNOWN_DEVICE:
            parsed = topics.parse(rejection.topic, root)
            if parsed is not None:
                found.add(parsed.device_id)
    return found
