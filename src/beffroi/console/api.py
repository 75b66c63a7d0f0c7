"""Routes of the console: the map's states, its settings, and the live stream."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response, WebSocket
from pydantic import BaseModel
from starlette.applications import Starlette

from beffroi.catalogue import CATALOGUE
from beffroi.communes.lookup import filter_code
from beffroi.console import stream
from beffroi.console.board import COLUMNS, LiveBoard
from beffroi.core.principal import Permission
from beffroi.core.time import utcnow
from beffroi.http.deps import Ctx, RuntimeDep
from beffroi.http.params import choice

router = APIRouter(tags=["console"])


class MapOut(BaseModel):
    """Every asset the caller sees, as rows of ``columns`` (compact for 36,000 assets)."""

    generated_at: str
    columns: list[str]
    rows: list[list[Any]]


class ConsoleConfig(BaseModel):
    """What the console needs to know of this installation."""

    tile_url: str | None
    timezone: str


def board_of(app: Starlette) -> LiveBoard:
    """The application's live board (made on first use where the app was not started)."""
    state = app.state
    board: LiveBoard | None = getattr(state, "board", None)
    if board is None:
        board = state.board = LiveBoard(state.runtime)
    return board


@router.get("/map", response_model=MapOut)
async def map_states(
    request: Request,
    ctx: Ctx,
    type: Annotated[str | None, choice("type", CATALOGUE.keys_sorted, "Equipment type")],
    commune: Annotated[str | None, Query(max_length=100, description="Code or name")] = None,
) -> Response:
    """Where every asset in scope is and the state to draw it in: ok, alarm (with its
    worst severity), offline, maintenance, commanded or unknown."""
    code = await filter_code(ctx, commune)
    board = board_of(request.app)
    await board.ensure_loaded()
    rows = board.rows(ctx.principal, commune=code, kind=type)
    body = {"generated_at": utcnow().isoformat(), "columns": COLUMNS, "rows": rows}
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/console/config")
async def console_config(ctx: Ctx, runtime: RuntimeDep) -> ConsoleConfig:
    """Map tiles and time zone for the console."""
    ctx.principal.require(Permission.ASSET_READ)
    return ConsoleConfig(
        tile_url=runtime.settings.console_tile_url, timezone=runtime.settings.timezone
    )


@router.websocket("/stream")
async def live_stream(websocket: WebSocket) -> None:
    """Live events in the caller's scope (see :mod:`beffroi.console.stream`)."""
    await stream.serve(websocket, websocket.app.state.runtime, board_of(websocket.app))
