"""``beffroi simulate``: the simulated fleet, as a separate process, against any broker."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from beffroi.catalogue import CATALOGUE
from beffroi.cli.common import broker_option, console, out, run, settings
from beffroi.config import BrokerUrl
from beffroi.core import process
from beffroi.core.context import Context, Runtime
from beffroi.core.process import Process
from beffroi.simulator import SimAsset, Simulator, load_sim_fleet
from beffroi.simulator.credentials import read_credentials_csv

SUMMARY_EVERY_S = 2.0
PLAIN_SUMMARY_EVERY_S = 10.0  # when the output is not a terminal (logs)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _start_time(text: str | None, timezone: str) -> datetime | None:
    """``--start`` as an aware datetime; without an offset it is the city's local time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not ISO 8601: {text!r}", param_hint="--start") from None
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def _summary(simulator: Simulator, elapsed_s: float, rate: float) -> str:
    """One line: simulated time, connections, messages, commands, faults."""
    stats, fleet = simulator.stats, simulator.engine.stats
    local = simulator.engine.env.sun.local(simulator.clock.now())
    line = (
        f"[bold]{local:%Y-%m-%d %H:%M}[/bold] (x{simulator.clock.speed:g}, {elapsed_s:,.0f} s)"
        f" | {stats.connections}/{len(simulator.engine.identities())} connected"
        f" | {stats.messages_published:,} published ({rate:,.0f}/s)"
        f" | {stats.messages_dropped:,} dropped | {simulator.pending:,} pending"
        f" | {fleet.commands_answered:,} commands"
        f" | {fleet.faults_raised:,} faults ({fleet.faults_cleared:,} cleared)"
    )
    if stats.refused:
        line += (
            f"\n[yellow]{stats.refused:,} connections refused, last: {stats.last_refusal}[/yellow]"
        )
    return line


class _Progress:
    """The summary line, shown again every few seconds (in place on a terminal)."""

    def __init__(self, simulator: Simulator, live: Live | None) -> None:
        self.simulator = simulator
        self.live = live
        self.began = self.last_time = asyncio.get_running_loop().time()
        self.last_count = 0

    async def show(self) -> None:
        """Say the summary line, with the publishing rate since the last one."""
        now, count = asyncio.get_running_loop().time(), self.simulator.messages_published
        rate = (count - self.last_count) / (now - self.last_time)
        line = _summary(self.simulator, now - self.began, rate)
        self.last_count, self.last_time = count, now
        if self.live is not None:
            self.live.update(Text.from_markup(line), refresh=True)
        else:
            out.print(line, soft_wrap=True)


async def _run(simulator: Simulator, duration: float | None, stop: asyncio.Event) -> None:
    if duration is not None:
        asyncio.get_running_loop().call_later(duration, stop.set)
    live = Live(console=out, auto_refresh=False) if out.is_terminal else None
    progress = _Progress(simulator, live)
    with live or contextlib.nullcontext():
        try:
            async with Process(stop) as simulating:
                simulating.start("simulator", simulator.run(stop), essential=True)
                period = SUMMARY_EVERY_S if live else PLAIN_SUMMARY_EVERY_S
                simulating.every("summary", period, progress.show)
        finally:
            await progress.show()  # the last word, even when the simulation failed


def simulate(
    broker: Annotated[
        BrokerUrl | None,
        typer.Option(
            parser=broker_option,
            help="mqtt://host:port (default: BEFFROI_MQTT_URL, else the embedded one)",
        ),
    ] = None,
    credentials: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="CSV id,secret, as `beffroi device credentials --all --out FILE` writes",
        ),
    ] = None,
    anonymous: Annotated[
        bool, typer.Option(help="The broker lets anyone in: connect without secrets")
    ] = False,
    speed: Annotated[
        float, typer.Option(min=0.001, max=100_000, help="Simulated seconds per real second")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same readings and faults")] = 1,
    start: Annotated[
        str | None,
        typer.Option(help="Simulated start, ISO 8601 (local time without offset); default now"),
    ] = None,
    types: Annotated[str | None, typer.Option(help="Type keys, comma-separated")] = None,
    communes: Annotated[str | None, typer.Option(help="Commune codes, comma-separated")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N assets (by id)")] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.1, help="Stop after this many real seconds")
    ] = None,
    qos: Annotated[int, typer.Option(min=0, max=1, help="Telemetry QoS")] = 1,
    fault_rate: Annotated[float, typer.Option(min=0, help="1 = realistic, 0 = no faults")] = 1.0,
    command_failure_rate: Annotated[
        float, typer.Option(min=0, max=1, help="Share of commands that fail")
    ] = 0.02,
    timestamps: Annotated[
        Literal["auto", "simulated", "wall"],
        typer.Option(
            help="ts of readings: simulated time, or the wall-clock moment it stands for. "
            "auto: simulated at speed 1, wall above (the hub refuses ts far in the future)"
        ),
    ] = "auto",
    bulk: Annotated[
        bool,
        typer.Option(
            help="Cabinets speak for their lights in bulk (one message for many); "
            "--no-bulk: every light on its own topics"
        ),
    ] = True,
) -> None:
    """Run the simulated fleet: every device connects to the broker as itself and reports,
    fails and obeys commands. Stop with Ctrl-C."""
    current = settings()
    if (credentials is None) == (not anonymous):
        raise typer.BadParameter("give --credentials FILE, or --anonymous (not both)")
    unknown = [t for t in _split(types) if t not in CATALOGUE]
    if unknown:
        raise typer.BadParameter(
            f"unknown type(s) {', '.join(unknown)}; known: {', '.join(CATALOGUE)}",
            param_hint="--types",
        )
    broker_url = broker or current.broker_url
    secrets = read_credentials_csv(credentials) if credentials is not None else None
    begin = _start_time(start, current.timezone)

    async def _job(_runtime: Runtime, ctx: Context) -> tuple[list[SimAsset], tuple[float, float]]:
        return await load_sim_fleet(
            ctx, types=_split(types), communes=_split(communes), limit=limit
        )

    assets, (latitude, longitude) = run(_job)
    if not assets:
        console.print("[red]error:[/red] no equipment to simulate (try `beffroi fleet generate`)")
        raise typer.Exit(1)
    simulator = Simulator(
        assets,
        secrets,
        broker_url,
        root=current.mqtt_root,
        speed=speed,
        seed=seed,
        start=begin,
        qos=qos,
        fault_rate=fault_rate,
        command_failure_rate=command_failure_rate,
        latitude=latitude,
        longitude=longitude,
        timezone=current.timezone,
        timestamps=("simulated" if speed == 1 else "wall") if timestamps == "auto" else timestamps,
        bulk=bulk,
    )
    connections = len(simulator.engine.identities())
    out.print(
        f"simulating {len(assets):,} devices over {connections:,} connections to {broker_url} "
        f"at x{speed:g}; Ctrl-C stops"
    )
    try:
        process.run(lambda stop: _run(simulator, duration, stop))
    except ConnectionError as exc:
        # No device could connect at all: wrong broker, most likely. (Later losses are
        # reconnected by the simulator itself.)
        console.print(
            f"[red]error:[/red] {escape(str(exc))}; give --broker mqtt://host:port, "
            "or set BEFFROI_MQTT_URL (else BEFFROI_BROKER_HOST and BEFFROI_BROKER_PORT)",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    stats = simulator.stats
    out.print(
        f"stopped: {stats.messages_published:,} messages published, "
        f"{simulator.commands_answered:,} commands answered, "
        f"{simulator.faults_raised:,} faults raised"
    )
