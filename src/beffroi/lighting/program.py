"""Lighting programs after TALQ: what a light does through one night, step by step.

A program is an ordered list of steps over a *lighting day* (noon to the next noon,
:mod:`beffroi.lighting.clock`). Each step starts at a fixed local time or at sunset or
sunrise plus an offset, and sets a level (0-100 %) reached linearly over a ramp. A
*presence* step does the same and also says what level to give, and for how long, when
a presence sensor sees someone: it applies where a light or cabinet has such a sensor
(the catalogue has no presence sensor yet; a controller without one keeps the base level).

Fixed times from noon to midnight are the lighting day's evening, times before noon the
next morning; ``sunset`` is the lighting day's sunset, ``sunrise`` the next morning's.

Pure: no I/O. The shapes are pydantic models, so the API takes them as they are and a
stored program (JSON) is read back through :func:`parse_program`, whose errors name the
field (``steps.2.level_pct``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from beffroi.core.errors import FieldError, InvalidInput

MAX_OFFSET_MIN = 180  # three hours either side of the sun: beyond it, a fixed time is meant
MAX_RAMP_S = 3600
MAX_HOLD_S = 3600
MAX_STEPS = 48

Level = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, description="Light level, %")]


class StepAnchor(StrEnum):
    """What a step's start is measured from."""

    TIME = "time"  # a fixed local time
    SUNSET = "sunset"  # the lighting day's sunset, plus offset_min
    SUNRISE = "sunrise"  # the next morning's sunrise, plus offset_min


class StepKind(StrEnum):
    """A plain level, or a level raised while a presence sensor sees someone."""

    LEVEL = "level"
    PRESENCE = "presence"


class ProgramStep(BaseModel):
    """One step of a program: from when, to what level, how fast."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: StepKind = StepKind.LEVEL
    anchor: StepAnchor
    at: time | None = Field(
        default=None,
        validate_default=True,
        description="Local time, for anchor 'time' (HH:MM; noon to noon)",
    )
    offset_min: int = Field(
        default=0,
        ge=-MAX_OFFSET_MIN,
        le=MAX_OFFSET_MIN,
        validate_default=True,
        description="Minutes after (negative: before) sunset or sunrise",
    )
    level_pct: Level
    ramp_s: int = Field(default=0, ge=0, le=MAX_RAMP_S, description="Seconds to reach the level")
    presence_level_pct: Level | None = Field(
        default=None,
        validate_default=True,
        description="Presence steps: the level while someone is detected",
    )
    hold_s: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HOLD_S,
        validate_default=True,
        description="Presence steps: seconds the presence level is held after the last detection",
    )

    # Field validators (not one model validator), so that each error names its own field.
    @field_validator("at")
    @classmethod
    def _at(cls, value: time | None, info: ValidationInfo) -> time | None:
        anchor = info.data.get("anchor")
        if anchor is StepAnchor.TIME:
            if value is None:
                raise ValueError("required for a step at a fixed time")
            if value.second or value.microsecond or value.tzinfo is not None:
                raise ValueError("a local time in whole minutes (HH:MM)")
        elif anchor is not None and value is not None:
            raise ValueError("only for steps at a fixed time")
        return value

    @field_validator("offset_min")
    @classmethod
    def _offset(cls, value: int, info: ValidationInfo) -> int:
        if value and info.data.get("anchor") is StepAnchor.TIME:
            raise ValueError("only for steps at sunset or sunrise")
        return value

    @field_validator("presence_level_pct", "hold_s")
    @classmethod
    def _presence(cls, value: float | None, info: ValidationInfo) -> float | None:
        kind = info.data.get("kind")
        if kind is StepKind.PRESENCE:
            if value is None:
                raise ValueError("required for a presence step")
            level = info.data.get("level_pct")
            if info.field_name == "presence_level_pct" and level is not None and value < level:
                raise ValueError("below the step's own level: presence never dims")
        elif kind is not None and value is not None:
            raise ValueError("only for presence steps")
        return value


class ProgramSpec(BaseModel):
    """A program's steps, in the order they run through the lighting day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[ProgramStep] = Field(min_length=1, max_length=MAX_STEPS)


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as :class:`FieldError` with dotted paths (``steps.2.level_pct``)."""
    out: list[FieldError] = []
    for error in exc.errors():
        path = [prefix, *(str(part) for part in error.get("loc", ()))]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        out.append(FieldError(".".join(p for p in path if p) or "body", message))
    return out


def parse_program(data: Mapping[str, Any] | ProgramSpec) -> ProgramSpec:
    """A program from its JSON form, or :class:`InvalidInput` naming each bad field."""
    if isinstance(data, ProgramSpec):
        return data
    try:
        return ProgramSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None


def program_json(spec: ProgramSpec) -> dict[str, Any]:
    """The stored (and delivered) JSON form of a program: only what is set."""
    return spec.model_dump(mode="json", exclude_none=True)
