"""API shapes of the energy area."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class Reference(BaseModel):
    """What the same hours of another day metered."""

    day: date
    wh: float | None
    cabinets_reporting: int


class LightingEnergy(BaseModel):
    """A local day's lighting energy so far, in the caller's scope.

    ``measured_wh`` is what the lighting cabinets' meters counted between their first and
    last readings in the window (``None`` when none reported); ``last_year`` is the same
    weekday 364 days earlier over the same hours; ``full_power_wh`` is what every streetlight
    would have drawn at its rated power while it was dark: the unmanaged baseline that
    dimming and switching are measured against.
    """

    day: date
    since: datetime
    until: datetime
    measured_wh: float | None
    cabinets: int
    cabinets_reporting: int
    last_year: Reference
    full_power_wh: float
    lights: int
    lit_hours: float
