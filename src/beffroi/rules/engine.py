"""The rule engine of the ingest path: evaluates a batch's newest values against the
enabled rules, inside the batch's transaction, with a bounded cost per message.

Rules are held in memory, indexed by (asset type, key): a value no rule concerns costs
one dict look-up. States are read and written set-based (:mod:`.states`), inside the
savepoint of the alarm observer's follow-up stage (:mod:`beffroi.telemetry.followup`), so
neither a failing rule nor a failing statement can fail the batch: a rule that raises is
left out of the batch and reported in ``failed``, and :meth:`RuleEngine.disable_failed`
then disables it in a transaction of its own; a statement that fails is the stage's.

Wiring (gateway): ``engine = RuleEngine(directory.get)``; ``await engine.refresh(db)`` at
start and every few seconds (rules edited through the API are seen at the next
refresh); pass the engine to the alarm observer, which calls :meth:`evaluate`; after the
batch commits, ``await engine.disable_failed(db, observer.take_failed())`` and publish
the events it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beffroi.alarms.lifecycle import AlarmSource
from beffroi.alarms.signals import AlarmSignal
from beffroi.catalogue import Severity
from beffroi.communes import queries as commune_queries
from beffroi.core.events import DomainEvent
from beffroi.core.sun import SunCalendar
from beffroi.core.time import utcnow
from beffroi.db import Database
from beffroi.rules import states
from beffroi.rules.conditions import (
    JOB_ONLY,
    Condition,
    Reading,
    RuleError,
    RuleKind,
    State,
    build,
)
from beffroi.rules.disabling import disable_after_error
from beffroi.rules.models import MonitoringRule
from beffroi.telemetry.decode import DeviceInfo

Newest = Mapping[tuple[str, str], tuple[datetime, float | None, str | None]]
MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """An enabled rule, ready to evaluate."""

    id: int
    version: int
    key: str
    kind: RuleKind
    asset_type: str
    communes: frozenset[str] | None
    alarm_type: str
    severity: Severity
    condition: Condition

    def applies(self, commune: str) -> bool:
        """Whether the rule covers assets of ``commune``."""
        return self.communes is None or commune in self.communes


@dataclass(slots=True)
class Evaluation:
    """What a batch did to the rules: alarm signals, and rules that failed."""

    signals: list[AlarmSignal] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def describe(exc: BaseException) -> str:
    """An error as a rule's error text."""
    text = str(exc) if isinstance(exc, RuleError) else f"{type(exc).__name__}: {exc}"
    return text[:MAX_ERROR]


def compile_rule(row: MonitoringRule, sun: SunCalendar | None) -> CompiledRule:
    """A stored rule made ready; raises :class:`RuleError` when it cannot be."""
    try:
        kind, severity = RuleKind(row.kind), Severity(row.severity)
    except ValueError as exc:
        raise RuleError(str(exc)) from exc
    return CompiledRule(
        row.id,
        row.version,
        row.key,
        kind,
        row.asset_type,
        frozenset(row.communes) if row.communes is not None else None,
        row.alarm_type,
        severity,
        build(kind, row.params, sun),
    )


Work = tuple[CompiledRule, str, Reading]


class RuleEngine:
    """The enabled rules of one process, and their evaluation on ingest batches."""

    def __init__(
        self, lookup: Callable[[str], DeviceInfo | None], *, timezone: str = "Europe/Paris"
    ) -> None:
        self.lookup = lookup
        self.timezone = timezone
        self._by_key: dict[tuple[str, str], list[CompiledRule]] = {}
        self._any_key: dict[str, list[CompiledRule]] = {}
        self._rules: dict[int, CompiledRule] = {}
        self._sun: SunCalendar | None = None
        # Rules that could not even be compiled, reported with the next batch.
        self._unbuildable: list[tuple[int, str]] = []

    @property
    def rules(self) -> Mapping[int, CompiledRule]:
        """The rules evaluated now, by id."""
        return self._rules

    @property
    def idle(self) -> bool:
        """Nothing to evaluate nor to report: no enabled rule, none that failed to build."""
        return not self._rules and not self._unbuildable

    async def refresh(self, db: Database) -> None:
        """Reload the enabled rules (and the city's sun) from the database."""
        async with db.read() as session:
            sun = await commune_queries.city_sun(session, self.timezone)
            rows = (
                await session.execute(
                    select(MonitoringRule)
                    .where(MonitoringRule.enabled.is_(True))
                    .order_by(MonitoringRule.id)
                )
            ).scalars()
            compiled: list[CompiledRule] = []
            unbuildable: list[tuple[int, str]] = []
            for row in rows:
                try:
                    compiled.append(compile_rule(row, sun))
                except Exception as exc:  # whatever is wrong with a row is its rule's fault
                    unbuildable.append((row.id, describe(exc)))
        self._sun = sun
        self._index(compiled)
        self._unbuildable = unbuildable

    def _index(self, compiled: Sequence[CompiledRule]) -> None:
        by_key: dict[tuple[str, str], list[CompiledRule]] = {}
        any_key: dict[str, list[CompiledRule]] = {}
        for rule in compiled:
            if rule.kind in JOB_ONLY:
                continue  # judged by its job, costing the ingest path nothing
            key = rule.condition.key
            if key is None:
                any_key.setdefault(rule.asset_type, []).append(rule)
            else:
                by_key.setdefault((rule.asset_type, key), []).append(rule)
        self._by_key, self._any_key = by_key, any_key
        self._rules = {r.id: r for r in compiled}

    def forget(self, rule_ids: Sequence[int]) -> None:
        """Stop evaluating these rules (they failed) until the next refresh finds them
        enabled again."""
        gone = set(rule_ids)
        if gone & self._rules.keys():
            self._index([r for r in self._rules.values() if r.id not in gone])

    def _work(self, newest: Newest) -> list[Work]:
        """The (rule, asset, reading) triples a batch concerns."""
        work: list[Work] = []
        any_key: dict[str, tuple[DeviceInfo, Reading]] = {}
        for (asset_id, key), (ts, value, text) in newest.items():
            info = self.lookup(asset_id)
            if info is None:
                continue
            type_key = info.type.key
            rules = self._by_key.get((type_key, key))
            if rules:
                reading = Reading(ts, value, text)
                work += [(r, asset_id, reading) for r in rules if r.applies(info.commune)]
            if type_key in self._any_key:
                seen = any_key.get(asset_id)
                if seen is None or ts > seen[1].ts:
                    any_key[asset_id] = (info, Reading(ts, value, text))
        for asset_id, (info, reading) in any_key.items():
            rules = self._any_key[info.type.key]
            work += [(r, asset_id, reading) for r in rules if r.applies(info.commune)]
        return work

    async def evaluate(self, session: AsyncSession, newest: Newest, now: datetime) -> Evaluation:
        """Signals of the rules that one batch's newest values breach or satisfy again.

        ``newest`` maps (asset, key) to (ts, number, text). Never raises for a rule's
        sake: failures are in ``Evaluation.failed``. A statement that fails (the rules'
        states) raises: the caller runs this in a savepoint, as the alarm observer's
        follow-up stage does, which tries the batch's assets again apart.
        """
        unbuildable, self._unbuildable = self._unbuildable, []
        evaluation = Evaluation(failed=list(unbuildable))
        if not self._rules:
            return evaluation
        work = self._work(newest)
        if not work:
            return evaluation
        try:
            if await self._sync(session, sorted({r.id for r, _, _ in work}), evaluation):
                work = self._work(newest)
            known = await states.load(session, {(r.id, a) for r, a, _ in work})
            changed, gone = self._step(work, known, now, evaluation)
            await states.save(session, changed, gone)
        except BaseException:
            # The caller's savepoint is rolled back: the rules that could not even be
            # compiled are still to report, with the next batch.
            self._unbuildable = unbuildable + self._unbuildable
            raise
        self.forget([rule_id for rule_id, _ in evaluation.failed])
        return evaluation

    async def _sync(
        self, session: AsyncSession, rule_ids: list[int], evaluation: Evaluation
    ) -> bool:
        """Bring the batch's rules up to date with the table (one look-up by primary
        key): a rule edited, disabled or deleted elsewhere (the API, another gateway) is
        applied from this batch on, not from the next refresh. True if any changed."""
        result = await session.execute(
            select(MonitoringRule.id, MonitoringRule.version).where(
                MonitoringRule.id.in_(rule_ids), MonitoringRule.enabled.is_(True)
            )
        )
        current = {row.id: row.version for row in result}
        stale = {i for i in rule_ids if current.get(i) != self._rules[i].version}
        if not stale:
            return False
        kept = [r for r in self._rules.values() if r.id not in stale]
        rows = await session.execute(
            select(MonitoringRule).where(MonitoringRule.id.in_(sorted(stale & current.keys())))
        )
        for row in rows.scalars():
            try:
                kept.append(compile_rule(row, self._sun))
            except Exception as exc:  # as in refresh
                evaluation.failed.append((row.id, describe(exc)))
        self._index(sorted(kept, key=lambda r: r.id))
        return True

    def _step(
        self,
        work: list[Work],
        known: dict[tuple[int, str], State],
        now: datetime,
        evaluation: Evaluation,
    ) -> tuple[dict[tuple[int, str], State], dict[tuple[int, str], datetime | None]]:
        failed: set[int] = set()
        results = []
        for rule, asset_id, reading in sorted(work, key=lambda w: (w[0].id, w[1])):
            if rule.id in failed:
                continue
            old = known.get((rule.id, asset_id))
            try:
                outcome = rule.condition.step(old, reading, now)
            except Exception as exc:  # a rule's fault, whatever it is: skip and report
                failed.add(rule.id)
                evaluation.failed.append((rule.id, describe(exc)))
                continue
            results.append((rule, asset_id, reading, old, outcome))
        changed: dict[tuple[int, str], State] = {}
        gone: dict[tuple[int, str], datetime | None] = {}
        for rule, asset_id, reading, old, outcome in results:
            if rule.id in failed:
                continue  # none of a failed rule's batch is kept
            pair = (rule.id, asset_id)
            if outcome.state is None:
                if old is not None:
                    gone[pair] = reading.ts
            elif outcome.state != old:
                changed[pair] = outcome.state
            if outcome.change is None:
                continue
            ts = reading.ts
            if not outcome.change and old is not None and old.since is not None:
                # A clear never predates the raising (a silence is raised at job time).
                ts = max(ts, old.since)
            evaluation.signals.append(
                AlarmSignal(
                    asset_id,
                    rule.alarm_type,
                    outcome.change,
                    ts,
                    AlarmSource.RULE,
                    rule.severity,
                    {"rule": rule.key, "kind": rule.kind.value, **outcome.detail},
                    rule.id,
                )
            )
        return changed, gone

    async def disable_failed(
        self, db: Database, failed: Sequence[tuple[int, str]], now: datetime | None = None
    ) -> list[DomainEvent]:
        """Disable the rules that failed, in a transaction of their own; returns the hub
        events (:class:`~beffroi.rules.events.RuleDisabled`, and the alarms cleared)."""
        if not failed:
            return []
        self.forget([rule_id for rule_id, _ in failed])
        return await disable_after_error(db, failed, now or utcnow())
