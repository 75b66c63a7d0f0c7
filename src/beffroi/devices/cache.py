"""Active device credentials, in memory, kept in step with the database.

The embedded broker checks every CONNECT and every PUBLISH here without a database round
trip. Two ways keep it current:

- :meth:`CredentialCache.catch_up`: the changes numbered above what it applied
  (:mod:`beffroi.devices.changes`), polled a few times a second: issues, rotations and
  revocations, each reported as a :class:`Change` so the broker can end sessions;
- :meth:`CredentialCache.refresh`: a full reload when a cheap fingerprint of the registry
  moved (an asset decommissioned), checked every few seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.db import Database
from beffroi.devices import changes
from beffroi.devices.models import DeviceCredential
from beffroi.devices.secrets import burn_time, check_secret


class ChangeKind(StrEnum):
    """What happened to a device's credentials since the cache last looked."""

    ISSUED = "issued"
    ROTATED = "rotated"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Change:
    """One device whose credentials changed: a session it holds may have to end."""

    asset_id: str
    kind: ChangeKind


def active_credentials_query() -> Select[str, str]:
    """(asset_id, secret_hash) of every credential not revoked (whose assets may include
    decommissioned ones: see :func:`active_credentials`)."""
    return select(DeviceCredential.asset_id, DeviceCredential.secret_hash).where(
        DeviceCredential.revoked_at.is_(None)
    )


async def active_credentials(session: AsyncSession) -> dict[str, str]:
    """asset_id -> ``$7$`` hash of every credential a broker should accept: not revoked,
    and its asset not decommissioned."""
    hashes = {
        row.asset_id: row.secret_hash for row in await session.execute(active_credentials_query())
    }
    live = await asset_queries.live_ids(session)
    return {asset_id: hashed for asset_id, hashed in hashes.items() if asset_id in live}


class CredentialCache:
    """Active credentials. ``verify`` costs one PBKDF2 (~13 µs) the first
    time a secret is seen and one HMAC-SHA256 after: successful checks are remembered by a
    keyed digest of the secret (never the secret itself), bound to the stored hash so a
    rotation or revocation voids them by itself."""

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._memo_key = secrets.token_bytes(32)
        self._fingerprint: tuple[object, ...] | None = None
        self._lock = asyncio.Lock()
        self.seq = 0  # the last credential change applied

    def __len__(self) -> int:
        return len(self._hashes)

    async def refresh(self, db: Database, *, force: bool = False) -> list[Change]:
        """Reload everything if the registry's fingerprint moved (or ``force``).

        Returns the devices whose credentials changed, as :meth:`catch_up` does.
        """
        async with self._lock:
            async with db.read() as session:
                fingerprint = await asset_queries.fingerprint(session)
                if not force and fingerprint == self._fingerprint:
                    return []
                # The head first: a change committed while the rows are read is read again
                # by the next catch-up, never missed.
                seq = await changes.head_in(session)
                hashes = await active_credentials(session)
            found = self._diff(hashes.items(), set(self._hashes) - set(hashes))
            self._hashes = hashes
            self._fingerprint = fingerprint
            self.seq = max(self.seq, seq)
            self._forget_memos()
            return found

    async def catch_up(self, db: Database) -> list[Change]:
        """Apply the credential changes numbered above :attr:`seq`; cheap when none."""
        async with self._lock:
            async with db.read() as session:
                seq = await changes.head_in(session)
                if seq <= self.seq:
                    return []
                rows = (
                    await session.execute(
                        select(
                            DeviceCredential.asset_id,
                            DeviceCredential.secret_hash,
                            DeviceCredential.revoked_at,
                        ).where(DeviceCredential.seq > self.seq)
                    )
                ).all()
                live = await asset_queries.live_ids(session, (r.asset_id for r in rows))
            valid = [r for r in rows if r.revoked_at is None and r.asset_id in live]
            active = [(r.asset_id, r.secret_hash) for r in valid]
            gone = {r.asset_id for r in rows} - {r.asset_id for r in valid}
            found = self._diff(active, gone)
            for asset_id, hashed in active:
                self._hashes[asset_id] = hashed
            for asset_id in gone:
                self._hashes.pop(asset_id, None)
            self.seq = seq
            self._forget_memos()
            return found

    def _diff(self, active: Iterable[tuple[str, str]], gone: Iterable[str]) -> list[Change]:
        found = [
            Change(asset_id, ChangeKind.ISSUED if old is None else ChangeKind.ROTATED)
            for asset_id, hashed in active
            if (old := self._hashes.get(asset_id)) != hashed
        ]
        found += [Change(a, ChangeKind.REVOKED) for a in sorted(gone) if a in self._hashes]
        return found

    def _forget_memos(self) -> None:
        self._verified = {
            user: memo for user, memo in self._verified.items() if self._hashes.get(user) == memo[0]
        }

    def active(self) -> list[tuple[str, str]]:
        """Every (asset_id, hash) a broker should accept, by id."""
        return sorted(self._hashes.items())

    def is_known(self, asset_id: str) -> bool:
        """Whether ``asset_id`` has active credentials (as of the last look)."""
        return asset_id in self._hashes

    def verify(self, username: str, password: str) -> bool:
        """Whether ``password`` is the active secret of device ``username``; constant-time."""
        stored = self._hashes.get(username)
        if stored is None:
            burn_time(password)
            return False
        probe = hmac.new(
            self._memo_key, password.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()
        memo = self._verified.get(username)
        if memo is not None and memo[0] == stored and hmac.compare_digest(memo[1], probe):
            return True
        if not check_secret(password, stored):
            return False
        self._verified[username] = (stored, probe)
        return True
