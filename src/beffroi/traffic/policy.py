"""Whether a timing plan may run on a controller: a pure check against the controller's
configuration (:mod:`beffroi.traffic.config`), as :mod:`beffroi.commands.policy` checks a
command. Only plans passing it are stored, and so delivered.

A plan runs its stages in sequence through one cycle. A stage's *split* runs from the
start of its greens to the start of the next stage's: it holds the stage's green, then
the interstage, the longest intergreen from a group losing its green to a conflicting
group gaining it. The rules, each one naming the stage, groups and seconds at fault:

1. the stages exist and a stage is not followed by itself;
2. no stage greens two conflicting groups;
3. the interstage after each stage fits in its split;
4. every group green in a stage gets at least its minimum green;
5. the splits add up to the cycle, and the offset lies within it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from beffroi.core.errors import FieldError, InvalidInput
from beffroi.traffic.config import ControllerConfig, Stage, stage_conflicts

MIN_CYCLE_S = 20
MAX_CYCLE_S = 300


class Rule(StrEnum):
    """The rule a plan breaks (named in each error)."""

    UNKNOWN_STAGE = "unknown_stage"
    REPEATED_STAGE = "repeated_stage"
    CONFLICTING_GREENS = "conflicting_greens"
    INTERGREEN = "intergreen"
    MIN_GREEN = "min_green"
    CYCLE = "cycle"
    OFFSET = "offset"


@dataclass(frozen=True, slots=True)
class StageSplit:
    """One step of a plan: a stage and its split in seconds."""

    stage: str
    split_s: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A timing plan: number (RSMP/NTCIP plan number), cycle, offset, stage sequence."""

    number: int
    cycle_s: int
    offset_s: int
    stages: tuple[StageSplit, ...]


@dataclass(frozen=True, slots=True)
class PlanError:
    """One broken rule: where in the plan (a dotted field path) and why."""

    rule: Rule
    field: str
    message: str

    def as_field_error(self) -> FieldError:
        """The form the API's 422 problem carries."""
        return FieldError(self.field, f"{self.message} [{self.rule.value}]")


@dataclass(frozen=True, slots=True)
class Interstage:
    """The change from one stage to the next: its seconds, and the pair setting them."""

    seconds: int
    losing: str | None = None
    gaining: str | None = None


def interstage(config: ControllerConfig, before: Stage, after: Stage) -> Interstage:
    """The longest intergreen from a group losing its green at the change to a group
    gaining one (0 when no such pair conflicts)."""
    worst = Interstage(0)
    losing = [g for g in before.groups if g not in after.groups]
    gaining = [g for g in after.groups if g not in before.groups]
    for a in losing:
        for b in gaining:
            seconds = config.intergreens.get((a, b))
            if seconds is not None and seconds > worst.seconds:
                worst = Interstage(seconds, a, b)
    return worst


def check_plan(config: ControllerConfig, plan: Plan) -> list[PlanError]:
    """Every rule ``plan`` breaks on a controller configured as ``config`` (empty: valid)."""
    errors: list[PlanError] = []
    if not MIN_CYCLE_S <= plan.cycle_s <= MAX_CYCLE_S:
        errors.append(
            PlanError(
                Rule.CYCLE,
                "cycle_s",
                f"cycle of {plan.cycle_s} s outside {MIN_CYCLE_S} to {MAX_CYCLE_S} s",
            )
        )
    if not 0 <= plan.offset_s < max(plan.cycle_s, 1):
        errors.append(
            PlanError(
                Rule.OFFSET,
                "offset_s",
                f"offset of {plan.offset_s} s outside the cycle (0 to {plan.cycle_s - 1} s)",
            )
        )
    if not plan.stages:
        errors.append(PlanError(Rule.UNKNOWN_STAGE, "stages", "a plan runs at least one stage"))
        return errors
    total = sum(s.split_s for s in plan.stages)
    if total != plan.cycle_s:
        errors.append(
            PlanError(
                Rule.CYCLE,
                "stages",
                f"splits add up to {total} s but the cycle is {plan.cycle_s} s",
            )
        )
    stages = _known_stages(config, plan.stages, errors)
    if stages is None:
        return errors
    for index, stage in enumerate(stages):
        errors += [
            PlanError(Rule.CONFLICTING_GREENS, f"stages[{index}].stage", message)
            for message in stage_conflicts(config, stage)
        ]
    errors += _timing_errors(config, plan.stages, stages)
    return errors


def _known_stages(
    config: ControllerConfig, steps: Sequence[StageSplit], errors: list[PlanError]
) -> list[Stage] | None:
    """The configured stages ``steps`` name, or ``None`` (errors added) when one is unknown
    or a stage follows itself (its timing would then mean nothing)."""
    stages: list[Stage] = []
    for index, step in enumerate(steps):
        stage = config.stage(step.stage)
        if stage is None:
            errors.append(
                PlanError(Rule.UNKNOWN_STAGE, f"stages[{index}].stage", f"no stage {step.stage!r}")
            )
            continue
        stages.append(stage)
    if len(stages) != len(steps):
        return None
    if len(steps) > 1:
        for index, step in enumerate(steps):
            following = steps[(index + 1) % len(steps)]
            if following.stage == step.stage:
                errors.append(
                    PlanError(
                        Rule.REPEATED_STAGE,
                        f"stages[{index}].stage",
                        f"stage {step.stage} is followed by itself",
                    )
                )
        if any(e.rule is Rule.REPEATED_STAGE for e in errors):
            return None
    return stages


def _timing_errors(
    config: ControllerConfig, steps: Sequence[StageSplit], stages: Sequence[Stage]
) -> list[PlanError]:
    errors: list[PlanError] = []
    count = len(stages)
    changes = [
        interstage(config, stage, stages[(index + 1) % count]) if count > 1 else Interstage(0)
        for index, stage in enumerate(stages)
    ]
    for index, (step, stage, change) in enumerate(zip(steps, stages, changes, strict=True)):
        if change.seconds >= step.split_s:
            following = stages[(index + 1) % count].name
            errors.append(
                PlanError(
                    Rule.INTERGREEN,
                    f"stages[{index}].split_s",
                    f"stage {stage.name}: the change to {following} needs {change.seconds} s "
                    f"({change.losing} -> {change.gaining} intergreen) but the split is "
                    f"{step.split_s} s, leaving no green",
                )
            )
    if errors:
        return errors
    for index, stage in enumerate(stages):
        for name in stage.groups:
            group = config.group(name)
            green = _green_from(steps, stages, changes, index, name)
            if group is not None and green is not None and green < group.min_green_s:
                errors.append(
                    PlanError(
                        Rule.MIN_GREEN,
                        f"stages[{index}].split_s",
                        f"stage {stage.name}: {name} gets {green} s of green, "
                        f"its minimum is {group.min_green_s} s",
                    )
                )
    return errors


def _green_from(
    steps: Sequence[StageSplit],
    stages: Sequence[Stage],
    changes: Sequence[Interstage],
    index: int,
    group: str,
) -> int | None:
    """The green ``group`` gets from stage ``index`` on, when its green starts there: it
    runs through the following stages that keep it green, and ends when the interstage
    after the last one begins. ``None`` when its green does not start at ``index`` (it was
    counted where it started) or never ends (green in every stage)."""
    count = len(stages)
    if group in stages[index - 1].groups and count > 1:
        return None
    seconds = 0
    for step in range(count):
        at = (index + step) % count
        if group not in stages[at].groups:
            return None if step == 0 else seconds
        seconds += steps[at].split_s
        following = stages[(at + 1) % count]
        if group not in following.groups or count == 1:
            return seconds - changes[at].seconds
    return None


def require_valid(config: ControllerConfig, plan: Plan) -> None:
    """Raise :class:`~beffroi.core.errors.InvalidInput` naming every broken rule."""
    errors = check_plan(config, plan)
    if errors:
        raise InvalidInput([e.as_field_error() for e in errors])
