"""Routes of the energy area: the day's tile, the renovation reports, maintenance planning.

Each JSON list has a CSV twin (``….csv``) giving the same rows, one per line, with a
header line of the field names (empty cell: no value).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from beffroi.core.dates import Day
from beffroi.energy import maintenance, report, service
from beffroi.energy.maintenance import LampState, ModelRecord
from beffroi.energy.schemas import EnergyReport, Granularity, Level, LightingEnergy
from beffroi.http.deps import Ctx

router = APIRouter(prefix="/energy", tags=["energy"])

CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/lighting")
async def lighting_energy(
    ctx: Ctx, day: Annotated[Day | None, Query(description="Local day; default today")] = None
) -> LightingEnergy:
    """A day's lighting energy so far in your scope, against the same weekday a year earlier
    and against every light at full power while it was dark (what dimming saves; the
    renovation's savings are in ``/energy/report``)."""
    return await service.lighting_energy(ctx, day)


LevelQ = Annotated[Level, Query(description="Rows per metropolis, commune, cabinet or light")]
GranularityQ = Annotated[Granularity, Query(description="One row per day, month or year")]
SinceQ = Annotated[Day | None, Query(description="First local day; default 11 months back")]
UntilQ = Annotated[Day | None, Query(description="Last local day, included; default today")]
CommuneQ = Annotated[str | None, Query(max_length=64, description="Only this commune")]
CabinetQ = Annotated[str | None, Query(max_length=64, description="Only this cabinet's lights")]
AssetQ = Annotated[str | None, Query(max_length=64, description="Only this light (level=light)")]


def _query(
    level: LevelQ = Level.METROPOLIS,
    granularity: GranularityQ = Granularity.MONTH,
    since: SinceQ = None,
    until: UntilQ = None,
    commune: CommuneQ = None,
    cabinet: CabinetQ = None,
    asset: AssetQ = None,
) -> report.Query:
    return report.Query(level, granularity, since, until, commune, cabinet, asset)


# The report's parameters, read once for the JSON report and its CSV twin.
ReportQuery = Annotated[report.Query, Depends(_query)]


@router.get("/report")
async def energy_report(ctx: Ctx, q: ReportQuery) -> EnergyReport:
    """Lighting energy against the pre-renovation baseline: per ``level`` and
    ``granularity`` over ``[since, until]``, with savings against the target, cost,
    CO₂ and the last twelve months' savings. ``level=light`` needs ``cabinet`` or
    ``asset``."""
    return await report.report(ctx, q)


@router.get("/report.csv", response_class=Response, responses=CSV)
async def energy_report_csv(ctx: Ctx, q: ReportQuery) -> Response:
    """The rows of ``/energy/report`` with the same parameters, as CSV."""
    done = await report.report(ctx, q)
    name = f"beffroi-energy-{done.level}-{done.since}-{done.until}"
    return _csv(report.as_csv(done.rows, report.CSV_COLUMNS), name)


ShareQ = Annotated[
    float | None,
    Query(gt=0, le=2, description="Share of rated life; default BEFFROI_ENERGY_REPLACEMENT_SHARE"),
]


@router.get("/maintenance/due")
async def due_for_replacement(ctx: Ctx, share: ShareQ = None) -> list[LampState]:
    """The lights in your scope whose lamp has burnt ``share`` of its rated life or more,
    most worn first."""
    return await maintenance.due(ctx, share)


@router.get("/maintenance/due.csv", response_class=Response, responses=CSV)
async def due_for_replacement_csv(ctx: Ctx, share: ShareQ = None) -> Response:
    """The rows of ``/energy/maintenance/due`` as CSV."""
    rows = await maintenance.due(ctx, share)
    return _csv(report.as_csv(rows, tuple(LampState.model_fields)), "beffroi-lamps-due")


@router.get("/maintenance/models")
async def lamp_models(ctx: Ctx, since: SinceQ = None, until: UntilQ = None) -> list[ModelRecord]:
    """The lights per model in your scope: rated life, burning hours, and the lamp and
    driver failures raised over ``[since, until]`` (default: the last 365 days)."""
    return await maintenance.models(ctx, since, until)


@router.get("/maintenance/models.csv", response_class=Response, responses=CSV)
async def lamp_models_csv(ctx: Ctx, since: SinceQ = None, until: UntilQ = None) -> Response:
    """The rows of ``/energy/maintenance/models`` as CSV."""
    rows = await maintenance.models(ctx, since, until)
    return _csv(report.as_csv(rows, tuple(ModelRecord.model_fields)), "beffroi-lamp-models")
