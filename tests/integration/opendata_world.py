"""A small hub's worth of data for the open data tests: equipment of every published type
(and a camera, which must never show), their readings, energy days and interventions
carrying personal data that must never show either."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from beffroi.assets import importing
from beffroi.assets.schemas import AssetCreate, Point
from beffroi.core.context import Context, Runtime
from beffroi.core.time import utcnow
from beffroi.energy.models import EnergyDailyCommune
from beffroi.interventions.models import Intervention
from beffroi.reports import intake
from beffroi.reports.checks import Submission
from beffroi.reports.lifecycle import Channel
from beffroi.roads.models import RoadSituation, RoadSituationCommune
from beffroi.telemetry.models import LatestValue, TelemetryRollup

TALANT, CHENOVE = (4.999, 47.335), (5.006, 47.292)
# Strings that must never leave the hub through open data.
SECRETS = (
    "CAM-TAL-1",  # a camera's id
    "Jane Doe phoned",  # an intervention's description
    "jane.doe",  # who opened it
    "Leaking lamp at number 12",  # its title
    "Jane Roe",  # a citizen who reported
    "jane.roe@example.org",  # her address
    "in front of my door",  # her words
    "5.00213",  # the exact longitude of her report (the cell's centre is published)
    "Works outside Mr Martin's house",  # a road situation's title
    "Mr Martin asked for it",  # its description
)
# Where she reported from: snapped to its cell, it reads (4.9975, 47.3375).
REPORTED_AT = (5.00213, 47.33587)
COUNTERS = ("TC-TAL-1", "TC-CHE-1")
HOURS = 6


def _asset(i: str, t: str, commune: str, at: tuple[float, float], **attrs: object) -> AssetCreate:
    parent = {"parent_id": "CAB-TAL"} if t == "streetlight" else {}
    return AssetCreate(
        id=i,
        type=t,
        name=f"{i} name",
        commune=commune,
        location=Point(coordinates=at),
        attributes=attrs,
        **parent,
    )


def hour_start(now: datetime, back: int) -> datetime:
    """The start of the hour ``back`` hours before ``now``'s."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=back)


async def build_world(runtime: Runtime, system: Context) -> datetime:
    """Make the world; returns the moment its readings are counted from."""
    items = [
        _asset("CAB-TAL", "lighting_cabinet", "talant", TALANT),
        _asset("SL-TAL-1", "streetlight", "talant", TALANT, lamp_type="LED", rated_power_w=30),
        _asset("SL-TAL-2", "streetlight", "talant", (5.0, 47.336), lamp_type="HPS"),
        _asset("CAM-TAL-1", "camera", "talant", TALANT, kind="dome"),
        _asset("TC-TAL-1", "traffic_counter", "talant", TALANT, road="Avenue du Mont Afrique"),
        _asset("TC-CHE-1", "traffic_counter", "chenove", CHENOVE, road="Route de Beaune"),
        _asset("CP-CHE-1", "car_park", "chenove", CHENOVE, capacity=400, operator="Divia"),
        _asset("AQ-TAL-1", "air_quality_station", "talant", TALANT, network="Atmo BFC"),
    ]
    report = await importing.import_assets(system, list(enumerate(items, 1)), source="tests")
    assert not report.errors, report.errors
    now = utcnow()
    async with runtime.db.write() as session:
        for back in range(1, HOURS + 1):
            bucket = hour_start(now, back)
            for n, counter in enumerate(COUNTERS, 1):
                # 12 reports an hour of 10*n*back vehicles each.
                session.add(
                    TelemetryRollup(
                        asset_id=counter,
                        key="count",
                        bucket=bucket,
                        count=12,
                        sum=120.0 * n * back,
                        min=0,
                        max=99,
                    )
                )
                session.add(
                    TelemetryRollup(
                        asset_id=counter,
                        key="speed_kmh",
                        bucket=bucket,
                        count=12,
                        sum=12 * 40.0,
                        min=30,
                        max=50,
                    )
                )
            session.add(
                TelemetryRollup(
                    asset_id="CP-CHE-1",
                    key="free_spaces",
                    bucket=bucket,
                    count=4,
                    sum=4 * 100.0,
                    min=80,
                    max=120,
                )
            )
            session.add(
                TelemetryRollup(
                    asset_id="AQ-TAL-1",
                    key="no2_ugm3",
                    bucket=bucket,
                    count=4,
                    sum=4 * 25.0,
                    min=20,
                    max=30,
                )
            )
            session.add(
                TelemetryRollup(
                    asset_id="CAM-TAL-1", key="preset", bucket=bucket, count=1, sum=3, min=3, max=3
                )
            )
        for asset_id, key, value in (
            ("SL-TAL-1", "level_pct", 70.0),
            ("CP-CHE-1", "free_spaces", 123.0),
            ("CAM-TAL-1", "preset", 4.0),
        ):
            session.add(
                LatestValue(asset_id=asset_id, key=key, ts=now - timedelta(minutes=7), value=value)
            )
        today = now.date()
        for back in range(3):
            session.add(
                EnergyDailyCommune(
                    day=today - timedelta(days=back),
                    commune_code="talant",
                    lights=2,
                    energy_wh=1000.0 * (back + 1),
                    offpeak_wh=400.0,
                    compared_wh=500.0,
                    baseline_wh=2000.0,
                    burning_h=24.0,
                    supply_wh=None,
                    supply_offpeak_wh=None,
                )
            )
        for n, (category, hours) in enumerate(
            (("lighting", 2), ("lighting", 6), ("video", 1), ("roads", None))
        ):
            opened = now - timedelta(days=1, hours=n)
            session.add(
                Intervention(
                    category=category,
                    priority="normal",
                    title="Leaking lamp at number 12",
                    description="Jane Doe phoned, 06 12 34 56 78",
                    commune_code="talant",
                    asset_id="SL-TAL-1",
                    lon=TALANT[0],
                    lat=TALANT[1],
                    status="new",
                    source="manual",
                    created_at=opened,
                    created_by="jane.doe",
                    due_at=opened + timedelta(days=2),
                    resolved_at=opened + timedelta(hours=hours) if hours is not None else None,
                    updated_at=opened,
                )
            )
        works = RoadSituation(
            type="roadworks",
            title="Works outside Mr Martin's house",
            description="Mr Martin asked for it",
            road="Rue de la Libération",
            geometry={"type": "LineString", "coordinates": [list(TALANT), [5.004, 47.337]]},
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=3),
            status="active",
            lanes_closed=1,
            commune_code="talant",
            created_by="jane.doe",
        )
        session.add(works)
        await session.flush()
        session.add(RoadSituationCommune(situation_id=works.id, commune_code="talant"))
    citizen = Context(runtime, intake.public_principal(None))
    await intake.receive(
        citizen,
        Submission(
            Channel.OPEN311,
            "streetlight-out",
            lon=REPORTED_AT[0],
            lat=REPORTED_AT[1],
            description="Dark all night in front of my door",
            first_name="Jane",
            last_name="Roe",
            email="jane.roe@example.org",
        ),
    )
    return now


def day(value: date) -> str:
    """ISO form of a day."""
    return value.isoformat()


def utc(moment: datetime) -> str:
    """How the API writes an instant."""
    return moment.astimezone(UTC).isoformat()
