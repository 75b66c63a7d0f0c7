"""What the field adds to an intervention while it is worked: notes, photos, links to
more alarms and assets (links are for managers).

Anyone who may make a field move on an intervention may add to it, while it is not
final. Each addition is written to the intervention's history and audited in the same
transaction; every refusal is audited on its own.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.interventions import photos, reading
from beffroi.interventions.lifecycle import OPEN, Actor, Status
from beffroi.interventions.models import Intervention, InterventionNote, InterventionPhoto
from beffroi.interventions.moves import require_actor
from beffroi.interventions.records import (
    alarms_in_scope,
    assets_in_scope,
    history,
    link,
    load,
    photo_out,
)
from beffroi.interventions.schemas import InterventionDetail, Links, NoteCreate, NoteOut, PhotoOut

TARGET = "intervention"


async def _require_work(ctx: Context, session: AsyncSession, row: Intervention) -> None:
    """Notes, photos and links: anyone who may make a field move on it, while not final."""
    if Status(row.status) not in OPEN | {Status.RESOLVED}:
        raise Conflict(
            f"intervention {row.id} is {row.status}: nothing more can be added",
            current_status=row.status,
        )
    await require_actor(session, ctx.principal, row, Actor.FIELD)
    ctx.principal.require_commune(row.commune_code)


async def add_note(ctx: Context, intervention_id: int, body: NoteCreate) -> NoteOut:
    """Write a note on an intervention."""
    async with change(
        ctx, "intervention.note", target_type=TARGET, target_id=intervention_id
    ) as uc:
        now = utcnow()
        row = await load(uc.session, ctx, intervention_id, lock=True)
        await _require_work(ctx, uc.session, row)
        note = InterventionNote(
            intervention_id=row.id, text=body.text, at=now, author=ctx.principal.name
        )
        uc.session.add(note)
        row.updated_at = now
        await uc.session.flush()
        event = history(
            uc.session,
            row,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            "note",
            row.status,
            {"note_id": note.id},
        )
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            details={"note_id": note.id, "length": len(body.text)},
        )
        uc.publish(event)
    return NoteOut(id=note.id, text=note.text, at=note.at, author=note.author)


async def add_photo(
    ctx: Context, intervention_id: int, content_type: str | None, data: bytes
) -> PhotoOut:
    """Store a photo taken on site: JPEG, PNG or WebP, checked by its first bytes."""
    async with change(
        ctx, "intervention.photo", target_type=TARGET, target_id=intervention_id
    ) as uc:
        ctx.principal.require(Permission.INTERVENTION_READ)
        kind = photos.check(content_type, data, ctx.settings.intervention_photo_max_bytes)
        now = utcnow()
        digest = hashlib.sha256(data).hexdigest()
        row = await load(uc.session, ctx, intervention_id, lock=True)
        await _require_work(ctx, uc.session, row)
        photo = InterventionPhoto(
            intervention_id=row.id,
            content_type=kind,
            size=len(data),
            sha256=digest,
            data=data,
            at=now,
            author=ctx.principal.name,
        )
        uc.session.add(photo)
        row.updated_at = now
        await uc.session.flush()
        event = history(
            uc.session,
            row,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            "photo",
            row.status,
            {"photo_id": photo.id, "size": len(data)},
        )
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            details={
                "photo_id": photo.id,
                "content_type": kind,
                "size": len(data),
                "sha256": digest,
            },
        )
        uc.publish(event)
    return photo_out(photo)


async def get_photo(ctx: Context, intervention_id: int, photo_id: int) -> tuple[str, bytes]:
    """A photo's content type and bytes."""
    ctx.principal.require(Permission.INTERVENTION_READ)
    async with ctx.db.read() as session:
        await load(session, ctx, intervention_id)
        photo = (
            await session.execute(
                select(InterventionPhoto).where(
                    InterventionPhoto.id == photo_id,
                    InterventionPhoto.intervention_id == intervention_id,
                )
            )
        ).scalar_one_or_none()
    if photo is None:
        raise NotFound(f"photo {photo_id} of intervention {intervention_id} not found")
    return photo.content_type, photo.data


async def add_links(ctx: Context, intervention_id: int, body: Links) -> InterventionDetail:
    """Link more alarms or assets to an intervention (managers)."""
    async with change(
        ctx, "intervention.link", target_type=TARGET, target_id=intervention_id
    ) as uc:
        ctx.principal.require(Permission.INTERVENTION_MANAGE)
        if not body.alarm_ids and not body.asset_ids:
            raise InvalidInput(FieldError("alarm_ids", "nothing to link"))
        now = utcnow()
        session = uc.session
        row = await load(session, ctx, intervention_id, lock=True)
        await _require_work(ctx, session, row)
        await alarms_in_scope(session, ctx.principal, body.alarm_ids, "alarm_ids")
        await assets_in_scope(session, ctx.principal, body.asset_ids, "asset_ids")
        alarms, assets = await link(session, row.id, body.alarm_ids, body.asset_ids, now)
        row.updated_at = now
        event = history(
            session,
            row,
            now,
            ctx.principal.name,
            ctx.principal.kind.value,
            "linked",
            row.status,
            {"alarm_ids": alarms, "asset_ids": assets},
        )
        uc.audit(
            target_id=row.id,
            commune=row.commune_code,
            details={"alarm_ids": alarms, "asset_ids": assets},
        )
        uc.publish(event)
    return await reading.get_intervention(ctx, intervention_id)
