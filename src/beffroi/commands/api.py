"""Routes of remote commands and group commands."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status

from beffroi.catalogue import CATALOGUE
from beffroi.commands import service
from beffroi.commands.lifecycle import CommandState
from beffroi.commands.schemas import (
    BatchCreate,
    BatchOut,
    CommandCreate,
    CommandDetail,
    CommandOut,
    CommandPage,
    Decision,
)
from beffroi.http.deps import Ctx
from beffroi.http.params import PageLimit, choice, enum_list

router = APIRouter(tags=["commands"])

Id = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,32}$", description="Command or batch id")]
NoDecision = Annotated[Decision, Body(default_factory=Decision)]
States = Annotated[list[CommandState], enum_list("state", CommandState, "States")]
# Every command name of the catalogue, whatever the type.
_NAMES = sorted({c.name for spec in CATALOGUE.values() for c in spec.commands})
Name = Annotated[str | None, choice("name", _NAMES, "Command name")]


@router.post("/commands", status_code=status.HTTP_201_CREATED)
async def send_command(ctx: Ctx, body: CommandCreate) -> CommandOut:
    """Send a command to one asset. Critical commands need a reason and, with the
    four-eyes rule, a supervisor's approval before they leave."""
    return await service.send_command(ctx, body)


@router.get("/commands")
async def list_commands(
    ctx: Ctx,
    states: States,
    name: Name,
    asset_id: Annotated[str | None, Query(max_length=64)] = None,
    batch_id: Annotated[str | None, Query(max_length=32)] = None,
    commune: Annotated[str | None, Query(max_length=100, description="Code or name")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> CommandPage:
    """Commands in your scope, newest first."""
    return await service.list_commands(
        ctx,
        asset_id=asset_id,
        batch_id=batch_id,
        states=states,
        name=name,
        commune=commune,
        cursor=cursor,
        limit=limit,
    )


@router.get("/commands/{command_id}")
async def get_command(ctx: Ctx, command_id: Id) -> CommandDetail:
    """One command with every transition: when, and who or what caused it."""
    return await service.get_command(ctx, command_id)


@router.post("/commands/{command_id}/approve")
async def approve_command(ctx: Ctx, command_id: Id, body: NoDecision) -> CommandOut:
    """Approve a critical command (a supervisor, not its requester)."""
    return await service.approve_command(ctx, command_id, body.reason)


@router.post("/commands/{command_id}/deny")
async def deny_command(ctx: Ctx, command_id: Id, body: Decision) -> CommandOut:
    """Refuse a critical command, with a reason."""
    return await service.deny_command(ctx, command_id, body.reason)


@router.post("/commands/{command_id}/cancel")
async def cancel_command(ctx: Ctx, command_id: Id, body: NoDecision) -> CommandOut:
    """Cancel a command that has not finished."""
    return await service.cancel_command(ctx, command_id, body.reason)


@router.get("/assets/{asset_id}/commands")
async def asset_commands(
    ctx: Ctx,
    asset_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> CommandPage:
    """The command history of one asset, newest first."""
    return await service.asset_history(ctx, asset_id, cursor=cursor, limit=limit)


@router.post("/command-batches", status_code=status.HTTP_201_CREATED)
async def create_batch(ctx: Ctx, body: BatchCreate) -> BatchOut:
    """One command to many assets of a type: by list, group, cabinet, commune, polygon or
    filter. One child command per target, all created or none."""
    return await service.create_batch(ctx, body)


@router.get("/command-batches")
async def list_batches(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[BatchOut]:
    """The newest group commands whose every target is in your scope."""
    return await service.list_batches(ctx, limit)


@router.get("/command-batches/{batch_id}")
async def get_batch(ctx: Ctx, batch_id: Id) -> BatchOut:
    """A group command and its live progress (children per state and verification)."""
    return await service.get_batch(ctx, batch_id)


@router.get("/command-batches/{batch_id}/commands")
async def batch_commands(
    ctx: Ctx,
    batch_id: Id,
    states: States,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> CommandPage:
    """The children of a group command, filtered by state."""
    return await service.batch_children(ctx, batch_id, states=states, cursor=cursor, limit=limit)


@router.post("/command-batches/{batch_id}/approve")
async def approve_batch(ctx: Ctx, batch_id: Id, body: NoDecision) -> BatchOut:
    """Approve a critical group command (a supervisor, not its requester)."""
    return await service.approve_batch(ctx, batch_id, body.reason)


@router.post("/command-batches/{batch_id}/deny")
async def deny_batch(ctx: Ctx, batch_id: Id, body: Decision) -> BatchOut:
    """Refuse a critical group command, with a reason."""
    return await service.deny_batch(ctx, batch_id, body.reason)


@router.post("/command-batches/{batch_id}/cancel")
async def cancel_batch(ctx: Ctx, batch_id: Id, body: NoDecision) -> BatchOut:
    """Cancel every child that has not finished."""
    return await service.cancel_batch(ctx, batch_id, body.reason)


@router.post("/command-batches/{batch_id}/retry", status_code=status.HTTP_201_CREATED)
async def retry_batch(ctx: Ctx, batch_id: Id, body: NoDecision) -> BatchOut:
    """A new group command to the children that failed, expired or were rejected."""
    return await service.retry_batch(ctx, batch_id, body.reason)
