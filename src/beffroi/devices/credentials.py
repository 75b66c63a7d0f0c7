"""Device credentials: issue (and rotate), revoke, and check them.

Each change takes a number from :mod:`beffroi.devices.changes` and stamps it on the rows
it wrote, so running brokers apply it within a fraction of a second (and end the device's
open session); :func:`beffroi.devices.changes.wait_applied` tells a caller when they did.

This area reads four columns of the registry (id, commune, status, parent) straight from
``assets`` in the same SQL as the credentials: the credential is keyed by the asset id and
the bulk paths (36,000 devices) need the join.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as asset_queries
from beffroi.catalogue.visibility import in_view
from beffroi.config import Settings
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db import Database
from beffroi.db.upsert import upsert
from beffroi.devices import cache, changes
from beffroi.devices.models import DeviceCredential
from beffroi.devices.secrets import burn_time, check_secret, hash_all, new_secret

# Hashing runs in a worker thread (hashlib releases the GIL), this many secrets at a time,
# so the event loop stays free and progress can be reported between chunks.
HASH_CHUNK = 2000

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class _Target:
    asset_id: str
    commune: str


def reserved_names(settings: Settings) -> frozenset[str]:
    """MQTT identities of the hub: no device may be named after one. On Mosquitto a
    device's client id is its username, and a device named like a hub connection's client
    id would take that connection over."""
    client = settings.mqtt_client_id
    return frozenset({settings.mqtt_username, client, f"{client}-cmd", f"{client}-keeper"})


async def _all_targets(session: AsyncSession, ctx: Context) -> list[_Target]:
    """Every asset in the caller's scope that is not decommissioned."""
    found = await asset_queries.in_scope(
        session, ctx.principal, exclude=reserved_names(ctx.settings)
    )
    return [_Target(asset_id, commune) for asset_id, commune in found]


async def _named_targets(session: AsyncSession, ctx: Context, ids: list[str]) -> list[_Target]:
    """The named assets; all must exist, be in scope and be live, else nothing is issued."""
    reserved = sorted(set(ids) & reserved_names(ctx.settings))
    if reserved:
        raise InvalidInput(
            FieldError("asset_ids", f"{reserved[0]!r} is one of the hub's broker identities")
        )
    found = await asset_queries.facts(session, ids)
    # Outside the caller's scope reads as missing, like everywhere else in Beffroi.
    missing = [
        i
        for i in ids
        if i not in found or not in_view(ctx.principal, found[i].commune, found[i].type)
    ]
    if missing:
        shown = ", ".join(repr(i) for i in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise NotFound(f"asset {shown}{more} not found")
    retired = [i for i in ids if not found[i].live]
    if retired:
        raise Conflict(f"asset {retired[0]!r} is decommissioned; it gets no credentials")
    return [_Target(i, found[i].commune) for i in ids]


async def _asset_commune(session: AsyncSession, ctx: Context, asset_id: str) -> str:
    found = (await asset_queries.facts(session, [asset_id])).get(asset_id)
    if found is None or not in_view(ctx.principal, found.commune, found.type):
        raise NotFound(f"asset {asset_id!r} not found")
    return found.commune


async def active_credentials(db: Database) -> list[tuple[str, str]]:
    """Every (asset_id, ``$7$`` hash) a broker should accept, by id: not revoked, and the
    asset not decommissioned. Used to write Mosquitto's password file."""
    async with db.read() as session:
        return sorted((await cache.active_credentials(session)).items())


async def issue_credentials(
    ctx: Context,
    asset_ids: Sequence[str] | None,
    *,
    on_progress: ProgressCallback | None = None,
) -> list[tuple[str, str]]:
    """Issue a new secret for each asset and return ``(asset_id, secret)`` pairs.

    ``None`` means every asset in the caller's scope that is not decommissioned. The
    secrets are returned once and never stored; issuing again for a device replaces its
    previous secret (rotation: brokers end the session opened with the old one) and lifts
    a revocation. All or nothing: an unknown, out-of-scope or decommissioned id issues
    nothing. One audit entry per call, with counts.
    """
    ids = None if asset_ids is None else list(dict.fromkeys(asset_ids))
    selection = "all in scope" if ids is None else "listed"
    async with change(
        ctx,
        "device.credentials.issue",
        target_type="asset",
        target_id=ids[0] if ids is not None and len(ids) == 1 else None,
        refused_details={"selection": selection, "ids": (ids or [])[:20]},
    ) as uc:
        ctx.principal.require(Permission.ASSET_WRITE)
        if ids is not None and not ids:
            raise InvalidInput(FieldError("asset_ids", "name at least one asset"))
        session = uc.session
        targets = (
            await _all_targets(session, ctx)
            if ids is None
            else await _named_targets(session, ctx, ids)
        )
        total = len(targets)
        pairs: list[tuple[str, str]] = []
        hashes: list[str] = []
        for start in range(0, total, HASH_CHUNK):
            chunk = targets[start : start + HASH_CHUNK]
            plain = [new_secret() for _ in chunk]
            hashes += await asyncio.to_thread(hash_all, plain)
            pairs += [(t.asset_id, s) for t, s in zip(chunk, plain, strict=True)]
            if on_progress:
                on_progress(start + len(chunk), total)
        existing = set((await session.execute(select(DeviceCredential.asset_id))).scalars())
        seq = await changes.next_seq(session)
        now = utcnow()
        # INSERT … ON CONFLICT DO UPDATE: one statement per batch whether the device had
        # credentials or not (deleting first with IN lists took 13 s for 36,000 rows).
        await upsert(
            session,
            DeviceCredential,
            [
                {
                    "asset_id": t.asset_id,
                    "secret_hash": h,
                    "created_at": now,
                    "revoked_at": None,
                    "seq": seq,
                }
                for t, h in zip(targets, hashes, strict=True)
            ],
            keys=["asset_id"],
            update=["secret_hash", "created_at", "revoked_at", "seq"],
        )
        communes = {t.commune for t in targets}
        uc.audit(
            target_id=targets[0].asset_id if total == 1 else None,
            commune=next(iter(communes)) if len(communes) == 1 else None,
            details={
                "issued": total,
                "rotated": sum(1 for t in targets if t.asset_id in existing),
                "selection": selection,
                "ids": [t.asset_id for t in targets[:20]],
                "change": seq,
            },
        )
    return pairs


async def revoke_credentials(ctx: Context, asset_id: str, reason: str | None = None) -> None:
    """Revoke a device's credentials: every broker refuses it and ends its session as soon
    as it applies the change (see :func:`beffroi.devices.changes.wait_applied`).

    ``NotFound`` when the asset is outside the caller's scope or has no active credentials.
    """
    async with change(
        ctx, "device.credentials.revoke", target_type="asset", target_id=asset_id
    ) as uc:
        ctx.principal.require(Permission.ASSET_WRITE)
        commune = await _asset_commune(uc.session, ctx, asset_id)
        ctx.principal.require_commune(commune)
        seq = await changes.next_seq(uc.session)
        result = await uc.session.execute(
            update(DeviceCredential)
            .where(DeviceCredential.asset_id == asset_id, DeviceCredential.revoked_at.is_(None))
            .values(revoked_at=utcnow(), seq=seq)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"asset {asset_id!r} has no active credentials")
        uc.audit(commune=commune, reason=reason, details={"change": seq})


async def verify_device_secret(db: Database, asset_id: str, secret: str) -> bool:
    """Whether ``secret`` is the active secret of device ``asset_id``, as the database says
    now (HTTP device ingest: a rotation or revocation counts from its commit)."""
    async with db.read() as session:
        stored = (
            await session.execute(
                cache.active_credentials_query().where(DeviceCredential.asset_id == asset_id)
            )
        ).first()
        live = stored is not None and bool(await asset_queries.live_ids(session, [asset_id]))
    if stored is None or not live:
        burn_time(secret)
        return False
    return check_secret(secret, stored.secret_hash)
