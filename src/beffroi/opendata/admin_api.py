"""Routes administering open data (login, ``opendata:manage``, metropolis-wide scope):
API keys handed out and revoked, a dataset refreshed now, snapshots listed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from beffroi.http.deps import Ctx, RowId
from beffroi.opendata import keys, service
from beffroi.opendata.reading import Published
from beffroi.opendata.schemas import KeyCreate, KeyCreated, KeyOut, SnapshotOut

router = APIRouter(prefix="/opendata", tags=["open data"])


@router.get("/keys")
async def list_keys(ctx: Ctx) -> list[KeyOut]:
    """Every open data API key handed out, revoked ones included."""
    return [KeyOut.model_validate(k) for k in await keys.list_keys(ctx)]


@router.post("/keys", status_code=201)
async def create_key(ctx: Ctx, body: KeyCreate) -> KeyCreated:
    """Hand out a key (raises its holder's rate limit); the key is shown this once."""
    row, key = await keys.create_key(ctx, body.name)
    return KeyCreated(**KeyOut.model_validate(row).model_dump(), key=key)


@router.delete("/keys/{key_id}")
async def revoke_key(ctx: Ctx, key_id: RowId) -> KeyOut:
    """Revoke a key (its holder falls back to the limit of anyone)."""
    return KeyOut.model_validate(await keys.revoke_key(ctx, key_id))


@router.post("/datasets/{dataset_id}/refresh", status_code=201)
async def refresh(
    request: Request,
    ctx: Ctx,
    dataset_id: Annotated[str, Path(max_length=64, description="Dataset identifier")],
) -> SnapshotOut:
    """Build a dataset's snapshot now (as its schedule would)."""
    snapshot = await service.refresh(ctx, dataset_id)
    published: Published | None = getattr(request.app.state, "opendata", None)
    if published is not None:
        published.forget()
    return SnapshotOut.model_validate(snapshot)
