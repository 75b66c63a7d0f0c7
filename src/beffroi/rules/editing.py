"""Changing monitoring rules by hand: create, update, enable, delete.

Every change keeps a version (``rule_versions``) and an audit entry with the old and the
new definition. A change to what a rule watches forgets its states and clears the alarms
it holds: nothing else would ever clear them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import raising
from beffroi.catalogue import CATALOGUE
from beffroi.communes.service import resolve_codes
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.rules import states
from beffroi.rules.conditions import RuleKind
from beffroi.rules.events import RuleChanged
from beffroi.rules.models import MonitoringRule
from beffroi.rules.params import param_errors
from beffroi.rules.records import (
    commune_of,
    load,
    refuse_stale,
    require_scope,
    save_version,
    touch,
)
from beffroi.rules.schemas import RuleAction, RuleCreate, RuleOut, RuleUpdate

# What a rule watches: changing any of these starts it afresh.
_WATCHED = ("kind", "asset_type", "communes", "params", "alarm_type")
TARGET = "rule"


async def _checked(session: AsyncSession, ctx: Context, body: RuleCreate) -> list[str] | None:
    """Validate a definition against the catalogue and the communes; returns the commune
    codes (``None``: all). Nothing is written before this passes."""
    errors: list[FieldError] = []
    spec = CATALOGUE.get(body.asset_type)
    if spec is None:
        known = CATALOGUE.keys_sorted
        errors.append(FieldError("asset_type", f"unknown type {body.asset_type!r}; known: {known}"))
    else:
        errors += param_errors(body.kind, spec, body.params)
    codes: list[str] | None = None
    if body.communes is not None:
        if not body.communes:
            errors.append(FieldError("communes", "name at least one commune, or null for all"))
        else:
            try:
                codes = await resolve_codes(session, body.communes, "communes")
            except InvalidInput as exc:
                errors += exc.errors
    if errors:
        raise InvalidInput(errors)
    require_scope(ctx.principal, codes)
    return codes


async def _key_free(session: AsyncSession, key: str, rule_id: int | None = None) -> None:
    found = await session.scalar(select(MonitoringRule.id).where(MonitoringRule.key == key))
    if found is not None and found != rule_id:
        raise Conflict(f"rule {found} already has the key {key!r}", rule_id=found)


async def create_rule(ctx: Context, body: RuleCreate) -> RuleOut:
    """Store a new rule (version 1). The gateways evaluate it from their next refresh."""
    # Until it has an id, a refused rule is named by its key.
    async with change(ctx, "rule.create", target_type=TARGET, target_id=body.key) as uc:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        codes = await _checked(uc.session, ctx, body)
        await _key_free(uc.session, body.key)
        row = MonitoringRule(
            key=body.key,
            name=body.name,
            kind=body.kind.value,
            asset_type=body.asset_type,
            communes=codes,
            params=body.params,
            alarm_type=body.alarm_type or f"rule:{body.key}",
            severity=body.severity.value,
            enabled=body.enabled,
            version=1,
            created_at=now,
            created_by=ctx.principal.name,
            updated_at=now,
            updated_by=ctx.principal.name,
        )
        uc.session.add(row)
        await uc.session.flush()
        save_version(uc.session, row, ctx.principal.name, now)
        uc.audit(
            target_id=row.id,
            commune=commune_of(codes),
            reason=body.reason,
            details={"before": None, "after": row.definition()},
        )
        uc.publish(RuleChanged(row.id, row.key, "created", 1, row.enabled, now))
    return RuleOut.model_validate(row)


async def update_rule(ctx: Context, rule_id: int, body: RuleUpdate) -> RuleOut:
    """Replace a rule's definition, if ``body.version`` is still the current one."""
    async with change(ctx, "rule.update", target_type=TARGET, target_id=rule_id) as uc:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        row = await load(uc.session, ctx, rule_id, lock=True)
        require_scope(ctx.principal, row.communes)
        refuse_stale(row, body.version)
        codes = await _checked(uc.session, ctx, body)
        await _key_free(uc.session, body.key, rule_id)
        before = row.definition()
        after = {
            **before,
            "key": body.key,
            "name": body.name,
            "kind": body.kind.value,
            "asset_type": body.asset_type,
            "communes": codes,
            "params": body.params,
            "alarm_type": body.alarm_type or f"rule:{body.key}",
            "severity": body.severity.value,
            "enabled": body.enabled,
        }
        signals = []
        if not body.enabled or any(before[f] != after[f] for f in _WATCHED):
            signals = await states.reset(uc.session, row, now, "rule changed")
        for name, value in after.items():
            setattr(row, name, value)
        if body.enabled:
            row.error, row.errored_at = None, None
        touch(row, ctx.principal.name, now)
        save_version(uc.session, row, ctx.principal.name, now)
        uc.publish(*await raising.apply(uc.session, signals, now))
        uc.audit(
            commune=commune_of(codes),
            reason=body.reason,
            details={"before": before, "after": row.definition(), "version": row.version},
        )
        uc.publish(RuleChanged(row.id, row.key, "updated", row.version, row.enabled, now))
    return RuleOut.model_validate(row)


async def enable_rule(ctx: Context, rule_id: int, body: RuleAction) -> RuleOut:
    """Enable a rule again (after the engine disabled it, or a person did). Its
    definition must still be valid against the catalogue."""
    async with change(ctx, "rule.enable", target_type=TARGET, target_id=rule_id) as uc:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        row = await load(uc.session, ctx, rule_id, lock=True)
        require_scope(ctx.principal, row.communes)
        refuse_stale(row, body.version)
        if row.enabled:
            raise Conflict(f"rule {rule_id} is already enabled", current_version=row.version)
        spec = CATALOGUE.get(row.asset_type)
        errors = (
            param_errors(RuleKind(row.kind), spec, row.params)
            if spec is not None
            else [FieldError("asset_type", f"unknown type {row.asset_type!r}")]
        )
        if errors:
            raise InvalidInput(errors)
        before = row.definition() | {"error": row.error}
        row.enabled, row.error, row.errored_at = True, None, None
        touch(row, ctx.principal.name, now)
        save_version(uc.session, row, ctx.principal.name, now)
        uc.audit(
            commune=commune_of(row.communes),
            reason=body.reason,
            details={"before": before, "after": row.definition(), "version": row.version},
        )
        uc.publish(RuleChanged(row.id, row.key, "enabled", row.version, True, now))
    return RuleOut.model_validate(row)


async def delete_rule(
    ctx: Context, rule_id: int, version: int | None = None, reason: str | None = None
) -> None:
    """Delete a rule; the alarms it holds active are cleared. Its versions are kept."""
    async with change(ctx, "rule.delete", target_type=TARGET, target_id=rule_id) as uc:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        row = await load(uc.session, ctx, rule_id, lock=True)
        require_scope(ctx.principal, row.communes)
        refuse_stale(row, version)
        signals = await states.reset(uc.session, row, now, "rule deleted")
        uc.publish(*await raising.apply(uc.session, signals, now))
        before = row.definition()
        key, current = row.key, row.version
        await uc.session.delete(row)
        uc.audit(
            commune=commune_of(before["communes"]),
            reason=reason,
            details={"before": before, "after": None, "version": current},
        )
        uc.publish(RuleChanged(rule_id, key, "deleted", current, False, now))
