"""API shapes of the energy area."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

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


class Level(StrEnum):
    """Whose energy a report's rows give."""

    METROPOLIS = "metropolis"
    COMMUNE = "commune"
    CABINET = "cabinet"
    LIGHT = "light"


class Granularity(StrEnum):
    """How long a report row's period is."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class EnergyRow(BaseModel):
    """The lighting energy of one scope over one period, against the renovation baseline.

    ``key`` is the commune code, cabinet id or light id (``None`` for the metropolis, or
    for lights fed by no cabinet); ``period`` the first day of the day, month or year.
    ``energy_wh`` is what the lights' meters counted (``peak_wh`` + ``offpeak_wh``);
    ``supply_wh`` what the cabinets' own meters counted (cabling and controllers
    included; ``None`` for a light, or when no cabinet meter reported). ``baseline_wh``
    is what the former fittings would have drawn over the same light-days;
    ``compared_wh`` the energy of the lights that have a baseline, and ``savings`` =
    1 - compared_wh / baseline_wh (``None`` without a baseline). ``cost_eur`` prices the
    peak and off-peak energy at the tariff, ``co2_kg`` applies the emission factor, and
    ``avoided_co2_kg`` does so to baseline_wh - compared_wh.
    """

    period: date
    key: str | None
    light_days: int
    energy_wh: float
    peak_wh: float
    offpeak_wh: float
    supply_wh: float | None
    baseline_wh: float
    compared_wh: float
    savings: float | None
    cost_eur: float
    co2_kg: float
    avoided_co2_kg: float | None
    burning_h: float


class Tariff(BaseModel):
    """The prices and emission factor the report applied (the settings)."""

    peak_eur_per_kwh: float
    offpeak_eur_per_kwh: float
    offpeak_hours: str
    co2_g_per_kwh: float


class TrendPoint(BaseModel):
    """The savings of one month (``None`` without a baseline that month)."""

    month: date
    savings: float | None
    energy_wh: float
    baseline_wh: float


class EnergyReport(BaseModel):
    """Lighting energy per ``level`` and ``granularity`` over ``[since, until]`` (local
    days, both included), in the caller's scope, against the ``target`` savings.

    ``total`` sums every row (its ``period`` is ``since``, its ``key`` the commune or
    cabinet asked for, if any); ``meets_target`` says whether its savings reach the
    target. ``trend`` gives the savings of each of the twelve months ending with
    ``until``'s, in the same scope, oldest first.
    """

    level: Level
    granularity: Granularity
    since: date
    until: date
    commune: str | None
    cabinet: str | None
    asset: str | None
    target: float
    meets_target: bool | None
    tariff: Tariff
    total: EnergyRow
    rows: list[EnergyRow]
    trend: list[TrendPoint]
