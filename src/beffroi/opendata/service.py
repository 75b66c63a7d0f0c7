"""Use cases of the open data area that change state: a dataset refreshed into a new
snapshot, old snapshots pruned. API keys are in :mod:`beffroi.opendata.keys`.

A refresh builds the rows in a read session (a big dataset must not hold the write
lock), writes the Parquet file under a new version, then records the snapshot, audited,
in one transaction; the files of the snapshots it prunes go once that has committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import delete, func, select

from beffroi.core.context import Context
from beffroi.core.errors import NotFound, PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.opendata.datasets import BY_ID
from beffroi.opendata.models import OpendataSnapshot
from beffroi.opendata.privacy import publishable
from beffroi.opendata.spec import BuildContext, Dataset
from beffroi.opendata.store import store_of


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A published version of a dataset."""

    dataset: str
    version: int
    created_at: datetime
    row_count: int
    sha256: str
    size: int


def require_manager(ctx: Context) -> None:
    """Open data is the metropolis's: managing it needs ``opendata:manage`` and
    metropolis-wide scope."""
    ctx.principal.require(Permission.OPENDATA_MANAGE)
    if not ctx.principal.all_communes:
        raise PermissionDenied("managing open data needs metropolis-wide scope")


def dataset_of(dataset_id: str) -> Dataset:
    """The published dataset of that id, or :class:`NotFound`."""
    ds = BY_ID.get(dataset_id)
    if ds is None:
        raise NotFound(f"no dataset {dataset_id!r}")
    return ds


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """``frame`` as a Parquet file (zstd, with statistics for readers that filter)."""
    out = io.BytesIO()
    frame.write_parquet(out, compression="zstd", statistics=True)
    return out.getvalue()


async def build(ctx: Context, ds: Dataset) -> pl.DataFrame:
    """The frame ``ds`` publishes now: its query over the hub's data, through the
    privacy rule."""
    settings = ctx.settings
    build_ctx = BuildContext(utcnow(), settings.timezone, settings.opendata_history_days)
    async with ctx.db.read() as session:
        rows = await ds.build(session, build_ctx)
    return publishable(ds, rows, settings.timezone)


async def refresh(ctx: Context, dataset_id: str) -> Snapshot:
    """Build ``dataset_id`` now into a new snapshot, and keep only the newest
    ``BEFFROI_OPENDATA_KEEP``."""
    action = "opendata.refresh"
    try:
        require_manager(ctx)
        ds = dataset_of(dataset_id)
    except (PermissionDenied, NotFound):
        # Refused before any work, and audited as every refusal is.
        async with change(ctx, action, target_type="dataset", target_id=dataset_id):
            require_manager(ctx)
            dataset_of(dataset_id)
        raise
    frame = await build(ctx, ds)
    data = parquet_bytes(frame)
    digest = hashlib.sha256(data).hexdigest()
    store = store_of(ctx.settings)
    keep = ctx.settings.opendata_keep
    async with change(ctx, action, target_type="dataset", target_id=ds.id) as uc:
        require_manager(ctx)
        session = uc.session
        newest = await session.scalar(
            select(func.max(OpendataSnapshot.version)).where(OpendataSnapshot.dataset == ds.id)
        )
        version = (newest or 0) + 1
        await asyncio.to_thread(store.write, ds.id, version, data)
        row = OpendataSnapshot(
            dataset=ds.id,
            version=version,
            created_at=utcnow(),
            row_count=frame.height,
            sha256=digest,
            size=len(data),
        )
        session.add(row)
        pruned = list(
            (
                await session.scalars(
                    select(OpendataSnapshot.version).where(
                        OpendataSnapshot.dataset == ds.id,
                        OpendataSnapshot.version <= version - keep,
                    )
                )
            ).all()
        )
        if pruned:
            await session.execute(
                delete(OpendataSnapshot).where(
                    OpendataSnapshot.dataset == ds.id, OpendataSnapshot.version.in_(pruned)
                )
            )
        uc.audit(
            details={"version": version, "rows": frame.height, "sha256": digest, "pruned": pruned}
        )
    for old in pruned:
        await asyncio.to_thread(store.delete, ds.id, old)
    return Snapshot(ds.id, version, row.created_at, row.row_count, digest, len(data))


async def refresh_all(ctx: Context, dataset_ids: list[str] | None = None) -> list[Snapshot]:
    """Refresh each of ``dataset_ids`` (all, without), one after the other."""
    return [await refresh(ctx, i) for i in dataset_ids or list(BY_ID)]
