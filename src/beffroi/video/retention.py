"""Retention: each camera's authorised period (at most 30 days, the default from
``BEFFROI_VIDEO_RETENTION_DAYS``), and the daily deletion the VMS is asked for, except the
periods legal holds keep; what was deleted is registered. And the register's own purge
after three years (docs/video.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from beffroi.assets import queries as assets
from beffroi.core.context import Context
from beffroi.core.errors import InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db.upsert import upsert
from beffroi.video import coverage, register
from beffroi.video.holds import holding
from beffroi.video.lifecycle import EntryKind
from beffroi.video.models import Retention
from beffroi.video.register import Draft
from beffroi.video.schemas import RetentionOut, RetentionSet
from beffroi.video.vms import Period, vms_of


def _may_read(principal: Principal) -> None:
    if not (principal.can(Permission.VIDEO_MANAGE) or principal.can(Permission.VIDEO_REGISTER)):
        raise PermissionDenied(f"{principal.name} lacks permission video:manage")


async def set_retention(ctx: Context, camera_id: str, body: RetentionSet) -> RetentionOut:
    """Record a camera's authorised retention period (its prefectoral authorisation)."""
    async with change(ctx, "video.retention.set", target_type="asset", target_id=camera_id) as uc:
        ctx.principal.require(Permission.VIDEO_MANAGE)
        found = await coverage.cameras(uc.session, ctx.principal, [camera_id], "camera_id")
        camera = found[camera_id]
        row = {
            "camera_id": camera_id,
            "commune_code": camera.commune,
            "days": body.days,
            "authorisation": body.authorisation,
            "set_by": ctx.principal.name,
            "set_at": utcnow(),
        }
        update = ("commune_code", "days", "authorisation", "set_by", "set_at")
        await upsert(uc.session, Retention, [row], keys=["camera_id"], update=update)
        uc.audit(
            commune=camera.commune, details={"days": body.days, "authorisation": body.authorisation}
        )
    return RetentionOut(
        camera_id=camera_id, days=body.days, authorisation=body.authorisation, default=False
    )


async def get_retention(ctx: Context, camera_id: str) -> RetentionOut:
    """A camera's retention: its own period, or the default."""
    _may_read(ctx.principal)
    async with ctx.db.read() as session:
        try:
            await coverage.cameras(session, ctx.principal, [camera_id], "camera_id")
        except InvalidInput as exc:  # a hidden or unknown camera answers as a missing one
            raise NotFound("camera not found") from exc
        row = await session.get(Retention, camera_id)
    if row is None:
        return RetentionOut(
            camera_id=camera_id,
            days=ctx.settings.video_retention_days,
            authorisation=None,
            default=True,
        )
    return RetentionOut(
        camera_id=camera_id, days=row.days, authorisation=row.authorisation, default=False
    )


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What a retention run did: cameras looked at, cameras with footage deleted, hours."""

    cameras: int
    deleted_cameras: int
    hours: float


async def apply_retention(ctx: Context) -> RetentionRun:
    """The daily job: for every camera, ask the VMS to delete footage older than its period,
    except the periods placed holds keep, and register each deletion (idempotent: what is
    gone is not deleted again)."""
    now = utcnow()
    vms = vms_of(ctx)
    async with change(ctx, "video.retention.apply", target_type="video_retention") as uc:
        query = assets.id_query(types=[coverage.CAMERA_TYPE], only_live=True)
        ids = list((await uc.session.execute(query)).scalars())
        found = await assets.facts(uc.session, ids)
        periods = {
            r.camera_id: r.days for r in (await uc.session.execute(select(Retention))).scalars()
        }
        held = await holding(uc.session)
        drafts, hours = [], 0.0
        for camera_id in sorted(found):
            days = periods.get(camera_id, ctx.settings.video_retention_days)
            cutoff = now - timedelta(days=days)
            holds = [h for h in held if camera_id in h.cameras]
            keep = [Period(h.period_start, h.period_end) for h in holds]
            deleted = await vms.delete_before(camera_id, cutoff, keep)
            if not deleted.spans:
                continue
            hours += deleted.hours
            drafts.append(
                Draft(
                    EntryKind.DELETION,
                    camera_id,
                    found[camera_id].commune,
                    reason=f"retention {days} days",
                    details={
                        "cutoff": cutoff.isoformat(),
                        "hours": deleted.hours,
                        "spans": [[s.start.isoformat(), s.end.isoformat()] for s in deleted.spans],
                        "kept_for_holds": [h.id for h in holds],
                    },
                )
            )
        entries = await register.append(uc.session, ctx.principal, drafts)
        if entries:
            uc.audit(
                details={
                    "cameras": len(entries),
                    "hours": hours,
                    "register": [entries[0].seq, entries[-1].seq],
                }
            )
    return RetentionRun(len(found), len(drafts), hours)


async def purge_register(ctx: Context) -> register.Purged | None:
    """The daily purge of register entries older than the keeping period (three years),
    audited with the checkpoint that keeps the rest verifiable."""
    before = utcnow() - timedelta(days=ctx.settings.video_register_keep_days)
    async with change(ctx, "video.register.purge", target_type="video_register") as uc:
        purged = await register.purge_before(uc.session, before)
        if purged is not None:
            uc.audit(
                details={
                    "entries": purged.count,
                    "through_seq": purged.through_seq,
                    "checkpoint_hash": purged.checkpoint_hash,
                }
            )
    return purged
