"""The live stream: a WebSocket that carries what changes to the console, in the user's scope.

Events are gathered for a quarter of a second and sent as one frame, so that a storm of
changes costs a few frames a second. Telemetry goes only for the assets the console
watches (the open panel), since the whole city's readings are not for one screen. A client
that falls behind loses the oldest events and is told to reload (``resync``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
import structlog
from fastapi import WebSocket, WebSocketDisconnect

from beffroi.accounts.callers import authenticate_request
from beffroi.alarms.events import AlarmChanged
from beffroi.commands.events import CommandChanged
from beffroi.console.board import LiveBoard
from beffroi.console.events import AssetStateChanged
from beffroi.core.context import Runtime
from beffroi.core.errors import NotAuthenticated
from beffroi.core.principal import Permission, Principal
from beffroi.http.deps import SESSION_COOKIE
from beffroi.interventions.events import InterventionChanged
from beffroi.interventions.teams import teams_of
from beffroi.telemetry.events import TelemetryUpdated

log = structlog.get_logger(__name__)

FRAME_S = 0.25
PING_S = 20.0
QUEUE_MAX = 20_000
WATCH_MAX = 200
# Close codes in the private range: the console tells "sign in again" from "not allowed".
UNAUTHENTICATED = 4401
FORBIDDEN = 4403

KINDS: dict[type[Any], str] = {
    AssetStateChanged: "asset",
    TelemetryUpdated: "telemetry",
    AlarmChanged: "alarm",
    CommandChanged: "command",
    InterventionChanged: "intervention",
}


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

    def admits(self, event: object) -> bool:
        """Whether the event is for this person."""
        sees = self.principal.sees
        if isinstance(event, AssetStateChanged):
            return sees(event.commune)
        if isinstance(event, TelemetryUpdated):
            return event.asset_id in self.watched and sees(self.board.commune_of(event.asset_id))
        if isinstance(event, AlarmChanged):
            return self.alarms and sees(event.commune)
        if isinstance(event, CommandChanged):
            return self.commands and sees(self.board.commune_of(event.asset_id))
        if isinstance(event, InterventionChanged):
            mine = self.all_work or event.team_id in self.teams
            return self.interventions and mine and sees(event.commune)
        return False


def encode(event: object) -> dict[str, Any]:
    """The JSON form of a hub event, with its ``kind``."""
    if isinstance(event, AssetStateChanged):
        return {
            "kind": "asset",
            "id": event.asset_id,
            "state": event.state,
            "severity": event.severity,
        }
    if isinstance(event, TelemetryUpdated):
        return {
            "kind": "telemetry",
            "id": event.asset_id,
            "ts": event.ts,
            "values": dict(event.values),
        }
    return {"kind": KINDS[type(event)], **asdict(event)}  # type: ignore[call-overload]


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
        found = await authenticate_request(runtime.db, authorization, cookie)
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
    with runtime.events.subscribe(*KINDS, maxsize=QUEUE_MAX) as subscription:
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
                await authenticate_request(runtime.db, authorization, cookie)
            except NotAuthenticated as exc:
                await websocket.close(code=UNAUTHENTICATED, reason=exc.detail)
                return
            await websocket.send_text('{"kind":"ping"}')
            next_ping = loop.time() + PING_S
        try:
            async with asyncio.timeout(max(0.0, next_ping - loop.time())):
                first = await subscription.get()
        except TimeoutError:
            continue
        await asyncio.sleep(FRAME_S)  # gather what comes with it
        events = [first]
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                events.append(subscription.get_nowait())
        batch = [encode(e) for e in events if viewer.admits(e)]
        if subscription.dropped != dropped:
            dropped = subscription.dropped
            batch.append({"kind": "resync"})
        if batch:
            await websocket.send_text(_dumps({"kind": "events", "events": batch}))
