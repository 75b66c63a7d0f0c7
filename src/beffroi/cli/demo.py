"""``beffroi demo``: the whole control room on one machine, on embedded defaults.

SQLite in the data directory, the device gateway, the scheduler and the API in one event
loop; the embedded MQTT broker and the simulated Dijon fleet (connected with its own
credentials) in a process each, as the broker and the devices are in a real city.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Annotated, Any

import typer

from beffroi import logs, workers
from beffroi.accounts import service as accounts
from beffroi.accounts.schemas import UserCreate
from beffroi.assets import importing
from beffroi.assets import reading as assets
from beffroi.assets.filters import AssetFilter
from beffroi.catalogue import Severity
from beffroi.cli import scheduler
from beffroi.cli.accounts import generate_password
from beffroi.cli.children import lifeline, run_child
from beffroi.cli.common import out, progress_bar, settings, spawned
from beffroi.cli.db import upgrade_database
from beffroi.cli.demo_broker import broker_in_process
from beffroi.cli.demo_winter import seed_winter
from beffroi.cli.serve import bind_socket, build_app, run_until_stopped, serve_app
from beffroi.communes.service import list_communes
from beffroi.config import BrokerUrl, Settings
from beffroi.core.context import Context, Runtime, open_runtime
from beffroi.core.principal import Role
from beffroi.core.process import Process
from beffroi.devices.credentials import issue_credentials
from beffroi.gateway.runner import Gateway, broker_address
from beffroi.interventions import policies, teams
from beffroi.interventions.lifecycle import Category, Priority
from beffroi.interventions.schemas import PolicyCreate, TeamCreate
from beffroi.lighting.starter import seed_lighting
from beffroi.plans.lifecycle import AlertLevel
from beffroi.plans.starter import seed_winter_plan
from beffroi.plans.starter import snow_night as play_snow_night
from beffroi.rules import editing as rule_editing
from beffroi.rules import reading as rule_reading
from beffroi.rules.conditions import RuleKind
from beffroi.rules.schemas import RuleCreate
from beffroi.simulator import Simulator, load_sim_fleet
from beffroi.simulator.buses import BusFleet, feed_on_loopback
from beffroi.simulator.buses import seed as seed_buses
from beffroi.simulator.fleet import generate_fleet

DEMO_ADMIN = "admin"


async def prepare(runtime: Runtime) -> str | None:
    """Fleet and admin for a first run; returns the admin password when just created."""
    ctx = runtime.system_context("demo")
    existing, _ = await assets.list_assets(ctx, AssetFilter(limit=1))
    if not existing:
        items = list(enumerate(generate_fleet("dijon", scale=1.0, seed=1), start=1))
        with progress_bar("generating the Dijon fleet") as update:
            await importing.import_assets(ctx, items, source="demo", on_progress=update)
    if any(u.username == DEMO_ADMIN for u in await accounts.list_users(ctx)):
        return None
    password = generate_password()
    await accounts.create_user(
        ctx,
        UserCreate(
            username=DEMO_ADMIN,
            password=password,
            display_name="Demo administrator",
            roles=[Role.ADMIN],
        ),
    )
    return password


# A first look shows the alarm pipeline at work: rules, teams, and which alarms open
# work orders by themselves. Each is created once, by the system, and audited.
# At the real rate the whole fleet breaks down a few times an hour; a first look should
# show the alarm list, grouping and work orders at work within minutes.
DEMO_FAULT_RATE = 100.0
DEMO_RULES = (
    RuleCreate(
        key="lit-in-daylight",
        name="Streetlight lit in daylight",
        kind=RuleKind.STATE_MISMATCH,
        asset_type="streetlight",
        params={"key": "level_pct", "op": ">", "value": 0, "when": "daylight", "margin_min": 30},
        alarm_type="lampUnexpectedOn",
        severity=Severity.WARNING,
    ),
    RuleCreate(
        key="congestion",
        name="Congestion at a counting station",
        kind=RuleKind.THRESHOLD,
        asset_type="traffic_counter",
        # Occupancy above 35 % for 10 minutes: saturated flow (docs/mobility.md).
        params={"key": "occupancy_pct", "op": ">", "value": 35, "clear_value": 25, "for_s": 600},
        alarm_type="congestion",
        severity=Severity.MINOR,
    ),
    RuleCreate(
        key="low-mains-voltage",
        name="Streetlight mains voltage low",
        kind=RuleKind.THRESHOLD,
        asset_type="streetlight",
        params={"key": "voltage_v", "op": "<", "value": 207, "clear_value": 215, "for_s": 300},
        severity=Severity.MINOR,
    ),
)
DEMO_TEAMS = (
    ("Éclairage public", [Category.LIGHTING]),
    ("Signalisation tricolore", [Category.TRAFFIC]),
    ("Vidéoprotection", [Category.VIDEO]),
    ("Voirie", [Category.ROADS, Category.SNOW, Category.CLEANLINESS]),
)
DEMO_POLICIES = (
    ("supplyLoss", Severity.CRITICAL, Category.LIGHTING, Priority.HIGH),
    ("circuitBreakerTripped", Severity.MAJOR, Category.LIGHTING, Priority.HIGH),
    ("lampFailure", Severity.MINOR, Category.LIGHTING, Priority.NORMAL),
    ("hardwareFault", Severity.CRITICAL, Category.TRAFFIC, Priority.CRITICAL),
    ("conflictFlash", Severity.CRITICAL, Category.TRAFFIC, Priority.CRITICAL),
    ("signalLampFault", Severity.MAJOR, Category.TRAFFIC, Priority.HIGH),
    ("videoLoss", Severity.MAJOR, Category.VIDEO, Priority.HIGH),
    ("tamper", Severity.CRITICAL, Category.VIDEO, Priority.CRITICAL),
)


async def seed_operations(ctx: Context) -> None:
    """Starter monitoring rules, teams, work-order policies and lighting programs, once."""
    if not await rule_reading.list_rules(ctx):
        for rule in DEMO_RULES:
            await rule_editing.create_rule(ctx, rule)
    if not await teams.list_teams(ctx):
        every = [c.code for c in await list_communes(ctx)]
        for name, categories in DEMO_TEAMS:
            await teams.create_team(
                ctx, TeamCreate(name=name, categories=categories, communes=every)
            )
    if not await policies.list_policies(ctx):
        for alarm_type, severity, category, priority in DEMO_POLICIES:
            await policies.create_policy(
                ctx,
                PolicyCreate(
                    alarm_type=alarm_type,
                    min_severity=severity,
                    category=category,
                    priority=priority,
                ),
            )
    await seed_lighting(ctx)
    await seed_winter_plan(ctx)
    await seed_winter(ctx)


def simulator_process(
    settings_data: dict[str, Any], broker_url: BrokerUrl, secrets: dict[str, str], line: Connection
) -> None:
    """Entry point of the demo's simulator process: the fleet, as its devices, in real time.

    The fleet runs in a process of its own: it is the outside world, and 2,000 connections
    starting at once would otherwise starve the broker and the gateway of their event loop.
    """
    current = Settings(**settings_data)
    logs.configure("WARNING", current.log_format)

    async def _main(stop: asyncio.Event) -> None:
        async with open_runtime(current) as runtime:
            ctx = runtime.system_context("demo-simulator")
            fleet, (latitude, longitude) = await load_sim_fleet(ctx)
        simulator = Simulator(
            fleet,
            secrets,
            broker_url,
            root=current.mqtt_root,
            latitude=latitude,
            longitude=longitude,
            fault_rate=DEMO_FAULT_RATE,
        )
        await simulator.run(stop)

    run_child(_main, line)


@contextlib.contextmanager
def simulated_fleet(
    current: Settings, broker_url: BrokerUrl, secrets: dict[str, str]
) -> Iterator[multiprocessing.process.BaseProcess]:
    """The simulator process, stopped (SIGTERM, then killed) and reaped on exit."""
    ours, theirs = lifeline()
    # Secrets travel in memory to the child, never through a file.
    args = (current.model_dump(), broker_url, secrets, theirs)
    with ours, spawned(simulator_process, args, "beffroi-simulator") as child:
        theirs.close()
        yield child


async def run_demo(
    current: Settings, sock: socket.socket, stop: asyncio.Event, snow_night: int = 0
) -> None:
    """Broker, gateway, scheduler and API in this process, the fleet in another, until
    ``stop``; the winter plan played at alert level ``snow_night`` (0: not played)."""
    buses = BusFleet()
    async with contextlib.AsyncExitStack() as feed:
        if not current.mobility_feed_url:
            # No transit operator's feed: the demo's buses, served on loopback.
            url = await feed.enter_async_context(feed_on_loopback(buses))
            current = current.model_copy(update={"mobility_feed_url": url})
        await _run_demo(current, sock, stop, buses, snow_night)


async def _run_demo(
    current: Settings, sock: socket.socket, stop: asyncio.Event, buses: BusFleet, snow_night: int
) -> None:
    async with open_runtime(current) as runtime, contextlib.AsyncExitStack() as stack:
        password = await prepare(runtime)
        if password:
            out.print(
                f"admin account: [bold]{DEMO_ADMIN}[/bold]  password (shown once): "
                f"[bold]{password}[/bold]"
            )
        else:
            out.print(
                f"admin account: {DEMO_ADMIN} (password shown on the first run; "
                f"`beffroi user reset-password {DEMO_ADMIN}` sets a new one)"
            )
        ctx = runtime.system_context("demo")
        await seed_operations(ctx)
        await seed_buses(ctx, buses)
        # Fresh secrets for every device at each start: the simulator holds them in memory.
        secrets = dict(await issue_credentials(ctx, None))
        broker_url = await stack.enter_async_context(broker_in_process(current))
        out.print(f"embedded MQTT broker on [bold]{broker_url}[/bold] (its own process)")
        gateway = Gateway(runtime, broker_address(runtime, broker_url, embedded=True))
        async with Process(stop) as demo:
            demo.start("gateway", gateway.run(stop))
            await gateway.wait_connected()
            stack.enter_context(simulated_fleet(current, broker_url, secrets))
            out.print("simulating the Dijon fleet in real time (its own process)")
            if snow_night:
                run = await play_snow_night(ctx, AlertLevel(snow_night))
                out.print(f"snow night: winter plan run {run.id} at alert level {snow_night}")
            host, port = sock.getsockname()[:2]
            out.print(
                f"Beffroi is serving on [bold]http://{host}:{port}[/bold]  (API docs: /api/docs)"
            )
            # The API stopping (Ctrl-C) stops everything.
            demo.start("api", serve_app(build_app(runtime), sock, stop), essential=True)
            # The gateway in this process keeps the command clock.
            workers.start(demo, runtime, command_clock=False)
            scheduler.start(demo, runtime)


def demo(
    port: Annotated[int | None, typer.Option(help="Default: BEFFROI_PORT, or a free one")] = None,
    snow_night: Annotated[
        int,
        typer.Option(
            min=0,
            max=3,
            help="Play a snow night: the winter plan started and approved at this alert "
            "level (1 watch, 2 salting, 3 heavy snow); 0: none",
        ),
    ] = 0,
) -> None:
    """The whole control room on this machine, on embedded defaults, for a first look."""
    current = settings()
    upgrade_database()
    sock = bind_socket(current.host, current.port if port is None else port, fallback=True)

    async def _main(stop: asyncio.Event) -> None:
        await run_demo(current, sock, stop, snow_night)

    run_until_stopped(_main)
