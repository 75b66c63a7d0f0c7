"""Routes of the rules area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from beffroi.catalogue import CATALOGUE
from beffroi.http.deps import Ctx
from beffroi.http.params import choice
from beffroi.rules import editing, reading
from beffroi.rules.conditions import RuleKind
from beffroi.rules.schemas import RuleAction, RuleCreate, RuleOut, RuleUpdate, RuleVersionOut

router = APIRouter(tags=["rules"])

RuleId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Rule id")]
NoAction = Annotated[RuleAction, Body(default_factory=RuleAction)]


@router.get("/rules")
async def list_rules(
    ctx: Ctx,
    asset_type: Annotated[
        str | None, choice("asset_type", CATALOGUE.keys_sorted, "Equipment type")
    ],
    kind: RuleKind | None = None,
    enabled: bool | None = None,
) -> list[RuleOut]:
    """The monitoring rules that apply to your communes."""
    return await reading.list_rules(ctx, asset_type=asset_type, kind=kind, enabled=enabled)


@router.post("/rules", status_code=status.HTTP_201_CREATED)
async def create_rule(ctx: Ctx, body: RuleCreate) -> RuleOut:
    """Create a monitoring rule; its params are checked against its kind and the
    equipment catalogue."""
    return await editing.create_rule(ctx, body)


@router.get("/rules/{rule_id}")
async def get_rule(ctx: Ctx, rule_id: RuleId) -> RuleOut:
    """One monitoring rule, with its error if the engine disabled it."""
    return await reading.get_rule(ctx, rule_id)


@router.put("/rules/{rule_id}")
async def update_rule(ctx: Ctx, rule_id: RuleId, body: RuleUpdate) -> RuleOut:
    """Replace a rule's definition; ``version`` must be the current one (else 409)."""
    return await editing.update_rule(ctx, rule_id, body)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule(
    ctx: Ctx,
    rule_id: RuleId,
    version: Annotated[int | None, Query(ge=1, description="The version seen")] = None,
    reason: Annotated[str | None, Query(min_length=1, max_length=2000)] = None,
) -> Response:
    """Delete a rule; the alarms it holds active are cleared."""
    await editing.delete_rule(ctx, rule_id, version, reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/rules/{rule_id}/versions")
async def rule_versions(ctx: Ctx, rule_id: RuleId) -> list[RuleVersionOut]:
    """Every saved version of a rule, oldest first."""
    return await reading.rule_versions(ctx, rule_id)


@router.post("/rules/{rule_id}/enable")
async def enable_rule(ctx: Ctx, rule_id: RuleId, body: NoAction) -> RuleOut:
    """Enable a rule again, after the engine disabled it for an error."""
    return await editing.enable_rule(ctx, rule_id, body)
