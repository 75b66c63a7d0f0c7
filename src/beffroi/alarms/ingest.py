"""Alarms from the ingest stream: fault events, silences and rule breaches, raised in the
transaction that stores the messages behind them.

Rules and alarms are follow-up stages (:mod:`beffroi.telemetry.followup`): whatever fails
in them, the batch is stored. The rules run inside the alarms' stage, so an asset whose
alarms cannot be raised has its rules' states rolled back with them and judged again on
its next values, rather than a rule believing it raised an alarm that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms import raising
from beffroi.alarms.lifecycle import COMMUNICATION_LOSS, AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.core.events import DomainEvent
from beffroi.telemetry.decode import Rejection
from beffroi.telemetry.events import ConnectivityChanged, DeviceEventReceived
from beffroi.telemetry.followup import Part, Stage, run_stage
from beffroi.telemetry.store import Newest, Seen


@dataclass(slots=True)
class Observed:
    """Hub events of the alarms a batch changed (alarms refuse no message)."""

    events: list[DomainEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class RuleEvaluation(Protocol):
    """What a rule engine returns for a batch."""

    signals: list[AlarmSignal]
    failed: list[tuple[int, str]]


class Rules(Protocol):
    """The monitoring rules, evaluated on each batch's newest values."""

    @property
    def idle(self) -> bool:
        """Whether there is nothing to evaluate nor to report."""
        ...

    async def evaluate(
        self, session: AsyncSession, newest: Newest, now: datetime
    ) -> RuleEvaluation:
        """Signals of the rules the batch's values breach or satisfy again."""
        ...


def _of(newest: Newest, assets: frozenset[str]) -> Newest:
    """The values of ``assets`` among ``newest``."""
    return {k: v for k, v in newest.items() if k[0] in assets}


def fault_signals(events: Sequence[DeviceEventReceived]) -> list[AlarmSignal]:
    """A fault event raises (``active``) or clears its alarm; the catalogue gives the
    severity of the code."""
    return [
        AlarmSignal(
            e.asset_id,
            e.code,
            e.active,
            e.ts,
            AlarmSource.DEVICE,
            detail={**e.detail, **({"gateway": e.gateway_id} if e.gateway_id else {})},
        )
        for e in events
    ]


def connectivity_signals(changes: Sequence[ConnectivityChanged]) -> list[AlarmSignal]:
    """Going offline (silence or will message) raises a communication loss; coming back
    clears it."""
    return [
        AlarmSignal(
            c.asset_id,
            COMMUNICATION_LOSS,
            not c.online,
            c.ts,
            AlarmSource.CONNECTIVITY,
            detail={"reason": c.reason},
        )
        for c in changes
    ]


class AlarmObserver:
    """Follows the ingest stream for the alarm list (see :class:`TelemetryStore`).

    A rule that fails is left out of its batch and queued in ``failed``, for the caller
    to disable outside the ingest transaction: a bad rule never stops ingestion.
    """

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules
        self.failed: list[tuple[int, str]] = []

    async def observe(self, session: AsyncSession, seen: Seen, now: datetime) -> Observed:
        """Raise and clear the alarms of what the batch brought."""
        signals = fault_signals(seen.events) + connectivity_signals(seen.connectivity)
        newest = seen.newest if self.rules is not None and not self.rules.idle else {}
        if not signals and not newest:
            return Observed()

        async def alarms_of(part: Part) -> tuple[list[DomainEvent], list[tuple[int, str]]]:
            mine = [s for s in signals if part is None or s.asset_id in part]
            failed: list[tuple[int, str]] = []
            if newest:
                values = newest if part is None else _of(newest, part)
                for evaluation in await self._evaluate(session, values, now):
                    mine += evaluation.signals
                    failed += evaluation.failed
            return await raising.apply(session, mine, now), failed

        def assets() -> set[str]:
            return {s.asset_id for s in signals} | {asset for asset, _ in newest}

        out = Observed()
        for events, failed in await run_stage(session, Stage.ALARMS, alarms_of, assets):
            out.events += events
            self.failed += failed
        return out

    async def _evaluate(
        self, session: AsyncSession, newest: Newest, now: datetime
    ) -> list[RuleEvaluation]:
        """The rules' verdicts on ``newest``, a stage of its own inside the alarms'."""
        rules = self.rules
        assert rules is not None

        async def evaluate(part: Part) -> RuleEvaluation:
            return await rules.evaluate(session, newest if part is None else _of(newest, part), now)

        return await run_stage(
            session, Stage.RULES, evaluate, lambda: {asset for asset, _ in newest}
        )

    async def silenced(
        self, session: AsyncSession, changes: Sequence[ConnectivityChanged], now: datetime
    ) -> list[DomainEvent]:
        """Raise communication losses for devices the silence job marked offline."""
        return await raising.apply(session, connectivity_signals(changes), now)

    def take_failed(self) -> list[tuple[int, str]]:
        """The rules that failed since the last call."""
        failed, self.failed = self.failed, []
        return failed
