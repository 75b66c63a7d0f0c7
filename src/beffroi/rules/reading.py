"""Reading monitoring rules: the list, one rule, its versions."""

from __future__ import annotations

from sqlalchemy import select

from beffroi.core.context import Context
from beffroi.core.principal import Permission
from beffroi.rules.conditions import RuleKind
from beffroi.rules.models import MonitoringRule, RuleVersion
from beffroi.rules.records import load, sees
from beffroi.rules.schemas import RuleOut, RuleVersionOut


async def list_rules(
    ctx: Context,
    *,
    asset_type: str | None = None,
    kind: RuleKind | None = None,
    enabled: bool | None = None,
) -> list[RuleOut]:
    """The rules the caller may see (metropolis-wide ones, and those limited to communes
    of the caller's scope), by id."""
    ctx.principal.require(Permission.ALARM_READ)
    stmt = select(MonitoringRule).order_by(MonitoringRule.id)
    if asset_type is not None:
        stmt = stmt.where(MonitoringRule.asset_type == asset_type)
    if kind is not None:
        stmt = stmt.where(MonitoringRule.kind == kind.value)
    if enabled is not None:
        stmt = stmt.where(MonitoringRule.enabled.is_(enabled))
    async with ctx.db.read() as session:
        rows = (await session.execute(stmt)).scalars().all()
    return [RuleOut.model_validate(r) for r in rows if sees(ctx.principal, r.communes)]


async def get_rule(ctx: Context, rule_id: int) -> RuleOut:
    """One rule."""
    ctx.principal.require(Permission.ALARM_READ)
    async with ctx.db.read() as session:
        return RuleOut.model_validate(await load(session, ctx, rule_id, lock=False))


async def rule_versions(ctx: Context, rule_id: int) -> list[RuleVersionOut]:
    """Every saved version of a rule, oldest first."""
    ctx.principal.require(Permission.ALARM_READ)
    async with ctx.db.read() as session:
        await load(session, ctx, rule_id, lock=False)
        rows = await session.execute(
            select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
        )
        return [RuleVersionOut.model_validate(v) for v in rows.scalars()]
