"""The live board: what the map shows of every asset, kept current for the console.

In a process that ingests (the demo; an API served beside the gateway), events on the hub
move states at once. Every ``console_resync_s`` the whole board is read again from the
database, which is how changes made by other processes (a gateway of its own) reach it,
and how anything missed is put right. Each change of a drawn state goes back on the hub
as :class:`AssetStateChanged`, for the live stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from beffroi.alarms import queries as alarm_queries
from beffroi.alarms.events import AlarmChanged
from beffroi.alarms.lifecycle import ACTIVE, Action, AlarmState
from beffroi.assets import queries as asset_queries
from beffroi.assets.lifecycle import AssetStatus
from beffroi.catalogue import CATALOGUE
from beffroi.catalogue.visibility import shows
from beffroi.commands import queries as command_queries
from beffroi.commands.events import CommandChanged
from beffroi.commands.lifecycle import OPEN as OPEN_COMMANDS
from beffroi.console.events import AssetStateChanged
from beffroi.console.states import Live, MapState
from beffroi.core.context import Runtime
from beffroi.core.principal import Permission, Principal
from beffroi.core.time import utcnow
from beffroi.telemetry import queries as telemetry_queries
from beffroi.telemetry.events import ConnectivityChanged

log = structlog.get_logger(__name__)

ACTIVE_STATES = {s.value for s in ACTIVE}
OPEN_COMMAND_STATES = {s.value for s in OPEN_COMMANDS}
COLUMNS = ("id", "type", "name", "commune", "lon", "lat", "state", "severity")
# Events applied between two yields to the loop (a city-wide command moves 34,000).
BATCH = 5000


@dataclass(frozen=True, slots=True)
class Reading:
    """The board as the database holds it at one moment."""

    assets: dict[str, Live]
    shelved: set[int]


class LiveBoard:
    """Every visible asset's drawn state, following the hub and the database."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.assets: dict[str, Live] = {}
        self._shelved: set[int] = set()
        self._loaded = asyncio.Lock()
        self.loaded = False

    # --- reading ------------------------------------------------------------------------

    async def ensure_loaded(self) -> None:
        """Read the board once if nothing has yet (a process without the refresher)."""
        async with self._loaded:
            if not self.loaded:
                await self.reload()

    async def reload(self) -> int:
        """Read everything again; publish the states that changed. Returns their count."""
        reading = await self._read()
        changed = self._replace(reading)
        if not self.loaded:  # the first reading is the start, not a change
            self.loaded = True
            return 0
        self.runtime.events.publish_many(changed)
        return len(changed)

    async def _read(self) -> Reading:
        now = utcnow()
        assets: dict[str, Live] = {}
        async with self.runtime.db.read() as session:
            for row in await asset_queries.map_rows(session):
                spec = CATALOGUE.get(row.type)
                assets[row.id] = Live(
                    type=row.type,
                    name=row.name,
                    commune=row.commune,
                    lon=row.lon,
                    lat=row.lat,
                    maintenance=row.status == AssetStatus.MAINTENANCE.value,
                    reports=bool(spec and spec.telemetry),
                )
            for asset_id, online in await telemetry_queries.connectivity(session):
                if (live := assets.get(asset_id)) is not None:
                    live.online = online
            shelved: set[int] = set()
            for alarm in await alarm_queries.active(session):
                if alarm.shelved_until is not None and alarm.shelved_until > now:
                    shelved.add(alarm.id)
                elif (live := assets.get(alarm.asset_id)) is not None:
                    live.alarms[alarm.id] = alarm.severity
            for command_id, asset_id in await command_queries.open_commands(session):
                if (live := assets.get(asset_id)) is not None:
                    live.commands.add(command_id)
        return Reading(assets, shelved)

    def _replace(self, reading: Reading) -> list[AssetStateChanged]:
        changed = []
        for asset_id, live in reading.assets.items():
            old = self.assets.get(asset_id)
            shown = live.shown()
            if old is None or old.shown() != shown:
                changed.append(AssetStateChanged(asset_id, live.commune, shown[0], shown[1]))
        self.assets, self._shelved = reading.assets, reading.shelved
        return changed

    # --- following the hub --------------------------------------------------------------

    def apply(self, events: Iterable[object]) -> list[AssetStateChanged]:
        """Move states by hub events; returns the drawn states that changed."""
        before: dict[str, tuple[MapState, str | None]] = {}
        for event in events:
            asset_id = getattr(event, "asset_id", None)
            live = self.assets.get(asset_id) if isinstance(asset_id, str) else None
            if live is None or asset_id is None:
                continue
            if isinstance(event, CommandChanged):
                # Most moves of a command keep it open: nothing to draw anew.
                opened = event.state in OPEN_COMMAND_STATES
                if opened == (event.command_id in live.commands):
                    continue
                if asset_id not in before:
                    before[asset_id] = live.shown()
                if opened:
                    live.commands.add(event.command_id)
                else:
                    live.commands.discard(event.command_id)
                continue
            if asset_id not in before:
                before[asset_id] = live.shown()
            if isinstance(event, AlarmChanged):
                self._alarm(live, event)
            elif isinstance(event, ConnectivityChanged):
                live.online = event.online
        changed = []
        for asset_id, was in before.items():
            live = self.assets[asset_id]
            now = live.shown()
            if now != was:
                changed.append(AssetStateChanged(asset_id, live.commune, now[0], now[1]))
        return changed

    def _alarm(self, live: Live, event: AlarmChanged) -> None:
        if event.action == Action.SHELVED:
            self._shelved.add(event.alarm_id)
        elif event.action == Action.UNSHELVED:
            self._shelved.discard(event.alarm_id)
        if event.state in ACTIVE_STATES and event.alarm_id not in self._shelved:
            live.alarms[event.alarm_id] = event.severity
        else:
            live.alarms.pop(event.alarm_id, None)
            if event.state == AlarmState.CLEARED_ACKNOWLEDGED:
                self._shelved.discard(event.alarm_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the hub, and read the database again every ``console_resync_s``, until
        ``stop`` is set. Stopping interrupts the wait, never a reading: a reading cut
        off in the middle would leave its database connection to the garbage collector."""
        every = self.runtime.settings.console_resync_s
        with self.runtime.events.subscribe(
            AlarmChanged, ConnectivityChanged, CommandChanged
        ) as subscription:
            loop = asyncio.get_running_loop()
            next_read = loop.time()
            stopping = asyncio.create_task(stop.wait())
            try:
                while not stop.is_set():
                    getting = asyncio.create_task(subscription.get())
                    await asyncio.wait(
                        (getting, stopping),
                        timeout=max(0.0, next_read - loop.time()),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if not getting.done():
                        getting.cancel()
                        if stop.is_set():
                            return
                        next_read = loop.time() + every
                        try:
                            async with self._loaded:
                                await self.reload()
                        except Exception:  # a database hiccup must not stop the board
                            log.exception("console.board.reload_failed")
                        continue
                    if not self.loaded:
                        continue  # events before the first reading are in it
                    batch = [getting.result(), *subscription.take(BATCH - 1)]
                    self.runtime.events.publish_many(self.apply(batch))
            finally:
                stopping.cancel()

    # --- what the map shows -------------------------------------------------------------

    def rows(
        self, principal: Principal, *, commune: str | None = None, kind: str | None = None
    ) -> list[tuple[object, ...]]:
        """The map's rows (:data:`COLUMNS`) of the assets ``principal`` may read."""
        principal.require(Permission.ASSET_READ)
        sees = principal.sees
        out: list[tuple[object, ...]] = []
        for asset_id, live in self.assets.items():
            if commune is not None and live.commune != commune:
                continue
            if kind is not None and live.type != kind:
                continue
            if not sees(live.commune) or not shows(principal, live.type):
                continue
            state, severity = live.shown()
            out.append(
                (asset_id, live.type, live.name, live.commune, live.lon, live.lat, state, severity)
            )
        return out

    def shows(self, principal: Principal, asset_id: str | None) -> bool:
        """Whether an asset's equipment exists for ``principal`` (cameras: see
        :mod:`beffroi.catalogue.visibility`). An asset the board does not hold (not read
        yet, decommissioned) exists only for who sees every type: never a leak."""
        if principal.sees_video:
            return True
        live = self.assets.get(asset_id) if asset_id is not None else None
        return live is not None and shows(principal, live.type)

    def commune_of(self, asset_id: str) -> str | None:
        """The commune of an asset on the board, if any."""
        live = self.assets.get(asset_id)
        return live.commune if live is not None else None
