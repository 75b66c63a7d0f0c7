"""The console's server side: the map's states in scope, the live board, the live stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.typing import Origin

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.cli.serve import bind_socket, serve_app
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import CommandState, Verification
from beffroi.commands.schemas import CommandCreate
from beffroi.commands.service import send_command
from beffroi.console.events import AssetStateChanged
from beffroi.console.states import MapState
from beffroi.core.context import Context, Runtime
from beffroi.core.principal import Role
from beffroi.core.time import utcnow
from beffroi.interventions.events import InterventionChanged
from beffroi.telemetry.events import ConnectivityChanged, TelemetryUpdated
from beffroi.telemetry.models import DeviceStatus
from beffroi.web.app import create_app
from tests.support import Person, make_person

API = "/api/v1"
TALANT = (4.999, 47.335)
CHENOVE = (5.006, 47.292)
NOT_APPLICABLE = Verification.NOT_APPLICABLE


async def _fleet(system: Context) -> None:
    def item(i: str, t: str, commune: str, at: tuple[float, float], **kw: Any) -> AssetCreate:
        return AssetCreate(
            id=i, type=t, name=i, commune=commune, location=Point(coordinates=at), **kw
        )

    items = [
        item("CAB-TAL-1", "lighting_cabinet", "talant", TALANT),
        item("SL-TAL-1", "streetlight", "talant", TALANT, parent_id="CAB-TAL-1"),
        item("SL-TAL-2", "streetlight", "talant", TALANT, parent_id="CAB-TAL-1"),
        item("SL-TAL-3", "streetlight", "talant", TALANT, status="maintenance"),
        item("SL-TAL-4", "streetlight", "talant", TALANT),
        item("SL-CHE-1", "streetlight", "chenove", CHENOVE),
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    now = utcnow()
    async with system.db.write() as session:
        for asset_id, online in [("CAB-TAL-1", True), ("SL-TAL-1", True), ("SL-TAL-2", False)]:
            session.add(DeviceStatus(asset_id=asset_id, online=online, since=now, reason="status"))
        session.add(DeviceStatus(asset_id="SL-CHE-1", online=True, since=now, reason="status"))
    async with system.db.write() as session:
        signal = AlarmSignal("SL-TAL-1", "lampFailure", True, now, AlarmSource.DEVICE)
        await raising.apply(session, [signal], now)


@pytest.fixture
async def people(system: Context) -> dict[str, Person]:
    await _fleet(system)
    return {
        "admin": await make_person(system, "admin", [Role.ADMIN]),
        "talant": await make_person(system, "op-talant", [Role.OPERATOR], communes=["talant"]),
        "chenove": await make_person(system, "op-chenove", [Role.OPERATOR], communes=["chenove"]),
    }


def _by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    columns = body["columns"]
    return {row[0]: dict(zip(columns, row, strict=True)) for row in body["rows"]}


async def test_the_map_draws_each_state_in_scope(
    client: httpx.AsyncClient, system: Context, people: dict[str, Person]
) -> None:
    await send_command(
        system, CommandCreate(asset_id="SL-TAL-4", name="dim", params={"level_pct": 40})
    )
    answer = await client.get(f"{API}/map", headers=people["talant"].headers)
    assert answer.status_code == 200, answer.text
    rows = _by_id(answer.json())
    assert sorted(rows) == ["CAB-TAL-1", "SL-TAL-1", "SL-TAL-2", "SL-TAL-3", "SL-TAL-4"]
    states = {k: (v["state"], v["severity"]) for k, v in rows.items()}
    assert states == {
        "CAB-TAL-1": ("ok", None),
        "SL-TAL-1": ("alarm", "minor"),
        "SL-TAL-2": ("offline", None),
        "SL-TAL-3": ("maintenance", None),
        "SL-TAL-4": ("commanded", None),
    }
    assert rows["SL-TAL-1"]["lon"] == TALANT[0]
    # Chenôve's operator sees Chenôve's light and nothing of Talant, filter or not.
    chenove = await client.get(f"{API}/map", headers=people["chenove"].headers)
    assert sorted(_by_id(chenove.json())) == ["SL-CHE-1"]
    # Another commune is as unknown as one that does not exist (as in every list filter).
    asked = await client.get(f"{API}/map?commune=talant", headers=people["chenove"].headers)
    assert asked.status_code == 422, asked.text
    assert asked.json()["errors"][0]["field"] == "commune"
    typed = await client.get(f"{API}/map?type=lighting_cabinet", headers=people["admin"].headers)
    assert sorted(_by_id(typed.json())) == ["CAB-TAL-1"]
    assert (await client.get(f"{API}/map")).status_code == 401


async def test_a_command_redraws_its_asset_when_it_opens_and_when_it_closes_only(
    runtime: Runtime, people: dict[str, Person]
) -> None:
    from beffroi.console.board import LiveBoard

    board = LiveBoard(runtime)
    await board.ensure_loaded()
    now = utcnow()

    def moved(command_id: str, state: CommandState) -> CommandChanged:
        return CommandChanged(command_id, "CAB-TAL-1", None, "x", state, NOT_APPLICABLE, now)

    commanded = [AssetStateChanged("CAB-TAL-1", "talant", MapState.COMMANDED, None)]
    assert board.apply([moved("c1", CommandState.QUEUED)]) == commanded
    # Moves that keep it open, and a second open command, draw nothing new.
    assert board.apply([moved("c1", CommandState.SENT), moved("c2", CommandState.QUEUED)]) == []
    assert board.apply([moved("c1", CommandState.SUCCEEDED)]) == []  # c2 is still open
    ok = [AssetStateChanged("CAB-TAL-1", "talant", MapState.OK, None)]
    assert board.apply([moved("c2", CommandState.ACCEPTED), moved("c2", CommandState.FAILED)]) == ok
    # A duplicate final move changes nothing.
    assert board.apply([moved("c2", CommandState.FAILED)]) == []


async def test_the_board_follows_events_and_the_database(
    runtime: Runtime, system: Context, people: dict[str, Person]
) -> None:
    from beffroi.console.board import LiveBoard

    board = LiveBoard(runtime)
    await board.ensure_loaded()
    now = utcnow()
    changed = board.apply([ConnectivityChanged("SL-TAL-1", False, now, "silence")])
    # The alarm outranks the silence: nothing to redraw.
    assert changed == []
    async with system.db.write() as session:
        events = await raising.apply(
            session, [AlarmSignal("SL-TAL-1", "lampFailure", False, now, AlarmSource.DEVICE)], now
        )
    assert board.apply(events) == [AssetStateChanged("SL-TAL-1", "talant", MapState.OFFLINE, None)]
    # A change another process made (no event here) shows at the next reading, once.
    async with system.db.write() as session:
        row = await session.get(DeviceStatus, "SL-TAL-2")
        assert row is not None
        row.online = True
    seen = runtime.events.subscribe(AssetStateChanged)
    with seen:
        assert await board.reload() == 2  # SL-TAL-2 back online; SL-TAL-1 online in the DB
        published = [seen.get_nowait(), seen.get_nowait()]
        assert await board.reload() == 0
    assert {e.asset_id: e.state for e in published} == {"SL-TAL-1": "ok", "SL-TAL-2": "ok"}


async def test_a_shelved_alarm_leaves_the_map_until_unshelved(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    admin = people["admin"].headers
    alarms = (await client.get(f"{API}/alarms?asset_id=SL-TAL-1", headers=admin)).json()
    alarm_id = alarms["items"][0]["id"]
    shelve = {"minutes": 60, "reason": "lamp ordered"}
    answer = await client.post(f"{API}/alarms/{alarm_id}/shelve", json=shelve, headers=admin)
    assert answer.status_code == 200, answer.text
    # A fresh board reads it shelved; the running one learns it from the event.
    rows = _by_id((await client.get(f"{API}/map", headers=admin)).json())
    assert rows["SL-TAL-1"]["state"] == "ok"


@contextlib.asynccontextmanager
async def _server(runtime: Runtime) -> AsyncIterator[str]:
    """The real app (uvicorn, with its lifespan) on a loopback port."""
    sock = bind_socket("127.0.0.1", 0, fallback=False)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_app(create_app(runtime), sock, stop))
    try:
        host, port = sock.getsockname()[:2]
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                async with httpx.AsyncClient() as probe:
                    if (await probe.get(f"http://{host}:{port}/api/health")).status_code == 200:
                        break
            await asyncio.sleep(0.05)
        yield f"{host}:{port}"
    finally:
        stop.set()
        await task
        sock.close()


async def _frames(ws: ClientConnection, want: int, within: float = 5.0) -> list[dict[str, Any]]:
    """Events of the next frames until ``want`` arrived (or the time is up)."""
    events: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while len(events) < want:
                frame = json.loads(await ws.recv())
                if frame["kind"] == "events":
                    events += frame["events"]
    return events


async def test_the_stream_carries_what_changes_in_scope(
    runtime: Runtime, people: dict[str, Person]
) -> None:
    async with _server(runtime) as address:
        url = f"ws://{address}{API}/stream"
        headers = people["talant"].headers
        async with connect(url, additional_headers=headers) as talant:
            hello = json.loads(await talant.recv())
            assert hello == {"kind": "hello", "user": "op-talant"}
            await talant.send(json.dumps({"kind": "watch", "assets": ["SL-TAL-4"]}))
            await asyncio.sleep(0.1)
            now = utcnow()
            async with runtime.db.write() as session:  # as the gateway does: stored, then told
                session.add(
                    DeviceStatus(asset_id="SL-TAL-4", online=False, since=now, reason="will")
                )
            hub = runtime.events
            hub.publish(ConnectivityChanged("SL-TAL-4", False, now, "will"))  # via the board
            hub.publish(ConnectivityChanged("SL-CHE-1", False, now, "will"))  # not Talant's
            hub.publish(TelemetryUpdated("SL-TAL-4", now, {"level_pct": 40.0}))  # watched
            hub.publish(TelemetryUpdated("SL-TAL-1", now, {"level_pct": 10.0}))  # not watched
            hub.publish(InterventionChanged(7, "chenove", None, "new", "created", now))
            hub.publish(InterventionChanged(8, "talant", None, "new", "created", now))
            events = await _frames(talant, want=3)
            kinds = sorted((e["kind"], e.get("id") or e.get("intervention_id")) for e in events)
            assert kinds == [("asset", "SL-TAL-4"), ("intervention", 8), ("telemetry", "SL-TAL-4")]
            asset = next(e for e in events if e["kind"] == "asset")
            assert asset == {
                "kind": "asset",
                "id": "SL-TAL-4",
                "state": "offline",
                "severity": None,
            }
            # Nothing else came for Talant.
            assert await _frames(talant, want=1, within=0.6) == []


async def test_the_stream_refuses_strangers_and_other_sites(
    runtime: Runtime, people: dict[str, Person]
) -> None:
    async with _server(runtime) as address:
        url = f"ws://{address}{API}/stream"
        with pytest.raises(ConnectionClosedError) as nobody:
            async with connect(url) as ws:
                await ws.recv()
        assert nobody.value.rcvd is not None
        assert nobody.value.rcvd.code == 4401
        bad = {"Authorization": "Bearer nope"}
        with pytest.raises(ConnectionClosedError) as wrong:
            async with connect(url, additional_headers=bad) as ws:
                await ws.recv()
        assert wrong.value.rcvd is not None
        assert (wrong.value.rcvd.code, wrong.value.rcvd.reason) == (
            4401,
            "the token is unknown, expired or revoked",
        )
        elsewhere = {**people["admin"].headers}
        with pytest.raises(InvalidStatus) as foreign:
            async with connect(
                url, additional_headers=elsewhere, origin=Origin("http://evil.example")
            ) as ws:
                await ws.recv()
        assert foreign.value.response.status_code == 403
        # The page is served where the API is (or says it is not built).
        async with httpx.AsyncClient() as http:
            page = await http.get(f"http://{address}/alarms")
            assert page.status_code == 200
            assert "Beffroi" in page.text
            missing = await http.get(f"http://{address}/api/v1/nothing-here")
            assert missing.status_code == 404
            # The API's documentation loads Swagger UI from this server, never a CDN.
            docs = await http.get(f"http://{address}/api/docs")
            assert docs.status_code == 200
            assert "/api-docs/swagger-ui-bundle.js" in docs.text
            assert "cdn" not in docs.text.lower()


async def test_the_stream_ends_with_the_session_and_shrugs_off_nonsense(
    runtime: Runtime, system: Context, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from beffroi.accounts import tokens
    from beffroi.console import stream

    monkeypatch.setattr(stream, "PING_S", 0.3)
    async with _server(runtime) as address:
        url = f"ws://{address}{API}/stream"
        async with connect(url, additional_headers=people["talant"].headers) as ws:
            assert json.loads(await ws.recv())["kind"] == "hello"
            # Binary frames and nonsense are ignored; the stream goes on.
            await ws.send(b"\x00\x01binary")
            await ws.send("{not json")
            await ws.send(json.dumps({"kind": "watch", "assets": "not a list"}))
            assert json.loads(await ws.recv()) == {"kind": "ping"}
            # The token is revoked while events keep flowing: the stream ends all the same.
            for token in await tokens.list_tokens(system, "op-talant"):
                await tokens.revoke_token(system, token.id)

            async def flow() -> None:
                while True:
                    runtime.events.publish(ConnectivityChanged("SL-TAL-4", False, utcnow(), "x"))
                    await asyncio.sleep(0.05)

            flowing = asyncio.create_task(flow())
            try:
                closed = await asyncio.wait_for(_until_closed(ws), 5)
            finally:
                flowing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flowing
            assert closed.rcvd is not None
            assert closed.rcvd.code == 4401


async def _until_closed(ws: ClientConnection) -> ConnectionClosedError:
    """Read frames until the server closes the connection; how it closed it."""
    try:
        while True:
            await ws.recv()
    except ConnectionClosedError as closed:
        return closed
