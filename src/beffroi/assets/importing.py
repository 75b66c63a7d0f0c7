"""Bulk import of assets: validate a whole file against the registry, then write it in
one transaction — all or nothing, or the good rows only when asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets.models import Asset
from beffroi.assets.schemas import AssetCreate, ImportReport
from beffroi.assets.service import new_row
from beffroi.assets.validation import CHUNK, CommuneIndex, Known, check_asset, known_assets
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput
from beffroi.core.principal import Permission
from beffroi.core.usecase import change
from beffroi.db import Base

_UPDATABLE = (
    "type",
    "name",
    "commune_code",
    "lon",
    "lat",
    "parent_id",
    "status",
    "attributes",
    "manufacturer",
    "model",
    "installed_on",
    "tags",
    "updated_at",
)
# One executemany for many rows instead of a statement per asset.
_ASSETS = Base.metadata.tables["assets"]
_UPDATE_BY_ID = (
    update(_ASSETS)
    .where(_ASSETS.c.id == bindparam("b_id"))
    .values(
        {name: bindparam(f"b_{name}") for name in _UPDATABLE} | {"version": _ASSETS.c.version + 1}
    )
)


def _update_params(values: dict[str, Any]) -> dict[str, Any]:
    return {"b_id": values["id"]} | {f"b_{name}": values[name] for name in _UPDATABLE}


@dataclass(slots=True)
class _Plan:
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)


async def _plan_import(
    session: AsyncSession, ctx: Context, items: Sequence[tuple[int, AssetCreate]]
) -> _Plan:
    plan = _Plan()
    ids = [item.id for _, item in items]
    existing = await known_assets(session, ids)
    batch: dict[str, int] = {}
    for row, item in items:
        if item.id in batch:
            plan.errors.append(
                FieldError("id", f"duplicate id {item.id!r} (first at row {batch[item.id]})", row)
            )
            plan.bad_rows.add(row)
        else:
            batch[item.id] = row
    communes = await CommuneIndex.load(session)
    parent_ids = {i.parent_id for _, i in items if i.parent_id and i.parent_id not in batch}
    parents = await known_assets(session, parent_ids)
    parents.update(
        {i.id: Known(i.type, communes.code(i.commune) or "") for _, i in items if i.id in batch}
    )
    for row, item in items:
        if row in plan.bad_rows:
            continue
        code, errors = check_asset(
            item,
            principal=ctx.principal,
            communes=communes,
            parents=parents,
            existing=existing.get(item.id),
            row=row,
        )
        if errors or code is None:
            plan.errors.extend(errors)
            plan.bad_rows.add(row)
            continue
        values = new_row(item, code)
        (plan.updates if item.id in existing else plan.creates).append(values)
    # A child whose parent row is bad cannot be written either.
    bad_ids = {item.id for row, item in items if row in plan.bad_rows}
    for row, item in items:
        if item.parent_id in bad_ids and row not in plan.bad_rows:
            plan.errors.append(
                FieldError("parent_id", f"parent {item.parent_id!r} is invalid", row)
            )
            plan.bad_rows.add(row)
    if bad_ids:
        good = {item.id for row, item in items if row not in plan.bad_rows}
        plan.creates = [r for r in plan.creates if r["id"] in good]
        plan.updates = [r for r in plan.updates if r["id"] in good]
    # Parents go in before their children (the foreign key is checked row by row).
    in_batch = set(batch)
    plan.creates.sort(key=lambda r: r["parent_id"] in in_batch)
    return plan


def _report(plan: _Plan, parse_errors: Sequence[FieldError], skip_invalid: bool) -> ImportReport:
    """What the import writes and skips; every error refuses it unless ``skip_invalid``."""
    errors = sorted([*parse_errors, *plan.errors], key=lambda e: (e.row or 0, e.field))
    if errors and not skip_invalid:
        raise InvalidInput(errors, f"import refused, nothing written: {len(errors)} error(s)")
    bad_rows = plan.bad_rows | {e.row for e in parse_errors if e.row is not None}
    return ImportReport(
        created=len(plan.creates),
        updated=len(plan.updates),
        skipped=len(bad_rows),
        errors=[e.as_dict() for e in errors],
    )


async def import_assets(
    ctx: Context,
    items: Sequence[tuple[int, AssetCreate]],
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    source: str = "",
    parse_errors: Sequence[FieldError] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Create or update many assets by id, all or nothing unless ``skip_invalid``.

    ``items`` are (row number, asset) pairs; ``parse_errors`` are rows that did not even
    parse. Without ``skip_invalid``, any error writes nothing and the report lists them all.
    A refused import is audited as ``asset.import.refused``; a dry run, which changes
    nothing, is not audited.
    """
    if dry_run:
        ctx.principal.require(Permission.ASSET_WRITE)
        async with ctx.db.read() as session:
            return _report(await _plan_import(session, ctx, items), parse_errors, skip_invalid)
    async with change(
        ctx, "asset.import", target_type="asset", refused_details={"source": source}
    ) as uc:
        ctx.principal.require(Permission.ASSET_WRITE)
        plan = await _plan_import(uc.session, ctx, items)
        report = _report(plan, parse_errors, skip_invalid)
        total, done = len(plan.creates) + len(plan.updates), 0
        for start in range(0, len(plan.creates), CHUNK):
            chunk = plan.creates[start : start + CHUNK]
            await uc.session.execute(insert(Asset), chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, total)
        for start in range(0, len(plan.updates), CHUNK):
            chunk = [_update_params(v) for v in plan.updates[start : start + CHUNK]]
            await uc.session.execute(_UPDATE_BY_ID, chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, total)
        communes = sorted({r["commune_code"] for r in plan.creates + plan.updates})
        uc.audit(
            commune=communes[0] if len(communes) == 1 else None,
            details={
                "source": source,
                "created": report.created,
                "updated": report.updated,
                "skipped": report.skipped,
                "communes": communes,
            },
        )
    return report
