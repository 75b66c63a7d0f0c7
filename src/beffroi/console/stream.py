"""The live stream: a WebSocket that carries what changes to the console, in the user's scope.

Events are gathered for a quarter of a second and sent as one frame, so that a storm of
changes costs a few frames a second. Telemetry goes only for the assets the console
watches (the open panel), since the whole city's readings are not for one screen. A client
that falls behind loses the oldest events and is told to reload (``resync``).

What each kind of event sends, and under which ``kind``, is declared with the event
(``@kind(..., console=...)``, :mod:`beffroi.core.event_kinds`); who may see it is decided
here (:class:`Viewer`), so a kind the viewer has no rule for is never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import structlog
from fastapi import WebSocket, WebSocketDisconnect

from beffroi.alarms.events import AlarmChanged
from beffroi.commands.events import CommandChanged
from beffroi.console.board import LiveBoard
from beffroi.console.events import AssetStateChanged
from beffroi.core.context import Runtime
from beffroi.core.errors import NotAuthenticated
from beffroi.core.event_kinds import kind_of
from beffroi.core.events import DomainEvent
from beffroi.core.principal import Permission, Principal
from beffroi.http.deps import SESSION_COOKIE
from beffroi.interventions.events import InterventionChanged
from beffroi.interventions.teams import teams_of
from beffroi.opslog.events import RecordAdded
from beffroi.plans.events import RunChanged
from beffroi.roads.events import SituationChanged
from beffroi.telemetry.events import TelemetryUpdated
from beffroi.vehicles.events import VehicleMoved
from beffroi.video.clearance import authenticate_with_clearance

log = structlog.get_logger(__name__)

FRAME_S = 0.25
PING_S = 20.0
QUEUE_MAX = 20_000
WATCH_MAX = 200
# Close codes in the private range: the console tells "sign in again" from "not allowed".
UNAUTHENTICATED = 4401
FORBIDDEN = 4403


def _same_origin(websocket: WebSocket) -> bool:
    # Browsers send cookies with cross-site WebSocket handshakes: a page elsewhere must not
    # open the stream with the user's session (cross-site WebSocket hijacking).
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


class Viewer:
    """What one connected person may see of the events."""

    def __init__(self, principal: Principal, board: LiveBoard, teams: set[int]) -> None:
        self.principal = principal
        self.board = board
        self.teams = teams
        self.watched: set[str] = set()
        self.alarms = principal.can(Permission.ALARM_READ)
        self.commands = principal.can(Permission.COMMAND_READ)
        self.interventions = principal.can(Permission.INTERVENTION_READ)
        # A field agent who does not manage sees only their teams' work.
        self.all_work = principal.can(Permission.INTERVENTION_MANAGE)
        self.log = principal.can(Permission.OPSLOG_READ)
        self.plans = principal.can(Permission.PLAN_READ)

    def admits(self, event: DomainEvent) -> bool:
        """Whether the event is for this person (never, for a kind without a rule)."""
        rule = RULES.get(type(event))
        return rule is not None and rule(self, event)


# Each rule checks the commune scope and, through the board, that the asset's equipment
# exists for the viewer (cameras only for designated agents: catalogue.visibility).


def _asset(viewer: Viewer, event: AssetStateChanged) -> bool:
    return viewer.principal.sees(event.commune) and viewer.board.shows(
        viewer.principal, event.asset_id
    )


def _telemetry(viewer: Viewer, event: TelemetryUpdated) -> bool:
    # The whole city's readings are not for one screen: only the assets it watches.
    return (
        event.asset_id in viewer.watched
        and viewer.principal.sees(viewer.board.commune_of(event.asset_id))
        and viewer.board.shows(viewer.principal, event.asset_id)
    )


def _alarm(viewer: Viewer, event: AlarmChanged) -> bool:
    return (
        viewer.alarms
        and viewer.principal.sees(event.commune)
        and viewer.board.shows(viewer.principal, event.asset_id)
    )


def _command(viewer: Viewer, event: CommandChanged) -> bool:
    return (
        viewer.commands
        and viewer.principal.sees(viewer.board.commune_of(event.asset_id))
        and viewer.board.shows(viewer.principal, event.asset_id)
    )


def _intervention(viewer: Viewer, event: InterventionChanged) -> bool:
    mine = viewer.all_work or event.team_id in viewer.teams
    # Without a main asset the work order is bound to no equipment the board knows.
    bound = event.asset_id is None or viewer.board.shows(viewer.principal, event.asset_id)
    return viewer.interventions and mine and viewer.principal.sees(event.commune) and bound


def _road_situation(viewer: Viewer, event: SituationChanged) -> bool:
    # A situation is seen by whoever sees one of the communes it crosses.
    return any(viewer.principal.sees(commune) for commune in event.communes)


def _log_record(viewer: Viewer, event: RecordAdded) -> bool:
    # The event says which entry, not what it says: its commune is the scope.
    return viewer.log and viewer.principal.sees(event.commune)


def _plan_run(viewer: Viewer, event: RunChanged) -> bool:
    # As the run is read: by whoever sees every one of its communes (none: metropolis).
    return viewer.plans and viewer.principal.covers(event.communes or None)


def _vehicle(viewer: Viewer, event: VehicleMoved) -> bool:
    # The vehicle's commune is its registry's (its home), wherever it drives.
    return viewer.principal.sees(viewer.board.commune_of(event.asset_id))


# Who sees each kind the console is sent (``@kind(..., console=...)``); the stream listens
# to these only. A test checks every such kind has its rule here.
RULES: dict[type[DomainEvent], Callable[[Viewer, Any], bool]] = {
    AssetStateChanged: _asset,
    TelemetryUpdated: _telemetry,
    AlarmChanged: _alarm,
    CommandChanged: _command,
    InterventionChanged: _intervention,
    SituationChanged: _road_situation,
    RecordAdded: _log_record,
    RunChanged: _plan_run,
    VehicleMoved: _vehicle,
}


def encode(event: DomainEvent) -> dict[str, Any]:
    """The JSON form of a hub event, with its ``kind``, as its registration says."""
    return kind_of(event).for_console(event)


def _dumps(message: dict[str, Any]) -> str:
    return orjson.dumps(message, default=_default).decode()


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


async def _teams(runtime: Runtime, user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    async with runtime.db.read() as session:
        return set(await teams_of(session, user_id))


async def serve(websocket: WebSocket, runtime: Runtime, board: LiveBoard) -> None:
    """Authenticate the connection, then stream events until either side leaves."""
    authorization = websocket.headers.get("authorization")
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if not _same_origin(websocket):
        await websocket.close(code=FORBIDDEN, reason="cross-origin stream")  # handshake refused
        return
    # Accepted before being refused, so that the console reads the close code and reason
    # (a refused handshake is only "1006" to a browser) and knows to ask for a sign-in.
    try:
        found = await authenticate_with_clearance(runtime.db, authorization, cookie)
    except NotAuthenticated as exc:
        await websocket.accept()
        await websocket.close(code=UNAUTHENTICATED, reason=exc.detail)
        return
    principal = found.principal
    if not principal.can(Permission.ASSET_READ):
        await websocket.accept()
        await websocket.close(code=FORBIDDEN, reason=f"{principal.name} may not read assets")
        return
    await board.ensure_loaded()
    viewer = Viewer(principal, board, await _teams(runtime, found.user.id))
    await websocket.accept()
    with runtime.events.subscribe(*RULES, maxsize=QUEUE_MAX) as subscription:
        await websocket.send_text(_dumps({"kind": "hello", "user": found.user.username}))
        # Whichever side ends first (the client leaves, the session ends) ends the other.
        tasks = [
            asyncio.create_task(_listen(websocket, viewer), name="console-stream-in"),
            asyncio.create_task(
                _send(websocket, runtime, subscription, viewer, authorization, cookie),
                name="console-stream-out",
            ),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(
                    asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError
                ):
                    await task


async def _listen(websocket: WebSocket, viewer: Viewer) -> None:
    """Read what the console asks: ``{"kind": "watch", "assets": [ids]}``; anything else
    (binary frames, nonsense) is ignored, never fatal."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if not isinstance(text, str):
            continue
        try:
            asked = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(asked, dict) and asked.get("kind") == "watch":
            assets = asked.get("assets")
            if isinstance(assets, list):
                viewer.watched = {a for a in assets[:WATCH_MAX] if isinstance(a, str)}


async def _send(
    websocket: WebSocket,
    runtime: Runtime,
    subscription: Any,
    viewer: Viewer,
    authorization: str | None,
    cookie: str | None,
) -> None:
    loop = asyncio.get_running_loop()
    next_ping = loop.time() + PING_S
    dropped = 0
    while True:
        if loop.time() >= next_ping:
            # The session may have ended meanwhile (signed out elsewhere, expired): checked
            # however busy the stream is.
            try:
                found = await authenticate_with_clearance(runtime.db, authorization, cookie)
            except NotAuthenticated as exc:
                await websocket.close(code=UNAUTHENTICATED, reason=exc.detail)
                return
            # A habilitation may have ended (or begun) meanwhile: cameras follow it.
            viewer.principal = found.principal
            await websocket.send_text('{"kind":"ping"}')
            next_ping = loop.time() + PING_S
        try:
            async with asyncio.timeout(max(0.0, next_ping - loop.time())):
                first = await subscription.get()
        except TimeoutError:
            continue
        await asyncio.sleep(FRAME_S)  # gather what comes with it
        events = [first, *subscription.take()]
        batch = [encode(e) for e in events if viewer.admits(e)]
        if subscription.dropped != dropped:
            dropped = subscription.dropped
            batch.append({"kind": "resync"})
        if batch:
            await websocket.send_text(_dumps({"kind": "events", "events": batch}))
