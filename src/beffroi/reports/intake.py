"""Receiving a report: from Open311 (anyone, rate-limited) or the citizen line (an
operator with ``report:record``). One use case for both.

A report joins the nearest open intervention of its category within the merge distance
and window (settings), else opens one (source ``report``). Its personal data goes to its
own tables and nowhere else: the intervention, its history, the events and the audit log
name the report by its id only.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.communes import queries as communes
from beffroi.communes.service import resolve
from beffroi.core.context import Context
from beffroi.core.errors import FieldError, InvalidInput, PermissionDenied
from beffroi.core.events import DomainEvent
from beffroi.core.principal import ActorKind, Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import change
from beffroi.interventions import reporting
from beffroi.reports import photos
from beffroi.reports.catalogue import Service
from beffroi.reports.checks import Submission, check
from beffroi.reports.lifecycle import Channel
from beffroi.reports.models import Report, ReportContact, ReportPhoto

TICKET_BYTES = 12  # 16 url-safe characters: 96 random bits, never guessed


def public_principal(client: str | None) -> Principal:
    """Who acts for a public Open311 call: no role, no person; named after the api key's
    client when one was given (never the caller's address, which is personal data)."""
    return Principal(
        name=f"open311:{client}" if client else "open311:anonymous",
        kind=ActorKind.SYSTEM,
        communes=None,
        via="open311",
    )


@dataclass(frozen=True, slots=True)
class Received:
    """A report just kept: its ticket, and the work it follows."""

    report_id: int
    ticket: str
    intervention_id: int
    joined: bool


async def _place(session: AsyncSession, ctx: Context, sub: Submission, long_name: str) -> str:
    """The commune of the report: from its position, else the one the operator named."""
    if sub.lon is not None and sub.lat is not None:
        within = ctx.settings.reports_commune_radius_km * 1000
        place = await communes.nearest(session, sub.lon, sub.lat, within)
        if place is None:
            raise InvalidInput(
                [
                    FieldError("lat", "outside the metropolis"),
                    FieldError(long_name, "outside the metropolis"),
                ]
            )
        return place.code
    assert sub.commune is not None, "checked: a commune without a position"
    return (await resolve(session, sub.commune)).code


def _work_text(svc: Service, sub: Submission, report_id: int) -> tuple[str, str]:
    """The work order's title and description: the problem, never the person."""
    where = f" – {sub.address_string}" if sub.address_string else ""
    answers = [
        f"{a.description} {sub.attributes[a.code]}"
        for a in svc.attributes
        if sub.attributes.get(a.code)
    ]
    text = "\n".join([sub.description.strip(), *answers, f"(citizen report #{report_id})"])
    return f"{svc.name}{where}", text.strip()


async def receive(ctx: Context, sub: Submission, *, long_name: str = "long") -> Received:
    """Keep a report, and open or join its intervention, in one transaction."""
    events: list[DomainEvent] = []
    async with change(
        ctx, "report.create", target_type="report", refused_details={"channel": sub.channel.value}
    ) as uc:
        if sub.channel is Channel.PHONE:
            ctx.principal.require(Permission.REPORT_RECORD)
        svc, errors = check(sub, long_name=long_name)
        if errors:
            raise InvalidInput(errors)
        assert svc is not None
        photo = None
        if sub.photo is not None:
            # Decoding and encoding a phone's photo takes a while: not on the event loop.
            photo = await asyncio.to_thread(
                photos.clean,
                sub.photo.data,
                sub.photo.content_type,
                ctx.settings.reports_photo_max_bytes,
            )
        session = uc.session
        commune = await _place(session, ctx, sub, long_name)
        if sub.lon is not None and not ctx.principal.sees(commune):
            # Found from the position: naming it would tell what the caller may not know.
            raise PermissionDenied(f"{long_name}: outside the communes of your scope")
        ctx.principal.require_commune(commune)
        now = utcnow()
        report = Report(
            ticket=secrets.token_urlsafe(TICKET_BYTES),
            service_code=svc.code,
            category=svc.category.value,
            commune_code=commune,
            lon=sub.lon,
            lat=sub.lat,
            address_string=sub.address_string,
            description=sub.description,
            attributes=dict(sub.attributes),
            channel=sub.channel.value,
            received_by=ctx.principal.name,
            intervention_id=0,  # set below, once the report has its id
            joined=False,
            has_photo=photo is not None,
            created_at=now,
            purged_at=None,
        )
        session.add(report)
        await session.flush()
        existing = await _duplicate_of(session, ctx, svc, sub, now)
        if existing is not None:
            report.intervention_id, report.joined = existing, True
            events.append(
                await reporting.join_report(
                    session, existing, report.id, ctx.principal.name, ctx.principal.kind.value, now
                )
            )
        else:
            title, text = _work_text(svc, sub, report.id)
            work = reporting.ReportedWork(
                report.id, svc.category, svc.priority, title, text, commune, sub.lon, sub.lat
            )
            report.intervention_id, event = await reporting.open_for_report(
                session, ctx.settings, ctx.principal, work, now
            )
            events.append(event)
        if sub.has_contact:
            session.add(
                ReportContact(
                    report_id=report.id,
                    first_name=sub.first_name,
                    last_name=sub.last_name,
                    email=sub.email,
                    phone=sub.phone,
                )
            )
        if photo is not None:
            content_type, data = photo
            session.add(
                ReportPhoto(
                    report_id=report.id, content_type=content_type, size=len(data), data=data
                )
            )
        # The report by id: what it is about, never who sent it.
        uc.audit(
            target_id=report.id,
            commune=commune,
            details={
                "service_code": svc.code,
                "channel": sub.channel.value,
                "intervention_id": report.intervention_id,
                "joined": report.joined,
                "has_photo": photo is not None,
                "has_contact": sub.has_contact,
            },
        )
        uc.publish(*events)
    return Received(report.id, report.ticket, report.intervention_id, report.joined)


async def _duplicate_of(
    session: AsyncSession, ctx: Context, svc: Service, sub: Submission, now: datetime
) -> int | None:
    """The open intervention this report duplicates, if it has a position to compare."""
    if sub.lon is None or sub.lat is None:
        return None
    await reporting.serialise_matching(session, svc.category)
    since = now - timedelta(hours=ctx.settings.reports_merge_window_h)
    return await reporting.nearby_open(
        session, svc.category, sub.lon, sub.lat, ctx.settings.reports_merge_distance_m, since
    )
