"""Use cases that write the log: record an entry, amend one. Nothing else writes it: an
entry is never edited nor deleted, a correction is an amendment (docs/opslog.md).

Each is one transaction, audited (``core.usecase.change``), chained (:mod:`chained`),
and told to the hub (:class:`RecordAdded`) once committed.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, NotFound
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.opslog import chained, links, reading
from beffroi.opslog.events import RecordAdded
from beffroi.opslog.lifecycle import LinkKind, RecordKind
from beffroi.opslog.models import LogLink, LogRecord
from beffroi.opslog.schemas import LogAmendmentCreate, LogEntryCreate, LogEntryOut

TARGET = "opslog_entry"
# Clocks of the room's workstations differ a little; an entry dated later is a mistake.
FUTURE_SLACK = timedelta(minutes=5)


def _text(value: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput(FieldError("text", "must not be blank"))
    return text


async def _follows(session: AsyncSession, principal: Principal, entry_id: int | None) -> None:
    if entry_id is None:
        return
    try:
        await reading.load_entry(session, principal, entry_id)
    except NotFound:
        raise InvalidInput(FieldError("follows", f"no entry {entry_id}")) from None


async def record_entry(ctx: Context, data: LogEntryCreate) -> LogEntryOut:
    """Write an entry in a commune of the author's scope, with its links and place."""
    async with change(
        ctx, f"{TARGET}.create", target_type=TARGET, refused_details={"desk": data.desk.value}
    ) as uc:
        ctx.principal.require(Permission.OPSLOG_WRITE)
        text = _text(data.text)
        now = utcnow()
        occurred = data.occurred_at or now
        if occurred > now + FUTURE_SLACK:
            raise InvalidInput(FieldError("occurred_at", "must not be in the future"))
        commune = (await resolve(uc.session, data.commune, "commune")).code
        ctx.principal.require_commune(commune)
        named = links.stored(data)
        await links.check(uc.session, ctx.principal, named)
        await _follows(uc.session, ctx.principal, data.follows)
        place = await links.place(uc.session, data.place) if data.place else None
        row = await chained.append(
            uc.session,
            LogRecord(
                kind=RecordKind.ENTRY.value,
                amends=None,
                occurred_at=occurred,
                recorded_at=now,
                author=ctx.principal.name,
                author_user_id=ctx.principal.user_id,
                desk=data.desk.value,
                category=data.category.value,
                commune_code=commune,
                text=text,
                place=place,
                links=named,
                follows=data.follows,
            ),
        )
        uc.session.add_all(
            LogLink(seq=row.seq, kind=k.value, ref=str(ref))
            for k in LinkKind
            for ref in named[k.value]
        )
        await uc.session.flush()
        uc.audit(
            commune=commune,
            target_id=row.seq,
            details={"desk": row.desk, "category": row.category, "hash": row.hash},
        )
        uc.publish(RecordAdded(row.seq, row.seq, row.kind, row.desk, row.category, commune, now))
        shown = await reading.shown(uc.session, ctx.principal, [row])
    return shown[0]


async def amend(ctx: Context, entry_id: int, data: LogAmendmentCreate) -> LogEntryOut:
    """Add an amendment to an entry of the author's scope: a new chained record; the
    entry itself stays as it was written."""
    async with change(ctx, f"{TARGET}.amend", target_type=TARGET, target_id=entry_id) as uc:
        ctx.principal.require(Permission.OPSLOG_WRITE)
        text = _text(data.text)
        entry = await reading.load_entry(uc.session, ctx.principal, entry_id)
        now = utcnow()
        row = await chained.append(
            uc.session,
            LogRecord(
                kind=RecordKind.AMENDMENT.value,
                amends=entry.seq,
                occurred_at=now,
                recorded_at=now,
                author=ctx.principal.name,
                author_user_id=ctx.principal.user_id,
                desk=entry.desk,
                category=entry.category,
                commune_code=entry.commune_code,
                text=text,
                place=None,
                links={k.value: [] for k in LinkKind},
                follows=None,
            ),
        )
        uc.audit(
            commune=entry.commune_code,
            details={"amendment": row.seq, "hash": row.hash},
        )
        uc.publish(
            RecordAdded(row.seq, entry.seq, row.kind, row.desk, row.category, row.commune_code, now)
        )
        found = await uc.session.execute(select(LogRecord).where(LogRecord.seq == entry.seq))
        shown = await reading.shown(uc.session, ctx.principal, list(found.scalars()))
    return shown[0]
