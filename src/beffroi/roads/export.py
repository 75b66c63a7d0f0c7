"""The DATEX II publication of the road situations: what navigation services read.

Public (no login) as open data is: situations on public roads are meant to reach every
driver, and carry neither authors nor free text. Only active situations are published
(with ``planned=True`` the planned ones too, as the authorities publish works ahead).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Permission
from beffroi.roads import datex
from beffroi.roads.queries import Published, open_situations
from beffroi.roads.situation import IncidentKind, SituationType, Status

COUNTRY = "FR"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The publication's creator, as DATEX II names the supplier of the data.
NATIONAL_ID = "beffroi"


def record_of(row: Published) -> datex.Record:
    """A published situation as a DATEX II record."""
    return datex.Record(
        id=row.id,
        version=row.version,
        type=SituationType(row.type),
        status=Status(row.status),
        road=row.road,
        geometry=row.geometry,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        incident=IncidentKind(row.incident_kind) if row.incident_kind else None,
        road_closed=row.road_closed,
        lanes_closed=row.lanes_closed,
        speed_limit_kmh=row.speed_limit_kmh,
        delay_min=row.delay_min,
        detour=row.detour,
    )


async def published(runtime: Runtime, *, planned: bool = False) -> list[Published]:
    """The situations the publication carries."""
    async with runtime.db.read() as session:
        rows = await open_situations(session)
    wanted = {Status.ACTIVE.value, Status.PLANNED.value} if planned else {Status.ACTIVE.value}
    return [r for r in rows if r.status in wanted]


def etag_of(rows: list[Published], planned: bool) -> str:
    """A tag that changes when what is published changes (not with the clock)."""
    key = ",".join(f"{r.id}.{r.version}" for r in rows)
    return '"' + hashlib.sha256(f"{planned}|{key}".encode()).hexdigest()[:32] + '"'


def document(rows: list[Published]) -> bytes:
    """The SituationPublication of ``rows`` as UTF-8 XML.

    Its publication time is that of the newest change it carries (the epoch when it is
    empty), not the clock's: the same situations make the same document, which a
    client's cache and the ETag rely on."""
    root = datex.publication(
        (record_of(r) for r in rows),
        published_at=max((r.updated_at for r in rows), default=EPOCH),
        country=COUNTRY,
        national_id=NATIONAL_ID,
    )
    return datex.to_bytes(root)


async def datex_file(ctx: Context, *, planned: bool = False) -> bytes:
    """The publication for a signed-in person to save as a file (the same document as
    the public one: metropolis-wide, as published)."""
    ctx.principal.require(Permission.ASSET_READ)
    return document(await published(ctx.runtime, planned=planned))


async def write_datex(ctx: Context, target: Path, *, planned: bool = False) -> int:
    """Write the publication to ``target``, replaced whole so that a reader polling the
    file never sees half of it; returns its size."""
    body = await datex_file(ctx, planned=planned)
    await asyncio.to_thread(_replace, target, body)
    return len(body)


def _replace(target: Path, body: bytes) -> None:
    """Write beside the target, then rename over it (atomic on one file system)."""
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
