"""API shapes of the equipment catalogue."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from beffroi.catalogue.spec import EquipmentType


class TelemetryKeyOut(BaseModel):
    """A telemetry key of a type."""

    key: str
    kind: str
    unit: str | None
    minimum: float | None
    maximum: float | None
    choices: list[str]
    counter: bool
    description: str


class FaultOut(BaseModel):
    """A fault code of a type and the severity of its alarm."""

    code: str
    severity: str
    description: str


class CommandOut(BaseModel):
    """A command of a type: its parameter schema and safety."""

    name: str
    description: str
    params: dict[str, Any]
    critical: bool
    critical_when: dict[str, list[Any]]
    timeout_s: int
    expires_s: int
    idempotent: bool
    roles: list[str]
    reason_required: bool
    verify: dict[str, str]


class EquipmentTypeOut(BaseModel):
    """One type of equipment."""

    key: str
    label: str
    label_fr: str
    domain: str
    attributes: dict[str, Any]
    telemetry: list[TelemetryKeyOut]
    faults: list[FaultOut]
    commands: list[CommandOut]
    parent_types: list[str]
    report_interval_s: int
    silence_timeout_s: int
    smart_data_model: str | None

    @classmethod
    def of(cls, spec: EquipmentType) -> EquipmentTypeOut:
        """The API shape of a catalogue entry."""
        return cls(
            key=spec.key,
            label=spec.label,
            label_fr=spec.label_fr,
            domain=spec.domain.value,
            attributes=spec.attributes,
            telemetry=[
                TelemetryKeyOut(
                    key=t.key,
                    kind=t.kind.value,
                    unit=t.unit,
                    minimum=t.minimum,
                    maximum=t.maximum,
                    choices=list(t.choices),
                    counter=t.counter,
                    description=t.description,
                )
                for t in spec.telemetry
            ],
            faults=[
                FaultOut(code=f.code, severity=f.severity.value, description=f.description)
                for f in spec.faults
            ],
            commands=[
                CommandOut(
                    name=c.name,
                    description=c.description,
                    params=c.params,
                    critical=c.critical,
                    critical_when={k: list(v) for k, v in c.critical_when},
                    timeout_s=c.timeout_s,
                    expires_s=c.expires_s,
                    idempotent=c.idempotent,
                    roles=list(c.roles),
                    reason_required=c.reason_required,
                    verify=dict(c.verify),
                )
                for c in spec.commands
            ],
            parent_types=list(spec.parent_types),
            report_interval_s=spec.report_interval_s,
            silence_timeout_s=spec.silence_timeout_s,
            smart_data_model=spec.smart_data_model,
        )
