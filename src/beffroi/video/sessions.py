"""View sessions: an agent within a habilitation states a reason and watches cameras live
through signed, short-lived stream URLs; the start and the end are registered; a session
ends by itself after the maximum duration (``BEFFROI_VIDEO_SESSION_MAX_S``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as assets
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput, NotFound, PermissionDenied
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.db.rows import Derived
from beffroi.video import coverage, register
from beffroi.video.acts import act
from beffroi.video.lifecycle import EntryKind, SessionEnd
from beffroi.video.models import ViewSession
from beffroi.video.register import Draft
from beffroi.video.schemas import SessionCreate, SessionOut, Stream
from beffroi.video.vms import vms_of


def is_open(row: ViewSession, now: datetime) -> bool:
    """Not ended, and not past its maximum duration."""
    return row.ended_at is None and now < row.expires_at


# What the register's and the commands' reason columns hold at most.
REASON_MAX = 2000


def joined_reason(reason: str, words: str | None) -> str:
    """The reason as the register and the commands carry it: the chosen one and the agent's
    words, cut to what the register holds."""
    return f"{reason}: {words}"[:REASON_MAX] if words else reason


def full_reason(row: ViewSession) -> str:
    """A session's reason as the register and the commands carry it."""
    return joined_reason(row.reason, row.reason_text)


def visible(principal: Principal, row: ViewSession) -> bool:
    """One's own sessions; auditors and managers those whose cameras are all in scope."""
    if principal.user_id is not None and row.user_id == principal.user_id:
        return True
    oversees = principal.can(Permission.VIDEO_REGISTER) or principal.can(Permission.VIDEO_MANAGE)
    return oversees and principal.covers(row.communes)


async def load(
    session: AsyncSession, principal: Principal, session_id: int, *, lock: bool = False
) -> ViewSession:
    """A session the principal may see, or :class:`NotFound`."""
    query = select(ViewSession).where(ViewSession.id == session_id)
    row = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if row is None or not visible(principal, row):
        raise NotFound("view session not found")
    return row


async def _out(ctx: Context, session: AsyncSession, row: ViewSession) -> SessionOut:
    """The session; its streams (fresh signed URLs) only to its agent while it is open, and
    only of the cameras a habilitation in force still covers (one revoked meanwhile stops
    the images at the next URL)."""
    now = utcnow()
    streams: list[Stream] = []
    if is_open(row, now) and row.user_id == ctx.principal.user_id:
        names = await assets.facts(session, row.cameras)
        held = await coverage.in_force(session, row.user_id, now)
        until = min(now + timedelta(seconds=ctx.settings.vms_url_ttl_s), row.expires_at)
        vms = vms_of(ctx)
        for camera_id in row.cameras:
            facts = names.get(camera_id)
            if facts is None or not any(coverage.covers(h, facts) for h in held):
                continue
            url = await vms.stream_url(camera_id, row.profile, session_id=row.id, expires_at=until)
            streams.append(Stream(camera_id=camera_id, name=facts.name, url=url, expires_at=until))
    return SessionOut.model_validate(Derived(row, open=is_open(row, now), streams=streams))


def reasons(ctx: Context) -> list[str]:
    """The reasons an agent picks from, to those who watch or see cameras."""
    if not (ctx.principal.can(Permission.VIDEO_WATCH) or ctx.principal.sees_video):
        raise PermissionDenied(f"{ctx.principal.name} lacks permission video:watch")
    return list(ctx.settings.video_reason_list)


async def open_session(ctx: Context, body: SessionCreate) -> SessionOut:
    """Open a view session on cameras that habilitations in force cover, for a reason of
    the configured list; the start is registered per camera, a refusal too."""
    reason = joined_reason(body.reason, body.reason_text)
    async with act(
        ctx,
        "video.session.open",
        EntryKind.VIEW_START,
        body.cameras,
        reason=reason,
        target_type="video_session",
    ) as uc:
        ctx.principal.require(Permission.VIDEO_WATCH)
        reasons = ctx.settings.video_reason_list
        if body.reason not in reasons:
            raise InvalidInput(
                FieldError("reason", f"not one of the reasons: {', '.join(reasons)}")
            )
        found = await coverage.cameras(uc.session, ctx.principal, body.cameras)
        now = utcnow()
        held = await coverage.require_covered(uc.session, ctx.principal, found, now)
        await coverage.require_profile(uc.session, found, body.profile)
        assert ctx.principal.user_id is not None  # require_covered refuses anyone else
        row = ViewSession(
            user_id=ctx.principal.user_id,
            agent=ctx.principal.name,
            habilitations=held,
            cameras=list(found),
            communes=sorted({f.commune for f in found.values()}),
            reason=body.reason,
            reason_text=body.reason_text,
            profile=body.profile,
            started_at=now,
            expires_at=now + timedelta(seconds=ctx.settings.video_session_max_s),
        )
        uc.session.add(row)
        await uc.session.flush()
        drafts = [
            Draft(
                EntryKind.VIEW_START,
                camera.id,
                camera.commune,
                reason=reason,
                session_id=row.id,
                details={"profile": body.profile, "habilitations": held},
            )
            for camera in found.values()
        ]
        entries = await register.append(uc.session, ctx.principal, drafts)
        uc.audit(
            target_id=row.id,
            commune=row.communes[0] if len(row.communes) == 1 else None,
            reason=reason,
            details={"cameras": row.cameras, "register": [e.seq for e in entries]},
        )
        out = await _out(ctx, uc.session, row)
    return out


async def get_session(ctx: Context, session_id: int) -> SessionOut:
    """A session; to its agent while open, with fresh stream URLs (the console asks again
    before they expire)."""
    async with ctx.db.read() as session:
        row = await load(session, ctx.principal, session_id)
        return await _out(ctx, session, row)


async def list_sessions(
    ctx: Context, *, mine: bool = True, open_only: bool = False, limit: int = 100
) -> list[SessionOut]:
    """Sessions, newest first: one's own, or (auditors, managers) every one in scope."""
    if not mine and not (
        ctx.principal.can(Permission.VIDEO_REGISTER) or ctx.principal.can(Permission.VIDEO_MANAGE)
    ):
        raise PermissionDenied(f"{ctx.principal.name} sees only their own sessions")
    now = utcnow()
    query = select(ViewSession).order_by(ViewSession.id.desc())
    if mine:
        query = query.where(ViewSession.user_id == (ctx.principal.user_id or -1))
    if open_only:
        query = query.where(ViewSession.ended_at.is_(None), ViewSession.expires_at > now)
    async with ctx.db.read() as session:
        rows = list((await session.execute(query.limit(5000))).scalars())
        rows = [r for r in rows if visible(ctx.principal, r)][:limit]
        return [await _out(ctx, session, r) for r in rows]


def _end_drafts(row: ViewSession, communes: dict[str, str], because: SessionEnd) -> list[Draft]:
    return [
        Draft(
            EntryKind.VIEW_END,
            camera_id,
            communes.get(camera_id),
            reason=full_reason(row),
            session_id=row.id,
            details={"because": because.value, "started_at": row.started_at.isoformat()},
            agent=row.agent,
        )
        for camera_id in row.cameras
    ]


async def end_session(ctx: Context, session_id: int) -> SessionOut:
    """End one's session now (a manager may end anyone's); registered per camera."""
    async with change(
        ctx, "video.session.end", target_type="video_session", target_id=session_id
    ) as uc:
        row = await load(uc.session, ctx.principal, session_id, lock=True)
        own = row.user_id == ctx.principal.user_id
        if not own and not ctx.principal.can(Permission.VIDEO_MANAGE):
            raise PermissionDenied("a session is ended by its agent or a manager")
        now = utcnow()
        if not is_open(row, now):
            raise Conflict(f"view session {session_id} has ended", current_state="ended")
        row.ended_at, row.ended_because = now, SessionEnd.AGENT.value
        found = await assets.facts(uc.session, row.cameras)
        communes = {k: f.commune for k, f in found.items()}
        await register.append(
            uc.session, ctx.principal, _end_drafts(row, communes, SessionEnd.AGENT)
        )
        uc.audit(details={"cameras": row.cameras})
        out = await _out(ctx, uc.session, row)
    return out


async def close_expired(ctx: Context) -> int:
    """End the sessions past their maximum duration, at that moment, and register it: the
    scheduled job (idempotent: an ended session is not ended twice)."""
    now = utcnow()
    async with change(ctx, "video.session.expire", target_type="video_session") as uc:
        query = select(ViewSession).where(
            ViewSession.ended_at.is_(None), ViewSession.expires_at <= now
        )
        rows = list((await uc.session.execute(query.with_for_update())).scalars())
        if not rows:
            return 0
        found = await assets.facts(uc.session, [c for r in rows for c in r.cameras])
        communes = {k: f.commune for k, f in found.items()}
        drafts = []
        for row in rows:
            row.ended_at, row.ended_because = row.expires_at, SessionEnd.EXPIRED.value
            drafts += _end_drafts(row, communes, SessionEnd.EXPIRED)
        await register.append(uc.session, ctx.principal, drafts)
        uc.audit(details={"sessions": [r.id for r in rows]})
    return len(rows)
