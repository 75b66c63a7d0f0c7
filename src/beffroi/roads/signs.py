"""Message signs fed from road situations: the text proposed for the signs near one,
sent only when the operator confirms, and taken down (proposed, then confirmed) once
the situation is over.

Sending goes through the commands area (``display`` with ``until`` = the situation's
end, ``clear``), with its checks: the operator's right to command traffic equipment in
that commune. Each sign shown is kept (:class:`RoadSignPosting`) so that the end of the
situation knows which signs to clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.assets import queries as assets
from beffroi.catalogue.visibility import in_view
from beffroi.commands.schemas import CommandCreate
from beffroi.commands.service import create_in
from beffroi.core import audit
from beffroi.core.context import Context
from beffroi.core.errors import Conflict, FieldError, InvalidInput
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.core.usecase import UseCase, change
from beffroi.roads import reading, templates
from beffroi.roads.events import SignsPosted
from beffroi.roads.geometry import Metric
from beffroi.roads.models import RoadSignPosting, RoadSituation
from beffroi.roads.schemas import (
    SignPosting,
    SignProposal,
    SignsClear,
    SignsConfirm,
    SignsOut,
    SignsSent,
)
from beffroi.roads.situation import FINAL, OPEN, IncidentKind, SituationType, Status

SIGN_TYPE = "message_sign"
# Signs this near a situation are proposed: the streets leading to it in a city.
DEFAULT_RADIUS_M = 1500.0
# A sign registered without its size is taken for the common three lines of sixteen.
DEFAULT_LINES = 3
DEFAULT_WIDTH = 16
TARGET = "road_situation"


def facts_of(row: RoadSituation) -> templates.Facts:
    """What the sign templates may say of a situation."""
    return templates.Facts(
        type=SituationType(row.type),
        road=row.road,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        incident=IncidentKind(row.incident_kind) if row.incident_kind else None,
        road_closed=row.road_closed,
        lanes_closed=row.lanes_closed,
        speed_limit_kmh=row.speed_limit_kmh,
        delay_min=row.delay_min,
        detour=row.detour is not None,
    )


def size_of(attributes: dict[str, Any]) -> tuple[int, int]:
    """A sign's (lines, characters per line), from its registered attributes."""
    return (
        int(attributes.get("lines") or DEFAULT_LINES),
        int(attributes.get("width_chars") or DEFAULT_WIDTH),
    )


async def _signs(session: AsyncSession, principal: Principal) -> list[assets.Described]:
    return [
        s
        for s in await assets.described(session, SIGN_TYPE)
        if in_view(principal, s.commune, SIGN_TYPE)
    ]


async def _postings(
    session: AsyncSession, principal: Principal, situation_id: int
) -> list[RoadSignPosting]:
    rows = await session.execute(
        select(RoadSignPosting)
        .where(
            RoadSignPosting.situation_id == situation_id,
            principal.scope_clause(RoadSignPosting.commune_code),
        )
        .order_by(RoadSignPosting.id)
    )
    return list(rows.scalars())


async def signs_of(ctx: Context, situation_id: int, within_m: float = DEFAULT_RADIUS_M) -> SignsOut:
    """The signs within ``within_m`` metres of an open situation with the text proposed
    for each; the signs showing it; and, once it is over, those still to clear."""
    ctx.principal.require(Permission.ASSET_READ)
    async with ctx.db.read() as session:
        row = await reading.load(session, ctx.principal, situation_id)
        postings = await _postings(session, ctx.principal, row.id)
        signs = await _signs(session, ctx.principal) if Status(row.status) in OPEN else []
    showing = {p.asset_id: p.text for p in postings if p.cleared_at is None}
    proposals = []
    if signs:
        metric = Metric(shape(row.geometry))
        facts = facts_of(row)
        distances = metric.distances_m([(s.lon, s.lat) for s in signs])
        for sign, distance in zip(signs, distances, strict=True):
            if distance > within_m:
                continue
            lines, width = size_of(sign.attributes)
            proposals.append(
                SignProposal(
                    asset_id=sign.id,
                    name=sign.name,
                    commune=sign.commune,
                    distance_m=round(distance, 1),
                    lines=lines,
                    width_chars=width,
                    proposed=templates.propose(facts, lines, width, ctx.settings.zone),
                    showing=showing.get(sign.id),
                )
            )
        proposals.sort(key=lambda p: (p.distance_m, p.asset_id))
    to_clear = sorted(showing) if Status(row.status) in FINAL else []
    return SignsOut(
        proposals=proposals,
        postings=[SignPosting.model_validate(p) for p in postings],
        to_clear=to_clear,
    )


async def _command(
    uc: UseCase, row: RoadSituation, asset_id: str, name: str, params: dict[str, Any]
) -> str:
    """Queue one command to a sign inside the use case, audited as the commands area
    audits its own (this use case writes one entry of its own for the whole)."""
    reason = f"road situation {row.id}: {row.title}"[:500]
    created = await create_in(
        uc, CommandCreate(asset_id=asset_id, name=name, params=params, reason=reason)
    )
    await audit.record(
        uc.session,
        uc.ctx.principal,
        "command.create",
        target_type="asset",
        target_id=asset_id,
        commune=created.commune_code,
        reason=reason,
        details={"command_id": created.id, "name": name, "params": params, "state": created.state},
    )
    return created.id


def _text_errors(body: SignsConfirm, signs: dict[str, assets.Described]) -> list[FieldError]:
    errors = []
    seen: set[str] = set()
    for i, item in enumerate(body.signs):
        sign = signs.get(item.asset_id)
        if sign is None:
            errors.append(
                FieldError(f"signs.{i}.asset_id", f"unknown message sign {item.asset_id!r}")
            )
            continue
        if item.asset_id in seen:
            errors.append(FieldError(f"signs.{i}.asset_id", "named twice"))
        seen.add(item.asset_id)
        lines, width = size_of(sign.attributes)
        errors.extend(
            FieldError(f"signs.{i}.text", p) for p in templates.fits(item.text, lines, width)
        )
    return errors


async def display(ctx: Context, situation_id: int, body: SignsConfirm) -> SignsSent:
    """Show the confirmed texts on the signs (``display`` until the situation's end), all
    or none."""
    async with change(
        ctx, f"{TARGET}.signs_display", target_type=TARGET, target_id=situation_id
    ) as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        session = uc.session
        row = await reading.load(session, ctx.principal, situation_id, lock=True)
        if Status(row.status) not in OPEN:
            raise Conflict(f"road situation {row.id} is {row.status}: nothing to display")
        signs = {s.id: s for s in await _signs(session, ctx.principal)}
        errors = _text_errors(body, signs)
        if errors:
            raise InvalidInput(errors)
        now = utcnow()
        current = {
            p.asset_id: p
            for p in await _postings(session, ctx.principal, row.id)
            if p.cleared_at is None
        }
        sent, touched = [], []
        for item in body.signs:
            params: dict[str, Any] = {"text": item.text}
            if row.ends_at is not None:
                params["until"] = row.ends_at.isoformat()
            command_id = await _command(uc, row, item.asset_id, "display", params)
            posting = current.get(item.asset_id)
            if posting is None:
                posting = RoadSignPosting(
                    situation_id=row.id,
                    asset_id=item.asset_id,
                    commune_code=signs[item.asset_id].commune,
                )
                session.add(posting)
            posting.text = item.text
            posting.display_command_id = command_id
            posting.posted_by = ctx.principal.name
            posting.posted_at = now
            sent.append(command_id)
            touched.append(posting)
        await session.flush()
        uc.audit(
            commune=row.commune_code,
            details={"signs": {i.asset_id: i.text for i in body.signs}, "commands": sent},
        )
        uc.publish(SignsPosted(row.id, tuple(i.asset_id for i in body.signs), "display", now))
        shown = [SignPosting.model_validate(p) for p in touched]
    return SignsSent(commands=sent, postings=shown)


async def clear(ctx: Context, situation_id: int, body: SignsClear) -> SignsSent:
    """Take the situation's text down from its signs (``clear``): those named, or all
    still showing it; all or none."""
    async with change(
        ctx, f"{TARGET}.signs_clear", target_type=TARGET, target_id=situation_id
    ) as uc:
        ctx.principal.require(Permission.ROADS_MANAGE)
        session = uc.session
        row = await reading.load(session, ctx.principal, situation_id, lock=True)
        showing = {
            p.asset_id: p
            for p in await _postings(session, ctx.principal, row.id)
            if p.cleared_at is None
        }
        wanted: Sequence[str] = body.asset_ids if body.asset_ids is not None else sorted(showing)
        unknown = [
            FieldError(f"asset_ids.{i}", f"{a!r} does not show this situation")
            for i, a in enumerate(wanted)
            if a not in showing
        ]
        if unknown:
            raise InvalidInput(unknown)
        if not wanted:
            raise Conflict(f"no sign shows road situation {row.id}")
        now = utcnow()
        sent = []
        for asset_id in dict.fromkeys(wanted):
            posting = showing[asset_id]
            posting.clear_command_id = await _command(uc, row, asset_id, "clear", {})
            posting.cleared_by = ctx.principal.name
            posting.cleared_at = now
            sent.append(posting.clear_command_id)
        await session.flush()
        uc.audit(commune=row.commune_code, details={"signs": list(wanted), "commands": sent})
        uc.publish(SignsPosted(row.id, tuple(wanted), "clear", now))
        shown = [SignPosting.model_validate(showing[a]) for a in dict.fromkeys(wanted)]
    return SignsSent(commands=sent, postings=shown)
