"""A traffic signal controller's configuration, as a pure model (RSMP SXL / NTCIP 1202
vocabulary): signal groups with their minimum greens, detectors, stages (the groups green
together), and the intergreen matrix.

The intergreen matrix gives, for each ordered pair of conflicting signal groups, the
minimum seconds between the end of the first one's green and the start of the second
one's; a pair absent from the matrix does not conflict. Conflicts are symmetric, so a pair
present one way must be present the other way (with its own seconds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from beffroi.core.errors import FieldError

MAX_INTERGREEN_S = 30
MAX_MIN_GREEN_S = 60


class GroupKind(StrEnum):
    """What a signal group controls."""

    VEHICLE = "vehicle"
    PEDESTRIAN = "pedestrian"
    CYCLE = "cycle"
    BUS = "bus"


@dataclass(frozen=True, slots=True)
class SignalGroup:
    """A set of signal heads always showing the same aspect (RSMP ``signalgroup``)."""

    name: str
    kind: GroupKind
    min_green_s: int


@dataclass(frozen=True, slots=True)
class Detector:
    """A loop or camera zone, counting for ``group`` (the approach it serves)."""

    name: str
    group: str | None


@dataclass(frozen=True, slots=True)
class Stage:
    """A set of non-conflicting signal groups green together (NTCIP "phase" combination)."""

    name: str
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ControllerConfig:
    """What a controller is made of; ``intergreens[(a, b)]``: seconds from a's green end to
    b's green start, for conflicting a and b."""

    groups: tuple[SignalGroup, ...]
    detectors: tuple[Detector, ...]
    stages: tuple[Stage, ...]
    intergreens: Mapping[tuple[str, str], int]

    def group(self, name: str) -> SignalGroup | None:
        """The signal group named ``name``, if any."""
        return next((g for g in self.groups if g.name == name), None)

    def stage(self, name: str) -> Stage | None:
        """The stage named ``name``, if any."""
        return next((s for s in self.stages if s.name == name), None)

    def conflict(self, a: str, b: str) -> bool:
        """Whether groups ``a`` and ``b`` may never be green together."""
        return (a, b) in self.intergreens or (b, a) in self.intergreens

    def as_document(self) -> dict[str, Any]:
        """The JSON form stored and served (the inverse of :func:`from_document`)."""
        return {
            "groups": [
                {"name": g.name, "kind": g.kind.value, "min_green_s": g.min_green_s}
                for g in self.groups
            ],
            "detectors": [{"name": d.name, "group": d.group} for d in self.detectors],
            "stages": [{"name": s.name, "groups": list(s.groups)} for s in self.stages],
            "intergreens": [
                {"from": a, "to": b, "seconds": s} for (a, b), s in sorted(self.intergreens.items())
            ],
        }


def from_document(doc: Mapping[str, Any]) -> ControllerConfig:
    """The configuration of a stored (already validated) document."""
    return ControllerConfig(
        groups=tuple(
            SignalGroup(g["name"], GroupKind(g["kind"]), int(g["min_green_s"]))
            for g in doc.get("groups", ())
        ),
        detectors=tuple(Detector(d["name"], d.get("group")) for d in doc.get("detectors", ())),
        stages=tuple(Stage(s["name"], tuple(s["groups"])) for s in doc.get("stages", ())),
        intergreens={(i["from"], i["to"]): int(i["seconds"]) for i in doc.get("intergreens", ())},
    )


def _duplicates(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    twice: list[str] = []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def check_config(config: ControllerConfig) -> list[FieldError]:
    """Everything wrong with ``config`` (empty when it is sound): unique names, groups
    that exist, a symmetric conflict matrix, and no stage greening conflicting groups."""
    errors: list[FieldError] = []
    names = {g.name for g in config.groups}
    if not config.groups:
        errors.append(FieldError("groups", "a controller has at least one signal group"))
    for what, items in (
        ("groups", config.groups),
        ("detectors", config.detectors),
        ("stages", config.stages),
    ):
        for name in _duplicates(i.name for i in items):
            errors.append(FieldError(what, f"{name!r} is named twice"))
    for index, group in enumerate(config.groups):
        if not 1 <= group.min_green_s <= MAX_MIN_GREEN_S:
            errors.append(
                FieldError(
                    f"groups[{index}].min_green_s",
                    f"{group.name}: minimum green must be 1 to {MAX_MIN_GREEN_S} s",
                )
            )
    for index, detector in enumerate(config.detectors):
        if detector.group is not None and detector.group not in names:
            errors.append(
                FieldError(f"detectors[{index}].group", f"no signal group {detector.group!r}")
            )
    for (a, b), seconds in sorted(config.intergreens.items()):
        where = f"intergreens[{a}->{b}]"
        if a not in names or b not in names:
            missing = a if a not in names else b
            errors.append(FieldError(where, f"no signal group {missing!r}"))
        elif a == b:
            errors.append(FieldError(where, f"{a} cannot conflict with itself"))
        elif (b, a) not in config.intergreens:
            errors.append(FieldError(where, f"{a} conflicts with {b} but {b}->{a} is missing"))
        if not 0 <= seconds <= MAX_INTERGREEN_S:
            errors.append(FieldError(where, f"intergreen must be 0 to {MAX_INTERGREEN_S} s"))
    for index, stage in enumerate(config.stages):
        if not stage.groups:
            errors.append(FieldError(f"stages[{index}].groups", f"stage {stage.name} is empty"))
        for name in stage.groups:
            if name not in names:
                errors.append(FieldError(f"stages[{index}].groups", f"no signal group {name!r}"))
        errors += [
            FieldError(f"stages[{index}].groups", message)
            for message in stage_conflicts(config, stage)
        ]
    return errors


def stage_conflicts(config: ControllerConfig, stage: Stage) -> list[str]:
    """Why ``stage`` would green conflicting groups (one message per conflicting pair)."""
    out = []
    groups = list(dict.fromkeys(stage.groups))
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            if config.conflict(a, b):
                out.append(f"stage {stage.name}: {a} and {b} conflict and cannot be green together")
    return out
