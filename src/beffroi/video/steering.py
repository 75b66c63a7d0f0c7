"""Steering cameras, only within a view session: the session open and the agent's, the
camera one of it and still covered by a habilitation in force; the command then goes
through the commands area's lifecycle, with the session's reason, and is registered."""

from __future__ import annotations

from beffroi.catalogue import CATALOGUE
from beffroi.commands import service as commands
from beffroi.commands.schemas import CommandCreate, CommandOut
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, PermissionDenied
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.video import coverage, register, sessions
from beffroi.video.acts import act
from beffroi.video.lifecycle import EntryKind
from beffroi.video.register import Draft
from beffroi.video.schemas import SessionCommand


async def steer(ctx: Context, session_id: int, body: SessionCommand) -> CommandOut:
    """Send a steering command to a camera of one's open session; refusals registered."""
    async with act(
        ctx,
        "video.steer",
        EntryKind.STEERING,
        [body.camera_id],
        session_id=session_id,
        target_type="video_session",
        target_id=session_id,
    ) as uc:
        ctx.principal.require(Permission.VIDEO_WATCH)
        row = await sessions.load(uc.session, ctx.principal, session_id)
        if row.user_id != ctx.principal.user_id:
            raise PermissionDenied("a session's cameras are steered by its agent only")
        now = utcnow()
        if not sessions.is_open(row, now):
            raise Conflict(f"view session {session_id} has ended", current_state="ended")
        if body.camera_id not in row.cameras:
            raise InvalidInput(FieldError("camera_id", "not a camera of this session"))
        found = await coverage.cameras(uc.session, ctx.principal, [body.camera_id], "camera_id")
        await coverage.require_covered(uc.session, ctx.principal, found, now)
        reason = sessions.full_reason(row)
        created = await commands.create_in(
            uc,
            CommandCreate(
                asset_id=body.camera_id, name=body.name, params=body.params, reason=reason
            ),
            within_session=True,
        )
        spec = CATALOGUE["camera"].command(body.name)
        camera = found[body.camera_id]
        [entry] = await register.append(
            uc.session,
            ctx.principal,
            [
                Draft(
                    EntryKind.STEERING,
                    camera.id,
                    camera.commune,
                    reason=reason,
                    session_id=row.id,
                    details={
                        "command_id": created.id,
                        "name": body.name,
                        "onvif": spec.standard_name if spec else None,
                        "params": created.params,
                    },
                )
            ],
        )
        uc.audit(
            target_id=row.id,
            commune=camera.commune,
            reason=reason,
            details={
                "command_id": created.id,
                "camera_id": camera.id,
                "name": body.name,
                "params": created.params,
                "register": entry.seq,
            },
        )
    return commands.to_out(created)
