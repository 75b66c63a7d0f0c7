"""Use cases of monitoring rules: create, change, enable, delete, read; and the engine's
disabling of a rule that failed.

Every change keeps a version (``rule_versions``) and an audit entry with the old and the
new definition. A change to what a rule watches forgets its states and clears the alarms
it holds: nothing else would ever clear them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import raising
from beffroi.catalogue import CATALOGUE, Severity
from beffroi.communes.service import resolve_codes
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from beffroi.core.events import DomainEvent
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.rules import states
from beffroi.rules.conditions import RuleKind
from beffroi.rules.events import RuleChanged, RuleDisabled
from beffroi.rules.models import MonitoringRule, RuleVersion
from beffroi.rules.params import param_errors
from beffroi.rules.schemas import RuleAction, RuleCreate, RuleOut, RuleUpdate, RuleVersionOut

T = TypeVar("T")
ENGINE = "system:rules-engine"
log = structlog.get_logger(__name__)
# What a rule watches: changing any of these starts it afresh.
_WATCHED = ("kind", "asset_type", "communes", "params", "alarm_type")


def to_out(row: MonitoringRule) -> RuleOut:
    """The API shape of a rule row."""
    return RuleOut(
        id=row.id,
        key=row.key,
        name=row.name,
        kind=RuleKind(row.kind),
        asset_type=row.asset_type,
        communes=row.communes,
        params=row.params,
        alarm_type=row.alarm_type,
        severity=Severity(row.severity),
        enabled=row.enabled,
        error=row.error,
        errored_at=row.errored_at,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _sees(principal: Principal, communes: Sequence[str] | None) -> bool:
    """A metropolis-wide rule is visible to all (it names no commune); a rule limited to
    communes, to whoever sees them all (as a group command is): its list would otherwise
    show communes outside the reader's scope."""
    return communes is None or principal.covers(communes)


def _require_scope(principal: Principal, communes: Sequence[str] | None) -> None:
    if not principal.covers(communes):
        where = f"communes {sorted(communes)}" if communes is not None else "every commune"
        raise PermissionDenied(
            f"a rule applying to {where} is outside the scope of {principal.name}"
        )


def _commune(communes: Sequence[str] | None) -> str | None:
    """The commune an audit entry is filed under: the rule's only one, if so."""
    return communes[0] if communes is not None and len(communes) == 1 else None


async def _load(session: AsyncSession, ctx: Context, rule_id: int, *, lock: bool) -> MonitoringRule:
    stmt = select(MonitoringRule).where(MonitoringRule.id == rule_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None or not _sees(ctx.principal, row.communes):
        raise NotFound(f"rule {rule_id} not found")
    return row


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
    _require_scope(ctx.principal, codes)
    return codes


async def _key_free(session: AsyncSession, key: str, rule_id: int | None = None) -> None:
    found = await session.scalar(select(MonitoringRule.id).where(MonitoringRule.key == key))
    if found is not None and found != rule_id:
        raise Conflict(f"rule {found} already has the key {key!r}", rule_id=found)


def _save_version(session: AsyncSession, row: MonitoringRule, by: str, now: datetime) -> None:
    session.add(
        RuleVersion(
            rule_id=row.id,
            version=row.version,
            definition=row.definition(),
            changed_by=by,
            changed_at=now,
        )
    )


def _stale(row: MonitoringRule, version: int | None) -> None:
    if version is not None and version != row.version:
        raise Conflict(
            f"rule {row.id} is at version {row.version}, not {version}",
            current_version=row.version,
        )


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
    return [to_out(r) for r in rows if _sees(ctx.principal, r.communes)]


async def get_rule(ctx: Context, rule_id: int) -> RuleOut:
    """One rule."""
    ctx.principal.require(Permission.ALARM_READ)
    async with ctx.db.read() as session:
        return to_out(await _load(session, ctx, rule_id, lock=False))


async def rule_versions(ctx: Context, rule_id: int) -> list[RuleVersionOut]:
    """Every saved version of a rule, oldest first."""
    ctx.principal.require(Permission.ALARM_READ)
    async with ctx.db.read() as session:
        await _load(session, ctx, rule_id, lock=False)
        rows = await session.execute(
            select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
        )
        return [
            RuleVersionOut(
                version=v.version,
                definition=v.definition,
                changed_by=v.changed_by,
                changed_at=v.changed_at,
            )
            for v in rows.scalars()
        ]


async def create_rule(ctx: Context, body: RuleCreate) -> RuleOut:
    """Store a new rule (version 1). The gateways evaluate it from their next refresh."""

    async def run() -> RuleOut:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        async with ctx.db.write() as session:
            codes = await _checked(session, ctx, body)
            await _key_free(session, body.key)
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
            session.add(row)
            await session.flush()
            _save_version(session, row, ctx.principal.name, now)
            await audit.record(
                session,
                ctx.principal,
                "rule.create",
                target_type="rule",
                target_id=str(row.id),
                commune=_commune(codes),
                reason=body.reason,
                details={"before": None, "after": row.definition()},
            )
        ctx.runtime.events.publish(RuleChanged(row.id, row.key, "created", 1, row.enabled, now))
        return to_out(row)

    return await audit.refused(ctx, "rule.create", run, target_type="rule", target_id=body.key)


async def update_rule(ctx: Context, rule_id: int, body: RuleUpdate) -> RuleOut:
    """Replace a rule's definition, if ``body.version`` is still the current one."""

    async def run() -> RuleOut:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        async with ctx.db.write() as session:
            row = await _load(session, ctx, rule_id, lock=True)
            _require_scope(ctx.principal, row.communes)
            _stale(row, body.version)
            codes = await _checked(session, ctx, body)
            await _key_free(session, body.key, rule_id)
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
                signals = await states.reset(session, row, now, "rule changed")
            for name, value in after.items():
                setattr(row, name, value)
            if body.enabled:
                row.error, row.errored_at = None, None
            _touch(row, ctx.principal.name, now)
            _save_version(session, row, ctx.principal.name, now)
            events = await raising.apply(session, signals, now)
            await audit.record(
                session,
                ctx.principal,
                "rule.update",
                target_type="rule",
                target_id=str(row.id),
                commune=_commune(codes),
                reason=body.reason,
                details={"before": before, "after": row.definition(), "version": row.version},
            )
        ctx.runtime.events.publish_many(events)
        ctx.runtime.events.publish(
            RuleChanged(row.id, row.key, "updated", row.version, row.enabled, now)
        )
        return to_out(row)

    return await audit.refused(ctx, "rule.update", run, target_type="rule", target_id=str(rule_id))


def _touch(row: MonitoringRule, by: str, now: datetime) -> None:
    row.version += 1
    row.updated_at = now
    row.updated_by = by


async def enable_rule(ctx: Context, rule_id: int, body: RuleAction) -> RuleOut:
    """Enable a rule again (after the engine disabled it, or a person did). Its
    definition must still be valid against the catalogue."""

    async def run() -> RuleOut:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        async with ctx.db.write() as session:
            row = await _load(session, ctx, rule_id, lock=True)
            _require_scope(ctx.principal, row.communes)
            _stale(row, body.version)
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
            _touch(row, ctx.principal.name, now)
            _save_version(session, row, ctx.principal.name, now)
            await audit.record(
                session,
                ctx.principal,
                "rule.enable",
                target_type="rule",
                target_id=str(row.id),
                commune=_commune(row.communes),
                reason=body.reason,
                details={"before": before, "after": row.definition(), "version": row.version},
            )
        ctx.runtime.events.publish(RuleChanged(row.id, row.key, "enabled", row.version, True, now))
        return to_out(row)

    return await audit.refused(ctx, "rule.enable", run, target_type="rule", target_id=str(rule_id))


async def delete_rule(
    ctx: Context, rule_id: int, version: int | None = None, reason: str | None = None
) -> None:
    """Delete a rule; the alarms it holds active are cleared. Its versions are kept."""

    async def run() -> None:
        ctx.principal.require(Permission.RULE_WRITE)
        now = utcnow()
        async with ctx.db.write() as session:
            row = await _load(session, ctx, rule_id, lock=True)
            _require_scope(ctx.principal, row.communes)
            _stale(row, version)
            signals = await states.reset(session, row, now, "rule deleted")
            events = await raising.apply(session, signals, now)
            before = row.definition()
            key, current = row.key, row.version
            await session.delete(row)
            await audit.record(
                session,
                ctx.principal,
                "rule.delete",
                target_type="rule",
                target_id=str(rule_id),
                commune=_commune(before["communes"]),
                reason=reason,
                details={"before": before, "after": None, "version": current},
            )
        ctx.runtime.events.publish_many(events)
        ctx.runtime.events.publish(RuleChanged(rule_id, key, "deleted", current, False, now))

    await audit.refused(ctx, "rule.delete", run, target_type="rule", target_id=str(rule_id))


async def disable_after_error(
    db: Database, failed: Sequence[tuple[int, str]], now: datetime
) -> list[DomainEvent]:
    """Disable rules whose evaluation failed, with their error; clear the alarms they
    hold. Rules already disabled (by another gateway, say) are left alone. Returns the
    hub events."""
    errors: dict[int, str] = {}
    for rule_id, message in failed:
        errors.setdefault(rule_id, message)
    system = Principal.system("rules-engine")
    events: list[DomainEvent] = []
    async with db.write() as session:
        rows = await session.execute(
            select(MonitoringRule)
            .where(MonitoringRule.id.in_(sorted(errors)), MonitoringRule.enabled.is_(True))
            .order_by(MonitoringRule.id)
            .with_for_update()
        )
        signals = []
        for row in rows.scalars():
            message = errors[row.id]
            before = row.definition()
            signals += await states.reset(session, row, now, "rule disabled after an error")
            row.enabled, row.error, row.errored_at = False, message, now
            _touch(row, ENGINE, now)
            _save_version(session, row, ENGINE, now)
            await audit.record(
                session,
                system,
                "rule.disable",
                target_type="rule",
                target_id=str(row.id),
                commune=_commune(row.communes),
                reason=message,
                details={"before": before, "after": row.definition(), "version": row.version},
            )
            log.warning("rule disabled after an error", rule=row.key, error=message)
            events.append(RuleDisabled(row.id, row.key, message, row.version, now))
        events += await raising.apply(session, signals, now)
    return events
