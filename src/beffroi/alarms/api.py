"""Routes of alarms: the list operators work, and their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from beffroi.alarms import decisions, reading
from beffroi.alarms.lifecycle import OPEN, AlarmSource, AlarmState
from beffroi.alarms.schemas import (
    AlarmDetail,
    AlarmOut,
    AlarmPage,
    AssignRequest,
    ClearRequest,
    Comment,
    Note,
    ShelveRequest,
    Summary,
)
from beffroi.catalogue import Domain, Severity
from beffroi.http.deps import Ctx
from beffroi.http.params import PageLimit, enum_list

router = APIRouter(tags=["alarms"])

Id = Annotated[int, Path(ge=1, le=2**62, description="Alarm id")]


@router.get("/alarms")
async def list_alarms(
    ctx: Ctx,
    states: Annotated[
        list[AlarmState], enum_list("state", AlarmState, "States (default: the open ones)")
    ],
    severities: Annotated[list[Severity], enum_list("severity", Severity, "Severities")],
    commune: Annotated[str | None, Query(max_length=100, description="Code or name")] = None,
    asset_id: Annotated[str | None, Query(max_length=64)] = None,
    alarm_type: Annotated[str | None, Query(max_length=64)] = None,
    domain: Domain | None = None,
    source: AlarmSource | None = None,
    parent_id: Annotated[int | None, Query(ge=1, le=2**62, description="Grouped under")] = None,
    assigned_to: Annotated[str | None, Query(max_length=200)] = None,
    grouped: Annotated[
        bool, Query(description="Also list alarms grouped under a root cause")
    ] = False,
    shelved: Annotated[bool, Query(description="Also list shelved alarms")] = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
) -> AlarmPage:
    """Alarms in your scope, newest first. By default the working list: open alarms
    (active, or cleared and not yet acknowledged), root causes only, shelved ones hidden."""
    query = reading.AlarmFilter(
        states=states or sorted(OPEN),
        severities=severities,
        commune=commune,
        asset_id=asset_id,
        alarm_type=alarm_type,
        domain=domain,
        source=source,
        parent_id=parent_id,
        assigned_to=assigned_to,
        top_level=not grouped,
        include_shelved=shelved,
    )
    return await reading.list_alarms(ctx, query, cursor=cursor, limit=limit)


@router.get("/alarms/summary")
async def alarm_summary(ctx: Ctx) -> Summary:
    """Counts of open alarms in your scope by severity and state, for a banner."""
    return await reading.summary(ctx)


@router.get("/alarms/{alarm_id}")
async def get_alarm(ctx: Ctx, alarm_id: Id) -> AlarmDetail:
    """One alarm and its whole history."""
    return await reading.get_alarm(ctx, alarm_id)


@router.post("/alarms/{alarm_id}/acknowledge")
async def acknowledge(
    ctx: Ctx, alarm_id: Id, body: Annotated[Note, Body(default_factory=Note)]
) -> AlarmOut:
    """Acknowledge an alarm, and the alarms grouped under it."""
    return await decisions.acknowledge(ctx, alarm_id, body.text)


@router.post("/alarms/{alarm_id}/comments")
async def comment(ctx: Ctx, alarm_id: Id, body: Comment) -> AlarmOut:
    """Add a comment to an alarm's history."""
    return await decisions.comment(ctx, alarm_id, body.text)


@router.post("/alarms/{alarm_id}/assign")
async def assign(ctx: Ctx, alarm_id: Id, body: AssignRequest) -> AlarmOut:
    """Give the alarm to a person (their login), or take it back (``null``)."""
    return await decisions.assign(ctx, alarm_id, body.user)


@router.post("/alarms/{alarm_id}/shelve")
async def shelve(ctx: Ctx, alarm_id: Id, body: ShelveRequest) -> AlarmOut:
    """Hide an active alarm from the list for a while, with a reason."""
    return await decisions.shelve(ctx, alarm_id, body.minutes, body.reason)


@router.post("/alarms/{alarm_id}/unshelve")
async def unshelve(ctx: Ctx, alarm_id: Id) -> AlarmOut:
    """Put a shelved alarm back on the list."""
    return await decisions.unshelve(ctx, alarm_id)


@router.post("/alarms/{alarm_id}/clear")
async def clear(ctx: Ctx, alarm_id: Id, body: ClearRequest) -> AlarmOut:
    """Clear an active alarm by hand, with a reason."""
    return await decisions.clear(ctx, alarm_id, body.reason)
