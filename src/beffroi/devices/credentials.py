"""Device credentials: issue (and rotate), revoke, and verify them.

A device logs in to the broker (or posts over HTTP) with username = its asset id and a
random secret shown once when issued. Only a hash is stored, in Mosquitto's ``$7$``
format (PBKDF2-HMAC-SHA512, base64 salt and digest), so one stored value serves our own
checks (embedded broker, HTTP ingest) and is copied verbatim into Mosquitto's password file.

The hub's own broker account (``settings.mqtt_username``) is not a device: it is checked
by :func:`is_hub_login` against the configured password, never through this table.

This area reads four columns of the registry (id, commune, status, parent) straight from
``assets`` in the same SQL as the credentials: the credential is keyed by the asset id and
the bulk paths (36,000 devices) need the join. All such reads are in the "registry" section.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Insert, Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.accounts.principal import Permission
from beffroi.assets.models import Asset, AssetStatus
from beffroi.assets.validation import CHUNK
from beffroi.audit import service as audit
from beffroi.config import Settings
from beffroi.context import Context
from beffroi.db import Database
from beffroi.devices.models import DeviceCredential
from beffroi.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.timeutil import utcnow

# Iterations only slow down guessing a low-entropy password. A device secret is 256 random
# bits: no number of guesses per second makes a search feasible, so a low count is as safe
# as a high one and keeps each CONNECT (and issuing 36,000 secrets) cheap: ~13 µs a check.
DEVICE_ITERATIONS = 10
# The hub's password may be chosen by a person (BEFFROI_MQTT_PASSWORD): hash it slowly.
# The hub connects a handful of times a day, so ~90 ms per CONNECT costs nothing.
HUB_ITERATIONS = 100_000
SALT_BYTES = 12  # what mosquitto_passwd uses
SECRET_BYTES = 32  # 256 bits
HASH_PREFIX = "$7$"
# Hashing runs in a worker thread (hashlib releases the GIL), this many secrets at a time,
# so the event loop stays free and progress can be reported between chunks.
HASH_CHUNK = 2000
# A fixed hash checked against when the username is unknown, so a miss costs as much as a
# wrong secret and timing does not tell which usernames exist.
_DUMMY_SALT = b"beffroi-none"

ProgressCallback = Callable[[int, int], None]


# --- The $7$ hash format ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecretHash:
    """A parsed ``$7$<iterations>$<base64 salt>$<base64 sha512 digest>`` hash."""

    iterations: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, encoded: str) -> SecretHash:
        """Parse the Mosquitto ``$7$`` form; ``ValueError`` names what is wrong."""
        parts = encoded.split("$")
        if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
            raise ValueError("not a $7$ (PBKDF2-SHA512) hash")
        try:
            iterations = int(parts[2])
            salt = base64.b64decode(parts[3], validate=True)
            digest = base64.b64decode(parts[4], validate=True)
        except (ValueError, binascii.Error) as exc:
            raise ValueError(f"malformed $7$ hash: {exc}") from exc
        if iterations < 1 or not salt or len(digest) != hashlib.sha512().digest_size:
            raise ValueError("malformed $7$ hash: bad iterations, salt or digest length")
        return cls(iterations, salt, digest)

    def encode(self) -> str:
        """The Mosquitto password-file form."""
        salt = base64.b64encode(self.salt).decode()
        digest = base64.b64encode(self.digest).decode()
        return f"{HASH_PREFIX}{self.iterations}${salt}${digest}"

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` hashes to this digest (constant-time comparison)."""
        candidate = hashlib.pbkdf2_hmac("sha512", secret.encode(), self.salt, self.iterations)
        return hmac.compare_digest(candidate, self.digest)


def hash_secret(secret: str, *, iterations: int = DEVICE_ITERATIONS) -> str:
    """Hash ``secret`` with a fresh salt, in the ``$7$`` form Mosquitto 2 reads."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
    return SecretHash(iterations, salt, digest).encode()


def check_secret(secret: str, encoded: str) -> bool:
    """Whether ``secret`` matches the ``$7$`` hash ``encoded``; a malformed hash never does."""
    try:
        parsed = SecretHash.parse(encoded)
    except ValueError:
        return False
    return parsed.matches(secret)


def new_secret() -> str:
    """A fresh device secret: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _burn_time(secret: str) -> None:
    hashlib.pbkdf2_hmac("sha512", secret.encode(), _DUMMY_SALT, DEVICE_ITERATIONS)


def is_hub_login(settings: Settings, username: str, password: str) -> bool:
    """Whether this is the hub's own broker account with its password.

    Kept apart from devices on purpose: the hub may read and write every topic, so its
    check must never depend on what the device table holds.
    """
    if not hmac.compare_digest(username.encode(), settings.mqtt_username.encode()):
        return False
    return hmac.compare_digest(password.encode(), settings.hub_mqtt_password.encode())


# --- Reads of the registry --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    asset_id: str
    commune: str


def _live() -> ColumnElement[bool]:
    return Asset.status != AssetStatus.DECOMMISSIONED.value


async def _all_targets(session: AsyncSession, ctx: Context) -> list[_Target]:
    """Every asset in the caller's scope that is not decommissioned."""
    rows = await session.execute(
        select(Asset.id, Asset.commune_code)
        .where(ctx.principal.scope_clause(Asset.commune_code), _live())
        .where(Asset.id != ctx.settings.mqtt_username)
        .order_by(Asset.id)
    )
    return [_Target(row.id, row.commune_code) for row in rows]


async def _named_targets(session: AsyncSession, ctx: Context, ids: list[str]) -> list[_Target]:
    """The named assets; all must exist, be in scope and be live, else nothing is issued."""
    hub = ctx.settings.mqtt_username
    if hub in ids:
        raise InvalidInput(
            FieldError("asset_ids", f"{hub!r} is the hub's broker account, not a device")
        )
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(Asset.id, Asset.commune_code, Asset.status).where(
                Asset.id.in_(ids[start : start + CHUNK])
            )
        )
        found.update({row.id: (row.commune_code, row.status) for row in rows})
    # Outside the caller's scope reads as missing, like everywhere else in Beffroi.
    missing = [i for i in ids if i not in found or not ctx.principal.sees(found[i][0])]
    if missing:
        shown = ", ".join(repr(i) for i in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise NotFound(f"asset {shown}{more} not found")
    retired = [i for i in ids if found[i][1] == AssetStatus.DECOMMISSIONED.value]
    if retired:
        raise Conflict(f"asset {retired[0]!r} is decommissioned; it gets no credentials")
    return [_Target(i, found[i][0]) for i in ids]


async def _asset_commune(session: AsyncSession, ctx: Context, asset_id: str) -> str:
    commune = (
        await session.execute(select(Asset.commune_code).where(Asset.id == asset_id))
    ).scalar_one_or_none()
    if commune is None or not ctx.principal.sees(commune):
        raise NotFound(f"asset {asset_id!r} not found")
    return commune


def _active_credentials() -> Select[str, str]:
    """(asset_id, secret_hash) of every credential a broker should accept."""
    return (
        select(DeviceCredential.asset_id, DeviceCredential.secret_hash)
        .join(Asset, Asset.id == DeviceCredential.asset_id)
        .where(DeviceCredential.revoked_at.is_(None), _live())
    )


async def active_credentials(db: Database) -> list[tuple[str, str]]:
    """Every (asset_id, ``$7$`` hash) a broker should accept, by id: not revoked, and the
    asset not decommissioned. Used to write Mosquitto's password file."""
    async with db.read() as session:
        rows = await session.execute(_active_credentials().order_by(DeviceCredential.asset_id))
        return [(row.asset_id, row.secret_hash) for row in rows]


# --- Use cases ----------------------------------------------------------------------------


def _upsert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (asset_id) DO UPDATE: a rotation overwrites the row in place.

    One statement per batch whether the device had credentials or not; deleting first
    with ``IN (…)`` lists was measured at 13 s for 36,000 rows on PostgreSQL.
    """
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DeviceCredential)
    return stmt.on_conflict_do_update(
        index_elements=[DeviceCredential.asset_id],
        set_={
            "secret_hash": stmt.excluded.secret_hash,
            "created_at": stmt.excluded.created_at,
            "revoked_at": None,
        },
    )


def _hash_all(secrets_: Sequence[str]) -> list[str]:
    return [hash_secret(s) for s in secrets_]


async def issue_credentials(
    ctx: Context,
    asset_ids: Sequence[str] | None,
    *,
    on_progress: ProgressCallback | None = None,
) -> list[tuple[str, str]]:
    """Issue a new secret for each asset and return ``(asset_id, secret)`` pairs.

    ``None`` means every asset in the caller's scope that is not decommissioned. The
    secrets are returned once and never stored; issuing again for a device replaces its
    previous secret (rotation) and lifts a revocation. All or nothing: an unknown,
    out-of-scope or decommissioned id issues nothing. One audit entry per call, with counts.
    """
    ctx.principal.require(Permission.ASSET_WRITE)
    ids = None if asset_ids is None else list(dict.fromkeys(asset_ids))
    if ids is not None and not ids:
        raise InvalidInput(FieldError("asset_ids", "name at least one asset"))
    async with ctx.db.write() as session:
        targets = (
            await _all_targets(session, ctx)
            if ids is None
            else await _named_targets(session, ctx, ids)
        )
        total = len(targets)
        pairs: list[tuple[str, str]] = []
        rows: list[dict[str, object]] = []
        now = utcnow()
        for start in range(0, total, HASH_CHUNK):
            chunk = targets[start : start + HASH_CHUNK]
            plain = [new_secret() for _ in chunk]
            hashes = await asyncio.to_thread(_hash_all, plain)
            for target, secret, hashed in zip(chunk, plain, hashes, strict=True):
                pairs.append((target.asset_id, secret))
                rows.append(
                    {
                        "asset_id": target.asset_id,
                        "secret_hash": hashed,
                        "created_at": now,
                        "revoked_at": None,
                    }
                )
            if on_progress:
                on_progress(start + len(chunk), total)
        existing = set((await session.execute(select(DeviceCredential.asset_id))).scalars())
        rotated = sum(1 for t in targets if t.asset_id in existing)
        if rows:
            await session.execute(_upsert(ctx.db.url.get_backend_name()), rows)
        communes = {t.commune for t in targets}
        await audit.record(
            session,
            ctx.principal,
            "device.credentials.issue",
            target_type="asset",
            target_id=targets[0].asset_id if total == 1 else None,
            commune=next(iter(communes)) if len(communes) == 1 else None,
            details={
                "issued": total,
                "rotated": rotated,
                "selection": "all in scope" if ids is None else "listed",
                "ids": [t.asset_id for t in targets[:20]],
            },
        )
    return pairs


async def revoke_credentials(ctx: Context, asset_id: str, reason: str | None = None) -> None:
    """Revoke a device's credentials: brokers refuse it from their next refresh or reload.

    ``NotFound`` when the asset is outside the caller's scope or has no active credentials.
    """
    ctx.principal.require(Permission.ASSET_WRITE)
    async with ctx.db.write() as session:
        commune = await _asset_commune(session, ctx, asset_id)
        ctx.principal.require_commune(commune)
        result = await session.execute(
            update(DeviceCredential)
            .where(DeviceCredential.asset_id == asset_id, DeviceCredential.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"asset {asset_id!r} has no active credentials")
        await audit.record(
            session,
            ctx.principal,
            "device.credentials.revoke",
            target_type="asset",
            target_id=asset_id,
            commune=commune,
            reason=reason,
        )


# --- Verification for brokers and HTTP ingest ---------------------------------------------


class CredentialCache:
    """Active device credentials and the parent/child links of gateways, in memory.

    Brokers and HTTP ingest check a login here without a database round trip: ``verify``
    costs one PBKDF2 (~13 µs) the first time a secret is seen and one HMAC-SHA256 after,
    as successful checks are remembered by a keyed digest of the secret (never the secret
    itself). Call :meth:`refresh` periodically; it reloads only when something changed.
    """

    def __init__(self) -> None:
        self._hashes: dict[str, str] = {}
        self._parents: dict[str, str] = {}
        self._children: dict[str, frozenset[str]] = {}
        # username -> (the stored hash it was checked against, keyed digest of the secret).
        # Bound to the stored hash, so a rotation or revocation voids it by itself.
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._memo_key = secrets.token_bytes(32)
        self._fingerprint: tuple[object, ...] | None = None
        self._lock = asyncio.Lock()
        self.checked_at = float("-inf")  # time.monotonic() of the last look at the database

    def __len__(self) -> int:
        return len(self._hashes)

    async def refresh(self, db: Database, *, force: bool = False) -> bool:
        """Reload from the database if anything changed (or ``force``); True if reloaded.

        A cheap fingerprint query (counts and latest changes) runs first, so calling this
        every few seconds on a 36,000-device city costs one small query when nothing moved.
        """
        async with self._lock:
            return await self._refresh(db, force=force)

    async def refresh_if_stale(self, db: Database, max_age_s: float) -> bool:
        """Refresh unless the database was looked at less than ``max_age_s`` ago.

        For unknown usernames: a storm of them triggers at most one refresh per interval.
        """
        if time.monotonic() - self.checked_at < max_age_s:
            return False
        async with self._lock:
            if time.monotonic() - self.checked_at < max_age_s:
                return False
            return await self._refresh(db, force=False)

    async def _refresh(self, db: Database, *, force: bool) -> bool:
        async with db.read() as session:
            fingerprint = await _fingerprint(session)
            self.checked_at = time.monotonic()
            if not force and fingerprint == self._fingerprint:
                return False
            hashes = {
                row.asset_id: row.secret_hash
                for row in await session.execute(_active_credentials())
            }
            links = (
                await session.execute(
                    select(Asset.id, Asset.parent_id).where(Asset.parent_id.is_not(None), _live())
                )
            ).all()
        parents = {row.id: row.parent_id for row in links}
        children: dict[str, set[str]] = {}
        for child, parent in parents.items():
            children.setdefault(parent, set()).add(child)
        self._hashes = hashes
        self._parents = parents
        self._children = {k: frozenset(v) for k, v in children.items()}
        self._verified = {
            user: memo for user, memo in self._verified.items() if hashes.get(user) == memo[0]
        }
        self._fingerprint = fingerprint
        return True

    def is_known(self, asset_id: str) -> bool:
        """Whether ``asset_id`` has active credentials (as of the last refresh)."""
        return asset_id in self._hashes

    def verify(self, username: str, password: str) -> bool:
        """Whether ``password`` is the active secret of device ``username``; constant-time."""
        stored = self._hashes.get(username)
        if stored is None:
            _burn_time(password)
            return False
        probe = hmac.new(self._memo_key, password.encode(), hashlib.sha256).digest()
        memo = self._verified.get(username)
        if memo is not None and memo[0] == stored and hmac.compare_digest(memo[1], probe):
            return True
        if not check_secret(password, stored):
            return False
        self._verified[username] = (stored, probe)
        return True

    def parent_of(self, asset_id: str) -> str | None:
        """The gateway (parent asset) of ``asset_id``, if it has one."""
        return self._parents.get(asset_id)

    def children_of(self, gateway_id: str) -> frozenset[str]:
        """The live assets whose parent is ``gateway_id``."""
        return self._children.get(gateway_id, frozenset())

    def is_child(self, gateway_id: str, device_id: str) -> bool:
        """Whether ``gateway_id`` may relay for ``device_id``: the hub's check on topics
        under ``gateways/{gateway_id}/devices/{device_id}/…`` (brokers only check the
        gateway prefix)."""
        return self._parents.get(device_id) == gateway_id


async def _fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """Changes whenever a credential is issued, rotated or revoked, or an asset changes
    status or parent (every asset change raises its version)."""
    credentials = (
        await session.execute(
            select(
                func.count(),
                func.count(DeviceCredential.revoked_at),
                func.max(DeviceCredential.created_at),
                func.max(DeviceCredential.revoked_at),
            )
        )
    ).one()
    assets = (
        await session.execute(
            select(
                func.count(), func.coalesce(func.sum(Asset.version), 0), func.max(Asset.updated_at)
            )
        )
    ).one()
    return (*credentials, *assets)


async def verify_device_secret(
    db: Database, asset_id: str, secret: str, *, cache: CredentialCache | None = None
) -> bool:
    """Whether ``secret`` is the active secret of device ``asset_id`` (HTTP device ingest).

    With a ``cache`` that knows the device, no query is made; otherwise the database is
    asked, so a device issued a moment ago is accepted at once.
    """
    if cache is not None and cache.is_known(asset_id):
        return cache.verify(asset_id, secret)
    async with db.read() as session:
        stored = (
            await session.execute(
                _active_credentials().where(DeviceCredential.asset_id == asset_id)
            )
        ).first()
    if stored is None:
        _burn_time(secret)
        return False
    return check_secret(secret, stored.secret_hash)
