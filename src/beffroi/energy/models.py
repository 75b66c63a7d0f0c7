"""Tables of the energy area: daily totals per metered asset, per cabinet, per commune.

``energy_daily`` holds one row per metered asset (a light, a cabinet) and local day,
computed from the hourly rollups by :mod:`beffroi.energy.rollup`. The asset's type,
commune and cabinet are copied in as they were that day, so a light moved to another
cabinet leaves its past with the old one. ``energy_daily_cabinets`` sums the lights'
rows per cabinet, commune and day: a year of the metropolis is a few hundred thousand
rows there instead of twelve million; ``energy_daily_communes`` sums those per commune,
some 8,000 rows a year: what keeps the metropolis's yearly report fast.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from beffroi.db import Base

# The cabinet column of lights fed by no cabinet (a key column cannot be NULL).
NO_CABINET = ""


class EnergyDaily(Base):
    """What one metered asset drew on one local day.

    ``baseline_wh`` is the former fitting's consumption pro rata for that day (``None``
    without baseline attributes); ``offpeak_wh`` the part drawn in off-peak hours;
    ``burning_h`` the hours lit (from the ``lamp_hours`` counter, else lit hourly rollups).
    """

    __tablename__ = "energy_daily"
    # A day's rows (the rollup, the cabinets' sums); a cabinet's lights over a period.
    __table_args__ = (
        Index("ix_energy_daily_day_cabinet", "day", "cabinet_id"),
        Index("ix_energy_daily_cabinet_day", "cabinet_id", "day"),
    )

    asset_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    asset_type: Mapped[str] = mapped_column(String(40))
    commune_code: Mapped[str] = mapped_column(String(64))
    cabinet_id: Mapped[str] = mapped_column(String(64))
    energy_wh: Mapped[float] = mapped_column(Float)
    offpeak_wh: Mapped[float] = mapped_column(Float)
    burning_h: Mapped[float | None] = mapped_column(Float)
    baseline_wh: Mapped[float | None] = mapped_column(Float)


class EnergyDailyCabinet(Base):
    """The lights of one cabinet in one commune on one local day, summed; ``supply_wh`` is
    the cabinet's own meter (the energy billed, with cabling and controller losses).

    ``compared_wh`` is the energy of the lights that have a baseline, the figure the
    savings compare with ``baseline_wh``.
    """

    __tablename__ = "energy_daily_cabinets"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    cabinet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    lights: Mapped[int] = mapped_column(Integer)
    energy_wh: Mapped[float] = mapped_column(Float)
    offpeak_wh: Mapped[float] = mapped_column(Float)
    compared_wh: Mapped[float] = mapped_column(Float)
    baseline_wh: Mapped[float] = mapped_column(Float)
    burning_h: Mapped[float] = mapped_column(Float)
    supply_wh: Mapped[float | None] = mapped_column(Float)
    supply_offpeak_wh: Mapped[float | None] = mapped_column(Float)


class EnergyDailyCommune(Base):
    """The cabinets' rows of one commune on one local day, summed (the same columns as
    :class:`EnergyDailyCabinet`): the metropolis's year is some 8,000 rows here."""

    __tablename__ = "energy_daily_communes"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    lights: Mapped[int] = mapped_column(Integer)
    energy_wh: Mapped[float] = mapped_column(Float)
    offpeak_wh: Mapped[float] = mapped_column(Float)
    compared_wh: Mapped[float] = mapped_column(Float)
    baseline_wh: Mapped[float] = mapped_column(Float)
    burning_h: Mapped[float] = mapped_column(Float)
    supply_wh: Mapped[float | None] = mapped_column(Float)
    supply_offpeak_wh: Mapped[float | None] = mapped_column(Float)
