"""Privacy masks: the areas of a camera's picture the VMS blanks out (the inside of homes
must never show, CSI L251-3), per preset, recorded here and sent to the VMS."""

from __future__ import annotations

from sqlalchemy import select

from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db.upsert import upsert
from beffroi.video import coverage, register
from beffroi.video.lifecycle import EntryKind
from beffroi.video.models import PrivacyMask
from beffroi.video.register import Draft
from beffroi.video.schemas import MaskOut, MaskSet
from beffroi.video.vms import vms_of


def polygon_errors(polygons: list[list[list[float]]]) -> list[FieldError]:
    """What is wrong with mask polygons: 3 to 64 points each, points ``[x, y]`` in 0..1."""
    errors = []
    for i, polygon in enumerate(polygons):
        if not 3 <= len(polygon) <= 64:
            errors.append(FieldError(f"polygons.{i}", "a polygon has 3 to 64 points"))
        for j, point in enumerate(polygon):
            if len(point) != 2 or not all(0 <= v <= 1 for v in point):
                errors.append(FieldError(f"polygons.{i}.{j}", "a point is [x, y], each in 0..1"))
    return errors


async def set_masks(ctx: Context, camera_id: str, preset: int, body: MaskSet) -> MaskOut:
    """Record a camera's masks for a preset (0: every view) and send them to the VMS; an
    empty list removes them. Registered."""
    async with change(ctx, "video.mask.set", target_type="asset", target_id=camera_id) as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        errors = polygon_errors(body.polygons)
        if errors:
            raise InvalidInput(errors)
        found = await coverage.cameras(uc.session, ctx.principal, [camera_id], "camera_id")
        camera, now = found[camera_id], utcnow()
        row = {
            "camera_id": camera_id,
            "commune_code": camera.commune,
            "preset": preset,
            "polygons": body.polygons,
            "set_by": ctx.principal.name,
            "set_at": now,
        }
        keys = ["camera_id", "preset"]
        await upsert(
            uc.session, PrivacyMask, [row], keys=keys, update=("polygons", "set_by", "set_at")
        )
        await vms_of(ctx).apply_masks(camera_id, preset, body.polygons)
        details = {"preset": preset, "polygons": len(body.polygons)}
        await register.append(
            uc.session,
            ctx.principal,
            [Draft(EntryKind.MASK, camera_id, camera.commune, details=details)],
        )
        uc.audit(commune=camera.commune, details=details)
    return MaskOut(
        camera_id=camera_id,
        preset=preset,
        polygons=body.polygons,
        set_by=ctx.principal.name,
        set_at=now,
    )


async def list_masks(ctx: Context, camera_id: str) -> list[MaskOut]:
    """A camera's masks, by preset: to managers, and to whoever sees cameras."""
    if not (ctx.principal.can(Permission.VIDEO_MANAGE) or ctx.principal.sees_video):
        raise PermissionDenied(f"{ctx.principal.name} lacks permission video:manage")
    async with ctx.db.read() as session:
        await coverage.cameras(session, ctx.principal, [camera_id], "camera_id")
        query = (
            select(PrivacyMask)
            .where(PrivacyMask.camera_id == camera_id)
            .order_by(PrivacyMask.preset)
        )
        rows = (await session.execute(query)).scalars().all()
    return [MaskOut.model_validate(r) for r in rows]
