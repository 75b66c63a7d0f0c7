"""Routes of asset groups."""

from __future__ import annotations

from fastapi import APIRouter, status

from beffroi.assets import groups
from beffroi.assets.schemas import GroupCreate, GroupOut, GroupUpdate
from beffroi.http.deps import Ctx, RowId

router = APIRouter(prefix="/groups", tags=["groups"])


@router.get("")
async def list_groups(ctx: Ctx) -> list[GroupOut]:
    """Groups in your scope."""
    return await groups.list_groups(ctx)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_group(ctx: Ctx, body: GroupCreate) -> GroupOut:
    """Create a group by list of assets or by polygon."""
    return await groups.create_group(ctx, body)


@router.get("/{group_id}")
async def get_group(ctx: Ctx, group_id: RowId) -> GroupOut:
    """One group."""
    return await groups.get_group(ctx, group_id)


@router.get("/{group_id}/members")
async def group_members(ctx: Ctx, group_id: RowId) -> list[str]:
    """Ids of the group's members in your scope."""
    return await groups.group_member_ids(ctx, group_id)


@router.patch("/{group_id}")
async def update_group(ctx: Ctx, group_id: RowId, body: GroupUpdate) -> GroupOut:
    """Rename a group, change its members or its polygon."""
    return await groups.update_group(ctx, group_id, body)


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(ctx: Ctx, group_id: RowId) -> None:
    """Delete a group (its assets stay)."""
    await groups.delete_group(ctx, group_id)
