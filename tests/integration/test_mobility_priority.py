"""Bus priority end to end without a broker: a GTFS-RT feed served on loopback, read by
the poller, a priority_request command queued, sent by the dispatcher, answered by the
controller, and the outcome recorded with the delay saved."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pyproj import Geod

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.commands import service as commands
from beffroi.commands.dispatcher import CommandDispatcher
from beffroi.commands.tracker import CommandTracker
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.mobility import approaches, outcomes, reading
from beffroi.mobility.approach import Position
from beffroi.mobility.feed import encode
from beffroi.mobility.polling import Poller
from beffroi.mobility.schemas import ApproachCreate
from beffroi.telemetry.decode import Readings, Reply, Status
from beffroi.telemetry.store import Batch, TelemetryStore

pytestmark = pytest.mark.asyncio
ROOT = "beffroi/v1"
STOP = (5.0415, 47.3220)
GEOD = Geod(ellps="WGS84")


@dataclass
class FeedServer:
    """A GTFS-RT feed on loopback whose body the test sets."""

    body: bytes = b""
    url: str = ""


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    served = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}/vehicle-positions.pb"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def south_of_stop(metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(STOP[0], STOP[1], 180.0, metres)
    return lon, lat


async def controller(system: Context) -> None:
    item = AssetCreate(
        id="TC-DIJ-1",
        type="traffic_controller",
        name="Carrefour Darcy",
        commune="dijon",
        location=Point(coordinates=STOP),
        attributes={"bus_priority": True},
    )
    report = await importing.import_assets(system, [(1, item)], source="tests")
    assert not report.errors, report.errors


async def test_a_bus_on_an_approach_asks_once_and_its_outcome_is_recorded(
    runtime: Runtime, system: Context, feed: FeedServer
) -> None:
    await controller(system)
    approach = await approaches.create_approach(
        system,
        ApproachCreate(
            controller_id="TC-DIJ-1",
            name="Boulevard de Sévigné, northbound",
            direction="north",
            lines=["L5"],
            shape="sector",
            coordinates=[list(STOP)],
            radius_m=150,
            bearing_deg=0,
        ),
    )
    ctx = _reading(runtime, feed.url)
    now = utcnow().timestamp()
    far, near = south_of_stop(400), south_of_stop(90)
    buses = [
        Position("bus-1", "L5", "trip-1", *near, 2.0, now),
        Position("bus-2", "L5", "trip-2", *far, 0.0, now),  # not yet on the approach
        Position("bus-3", "L9", "trip-3", *near, 0.0, now),  # a line without priority
    ]
    feed.body = encode(buses, now)

    poller = Poller()
    first = await poller.due(ctx)
    assert (first.outcome, first.positions, len(first.requests)) == ("ok", 3, 1)
    [request] = await reading.list_requests(system, reading.RequestFilter())
    assert (request.vehicle_id, request.line, request.direction, request.approach_id) == (
        "bus-1",
        "L5",
        "north",
        approach.id,
    )
    assert request.distance_m == pytest.approx(90, abs=1)
    assert request.command_id is not None
    command = await commands.get_command(system, request.command_id)
    assert (command.name, command.params, command.state) == (
        "priority_request",
        {"line": "L5", "direction": "north"},
        "queued",
    )

    # The next read sees the same bus nearer: its pass asked already.
    feed.body = encode([Position("bus-1", "L5", "trip-1", *south_of_stop(40), 0.0, now)], now)
    second = await Poller().due(ctx)
    assert (second.outcome, second.requests) == ("ok", ())

    # The controller is online, receives the command and grants it; its cycle is 96 s.
    tracker = CommandTracker(root=ROOT, verify_window=utcnow() - utcnow())
    store = TelemetryStore(runtime.db, [tracker])
    ts = utcnow()
    await store.write(
        Batch(
            statuses=[Status("TC-DIJ-1", True, None, ts, "status", None)],
            readings=[Readings("TC-DIJ-1", (("cycle_s", ts, 96.0, None),))],
        )
    )
    sent: list[str] = []
    dispatcher = CommandDispatcher(
        runtime.db, runtime.events, lambda topic, _payload: sent.append(topic), tracker, root=ROOT
    )
    assert await dispatcher.dispatch_due() == 1
    assert sent == [f"{ROOT}/devices/TC-DIJ-1/commands/{request.command_id}"]
    await store.write(
        Batch(replies=[Reply("TC-DIJ-1", request.command_id, "succeeded", {}, utcnow())])
    )
    assert await outcomes.follow(system) == 1
    [done] = await reading.list_requests(system, reading.RequestFilter())
    assert (done.outcome, done.delay_saved_s) == ("succeeded", 12.0)
    assert done.finished_at is not None
    [saved] = await reading.delay_saved(system, None, None)
    assert saved.model_dump() == {
        "controller_id": "TC-DIJ-1",
        "line": "L5",
        "requests": 1,
        "granted": 1,
        "not_granted": 0,
        "open": 0,
        "delay_saved_s": 12.0,
    }
    assert await outcomes.follow(system) == 0


async def test_a_malformed_or_missing_feed_is_counted_and_asks_nothing(
    runtime: Runtime, system: Context, feed: FeedServer
) -> None:
    feed.body = b"<html>503 maintenance</html>"
    assert (await Poller().due(_reading(runtime, feed.url))).outcome == "malformed"
    nobody = _reading(runtime, "http://127.0.0.1:9/nothing-listens")
    assert (await Poller().due(nobody)).outcome == "unreachable"
    assert (await Poller().due(_reading(runtime, ""))).outcome == "off"
    assert await reading.list_requests(system, reading.RequestFilter()) == []


def _reading(runtime: Runtime, url: str) -> Context:
    """The scheduler's context in a process configured to read the feed at ``url``."""
    settings = runtime.settings.model_copy(
        update={"mobility_feed_url": url, "mobility_feed_timeout_s": 2.0}
    )
    configured = Runtime(settings=settings, db=runtime.db, events=runtime.events)
    return configured.system_context("scheduler:mobility.feed")
