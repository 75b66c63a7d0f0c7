"""The shapes of the equipment catalogue: what a type of equipment reports, raises and obeys.

The catalogue is data (see :mod:`beffroi.catalogue.equipment`), described with these frozen
dataclasses; no type of equipment gets a class of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from beffroi.core.vocabulary import Domain

JsonSchema = dict[str, Any]


class Severity(StrEnum):
    """Alarm severity, most severe first."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class ValueKind(StrEnum):
    """The JSON type of a telemetry value."""

    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class TelemetryKey:
    """One value a device reports. ``{n}`` in the key stands for an index (a detector, say)."""

    key: str
    kind: ValueKind
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    counter: bool = False
    description: str = ""
    index_max: int = 64

    @property
    def indexed(self) -> bool:
        """True when the key carries a ``{n}`` index."""
        return "{n}" in self.key

    def matcher(self) -> re.Pattern[str]:
        """A regex matching the concrete key names this spec covers."""
        return re.compile("^" + re.escape(self.key).replace(r"\{n\}", r"([1-9][0-9]{0,2})") + "$")


@dataclass(frozen=True, slots=True)
class FaultCode:
    """A fault a device may raise as an event, with the severity of the alarm it becomes."""

    code: str
    severity: Severity
    description: str = ""


# Who may send a command unless its spec says otherwise; an operator also needs the domain.
COMMAND_ROLES: tuple[str, ...] = ("admin", "supervisor", "operator")

# Parameters and the values that make something true of a command (``("mode", ("dark",))``).
ParamValues = tuple[tuple[str, tuple[Any, ...]], ...]


def _takes(params: dict[str, Any], when: ParamValues) -> bool:
    """Whether a parameter takes one of its listed values, as JSON compares them: a boolean
    is no number (``0`` is not ``false``), ``0.0`` is ``0``."""
    for name, values in when:
        value = params.get(name)
        if any(isinstance(value, bool) == isinstance(v, bool) and value == v for v in values):
            return True
    return False


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command a type obeys: parameters (JSON Schema), safety and timing."""

    name: str
    params: JsonSchema = field(default_factory=lambda: {"type": "object", "properties": {}})
    description: str = ""
    # Always critical, or critical when a parameter takes one of the listed values.
    critical: bool = False
    critical_when: ParamValues = ()
    # The parameter values that switch the equipment off (a light off, or dimmed to zero):
    # harmless to one, critical to a whole commune at once.
    off_when: ParamValues = ()
    timeout_s: int = 60
    expires_s: int = 3600
    idempotent: bool = True
    # Telemetry key and what its value must be for the command to count as verified: a
    # parameter's name, or "=literal".
    verify: tuple[tuple[str, str], ...] = ()
    roles: tuple[str, ...] = COMMAND_ROLES
    # A reason is always required (camera steering is logged with its reason).
    reason_required: bool = False
    # Sent only within a video view session, through the video area's route (which checks
    # the session and the habilitation, and registers it): the generic command routes
    # refuse it (docs/video.md).
    in_session: bool = False
    # The name of the operation in the standard the type follows (ONVIF for cameras).
    standard_name: str = ""

    def is_critical(self, params: dict[str, Any]) -> bool:
        """Whether this command, with these parameters, needs a reason and approval."""
        if self.critical:
            return True
        return _takes(params, self.critical_when)

    def switches_off(self, params: dict[str, Any]) -> bool:
        """Whether this command, with these parameters, switches the equipment off."""
        return _takes(params, self.off_when)


@dataclass(frozen=True, slots=True)
class Renovation:
    """The attributes describing what a renovated piece of equipment replaced: the former
    fitting's power (W) and its burning hours a year, the baseline savings are measured
    against (docs/energy.md)."""

    former_power: str
    former_hours: str


@dataclass(frozen=True, slots=True)
class LampLife:
    """How long a type's lamps last, for maintenance planning.

    ``hours`` gives the rated life per value of the ``attribute`` naming the lamp technology
    (LED, HPS…); an asset's ``override`` attribute (its model's datasheet) wins over it.
    ``hours_before`` holds the hours a lamp burnt before Beffroi started metering it.
    """

    attribute: str
    hours: tuple[tuple[str, int], ...]
    override: str
    hours_before: str

    def rated_hours(self, attributes: dict[str, Any]) -> float | None:
        """The rated life (h) of a lamp with these attributes, if known."""
        own = attributes.get(self.override)
        if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
            return float(own)
        by_kind = dict(self.hours)
        kind = attributes.get(self.attribute)
        return float(by_kind[kind]) if kind in by_kind else None

    def attributes(self) -> tuple[str, ...]:
        """Every attribute this declaration names."""
        return (self.attribute, self.override, self.hours_before)


@dataclass(frozen=True, slots=True)
class EquipmentType:
    """One type of equipment in the catalogue."""

    key: str
    label: str
    label_fr: str
    domain: Domain
    attributes: JsonSchema
    telemetry: tuple[TelemetryKey, ...] = ()
    faults: tuple[FaultCode, ...] = ()
    # Codes of another vocabulary (RSMP's A0201) a device may report a fault by, each with
    # the fault code it means.
    fault_aliases: tuple[tuple[str, str], ...] = ()
    commands: tuple[CommandSpec, ...] = ()
    parent_types: tuple[str, ...] = ()
    # A cabinet feeds the equipment wired below it (a lighting cabinet, its lights): a
    # group command may address them all by the cabinet.
    cabinet: bool = False
    # The counter (in Wh) that meters the energy the equipment draws, or feeds below it.
    energy_meter: str | None = None
    # The attribute holding the equipment's rated power (W), for full-power baselines.
    rated_power: str | None = None
    # What the equipment replaced (energy baseline) and how long its lamps last.
    renovation: Renovation | None = None
    lamp_life: LampLife | None = None
    report_interval_s: int = 900
    silence_timeout_s: int = 3600
    smart_data_model: str | None = None

    def command(self, name: str) -> CommandSpec | None:
        """The command of that name, if the type has it."""
        return next((c for c in self.commands if c.name == name), None)

    def fault(self, code: str) -> FaultCode | None:
        """The fault of that code, if the type raises it."""
        return next((f for f in self.faults if f.code == code), None)

    def reported_fault(self, code: str) -> FaultCode | None:
        """The fault a device means by ``code``: one of the type's, or one an alias
        (``fault_aliases``) names."""
        found = self.fault(code)
        if found is None:
            alias = next((fault for other, fault in self.fault_aliases if other == code), None)
            found = self.fault(alias) if alias is not None else None
        return found

    def telemetry_key(self, key: str) -> TelemetryKey | None:
        """The spec matching a concrete telemetry key, if any."""
        for spec in self.telemetry:
            if spec.key == key or (spec.indexed and spec.matcher().match(key)):
                return spec
        return None
