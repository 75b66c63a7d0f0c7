"""The published datasets, declared in one tuple (as the catalogue declares equipment).

Adding a dataset is adding one entry: its metadata, its columns with their privacy class,
and the query that builds it (:mod:`beffroi.opendata.sources`). The tuple goes through
the privacy rule when this module loads (:func:`privacy.checked`): a dataset that would
publish personal or camera data stops the process before anything is published.
"""

from __future__ import annotations

from beffroi.opendata import sources
from beffroi.opendata.privacy import checked
from beffroi.opendata.spec import (
    LICENCE_OUVERTE,
    Coarsen,
    Column,
    Dataset,
    Geometry,
    TimeStep,
)
from beffroi.opendata.spec import ColumnType as T
from beffroi.opendata.spec import Privacy as P

HUB = "Beffroi, the control room of Dijon métropole: "
HOUR = Coarsen(time=TimeStep.HOUR)
POINT = Geometry("lon", "lat")


def _where(what: str) -> tuple[Column, Column]:
    return (
        Column("lon", T.NUMBER, f"Longitude of the {what} (WGS84)", P.EQUIPMENT, "°"),
        Column("lat", T.NUMBER, f"Latitude of the {what} (WGS84)", P.EQUIPMENT, "°"),
    )


COMMUNE_CODE = Column("commune_code", T.TEXT, "Commune (code in the hub)", P.EQUIPMENT)
COMMUNE = Column("commune", T.TEXT, "Commune", P.EQUIPMENT)

STREETLIGHTS = Dataset(
    build=sources.streetlights,
    id="streetlights",
    title="Éclairage public : points lumineux et leur état",
    description="Every streetlight of the metropolis: where it stands, its lamp, the cabinet "
    "that feeds it, and its newest reported light level and connection.",
    themes=("Environnement", "Énergie"),
    keywords=("éclairage public", "streetlight", "LED", "luminaire"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "the asset registry and the lights' own reports (TALQ).",
    schedule="10 * * * *",
    frequency="HOURLY",
    asset_types=("streetlight",),
    geometry=POINT,
    columns=(
        Column("light_id", T.TEXT, "Identifier of the light point", P.EQUIPMENT),
        COMMUNE_CODE,
        COMMUNE,
        Column("cabinet_id", T.TEXT, "Lighting cabinet feeding it", P.EQUIPMENT),
        Column("lamp_type", T.TEXT, "Lamp technology (LED, HPS, MH, CFL)", P.EQUIPMENT),
        Column("rated_power_w", T.NUMBER, "Rated power", P.EQUIPMENT, "W"),
        Column("colour_temperature_k", T.INTEGER, "Colour temperature", P.EQUIPMENT, "K"),
        Column("mounting_height_m", T.NUMBER, "Mounting height", P.EQUIPMENT, "m"),
        Column("dimmable", T.BOOLEAN, "Whether the light dims", P.EQUIPMENT),
        Column("status", T.TEXT, "Registry status (in service, maintenance…)", P.EQUIPMENT),
        Column("connected", T.BOOLEAN, "Whether it is connected to the hub", P.MEASURE),
        Column("level_pct", T.NUMBER, "Newest reported light level", P.MEASURE, "%"),
        Column("level_at", T.DATETIME, "Hour of that report", P.MEASURE, coarsen=HOUR),
        *_where("light"),
    ),
)

LIGHTING_ENERGY = Dataset(
    build=sources.lighting_energy,
    id="lighting-energy-daily",
    title="Éclairage public : consommation d'énergie par commune et par jour",
    description="The energy the streetlights of each commune drew each local day, the part "
    "in off-peak hours, and the savings against the fittings they replaced.",
    themes=("Énergie",),
    keywords=("énergie", "consommation", "éclairage public", "sobriété"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "daily totals of the lights' energy meters (docs/energy.md).",
    schedule="30 * * * *",
    asset_types=("streetlight",),
    columns=(
        Column("day", T.DATE, "Local day", P.MEASURE),
        COMMUNE_CODE,
        COMMUNE,
        Column("lights", T.INTEGER, "Lights metered", P.MEASURE),
        Column("energy_kwh", T.NUMBER, "Energy drawn", P.MEASURE, "kWh"),
        Column("offpeak_kwh", T.NUMBER, "Of which in off-peak hours", P.MEASURE, "kWh"),
        Column("baseline_kwh", T.NUMBER, "Former fittings' energy, same day", P.MEASURE, "kWh"),
        Column("savings_pct", T.NUMBER, "Saved against the former fittings", P.MEASURE, "%"),
        Column("burning_h", T.NUMBER, "Hours lit, summed over the lights", P.MEASURE, "h"),
    ),
)

TRAFFIC_COUNTS = Dataset(
    build=sources.traffic_counts,
    id="traffic-counts-hourly",
    title="Comptages routiers horaires",
    description="Vehicles counted per counting station and hour, with the hour's mean "
    "speed and occupancy.",
    themes=("Transports, déplacements",),
    keywords=("trafic", "comptage", "mobilité", "TrafficFlowObserved"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "hourly rollups of the counting stations' reports.",
    schedule="20 * * * *",
    frequency="HOURLY",
    asset_types=("traffic_counter",),
    geometry=POINT,
    columns=(
        Column("counter_id", T.TEXT, "Counting station", P.EQUIPMENT),
        COMMUNE_CODE,
        Column("road", T.TEXT, "Road counted", P.EQUIPMENT),
        Column("hour", T.DATETIME, "Start of the hour (UTC)", P.MEASURE, coarsen=HOUR),
        Column("vehicles", T.INTEGER, "Vehicles counted in the hour", P.MEASURE),
        Column("mean_speed_kmh", T.NUMBER, "Mean speed", P.MEASURE, "km/h"),
        Column("occupancy_pct", T.NUMBER, "Mean occupancy of the detectors", P.MEASURE, "%"),
        *_where("station"),
    ),
)

CAR_PARKS_NOW = Dataset(
    build=sources.car_parks_now,
    id="car-parks-live",
    title="Parkings : places libres en temps réel",
    description="Each car park's newest count of free spaces, refreshed every five minutes.",
    themes=("Transports, déplacements",),
    keywords=("parking", "stationnement", "places libres", "OffStreetParking"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "the car parks' own counts.",
    schedule="*/5 * * * *",
    frequency="CONT",
    asset_types=("car_park",),
    geometry=POINT,
    columns=(
        Column("car_park_id", T.TEXT, "Car park", P.EQUIPMENT),
        Column("name", T.TEXT, "Name of the car park", P.EQUIPMENT),
        COMMUNE_CODE,
        Column("operator", T.TEXT, "Operator", P.EQUIPMENT),
        Column("capacity", T.INTEGER, "Spaces", P.EQUIPMENT),
        Column("free_spaces", T.INTEGER, "Free spaces", P.MEASURE),
        Column("occupancy_pct", T.NUMBER, "Spaces taken", P.MEASURE, "%"),
        Column("observed_at", T.DATETIME, "When counted", P.MEASURE),
        *_where("car park"),
    ),
)

CAR_PARK_HISTORY = Dataset(
    build=sources.car_park_history,
    id="car-parks-hourly",
    title="Parkings : historique horaire des places libres",
    description="Each car park's free spaces per hour: the mean and the least.",
    themes=("Transports, déplacements",),
    keywords=("parking", "stationnement", "historique"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "hourly rollups of the car parks' counts.",
    schedule="25 * * * *",
    frequency="HOURLY",
    asset_types=("car_park",),
    columns=(
        Column("car_park_id", T.TEXT, "Car park", P.EQUIPMENT),
        COMMUNE_CODE,
        Column("hour", T.DATETIME, "Start of the hour (UTC)", P.MEASURE, coarsen=HOUR),
        Column("mean_free_spaces", T.NUMBER, "Mean free spaces", P.MEASURE),
        Column("least_free_spaces", T.NUMBER, "Fewest free spaces", P.MEASURE),
        Column("capacity", T.INTEGER, "Spaces", P.EQUIPMENT),
    ),
)

AIR_QUALITY = Dataset(
    build=sources.air_quality,
    id="air-quality-hourly",
    title="Qualité de l'air : concentrations horaires",
    description="Hourly mean concentrations of NO2, PM10, PM2.5 and O3 at each station.",
    themes=("Environnement", "Santé"),
    keywords=("qualité de l'air", "pollution", "NO2", "particules", "AirQualityObserved"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "hourly rollups of the stations' measures (not a regulatory network's "
    "validated data).",
    schedule="15 * * * *",
    frequency="HOURLY",
    asset_types=("air_quality_station",),
    geometry=POINT,
    columns=(
        Column("station_id", T.TEXT, "Station", P.EQUIPMENT),
        Column("name", T.TEXT, "Name of the station", P.EQUIPMENT),
        COMMUNE_CODE,
        Column("hour", T.DATETIME, "Start of the hour (UTC)", P.MEASURE, coarsen=HOUR),
        Column("no2_ugm3", T.NUMBER, "Nitrogen dioxide", P.MEASURE, "µg/m³"),
        Column("pm10_ugm3", T.NUMBER, "Particles under 10 µm", P.MEASURE, "µg/m³"),
        Column("pm25_ugm3", T.NUMBER, "Particles under 2.5 µm", P.MEASURE, "µg/m³"),
        Column("o3_ugm3", T.NUMBER, "Ozone", P.MEASURE, "µg/m³"),
        *_where("station"),
    ),
)

INTERVENTIONS = Dataset(
    build=sources.intervention_statistics,
    id="interventions-monthly",
    title="Interventions sur l'espace public : statistiques mensuelles",
    description="Per commune, kind of work and month: interventions opened, resolved, and "
    "the median time to resolve them. Counts only: nothing of what was said or who worked.",
    themes=("Gouvernement et secteur public",),
    keywords=("interventions", "maintenance", "délai", "service public"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "the work orders of the field crews (video-protection work excluded).",
    schedule="40 3 * * *",
    columns=(
        Column("month", T.DATE, "First day of the local month", P.MEASURE),
        COMMUNE_CODE,
        COMMUNE,
        Column("category", T.TEXT, "Kind of work (lighting, traffic, roads…)", P.MEASURE),
        Column("opened", T.INTEGER, "Interventions opened in the month", P.MEASURE),
        Column("resolved", T.INTEGER, "Of which resolved since", P.MEASURE),
        Column("median_hours_to_resolve", T.NUMBER, "Median time to resolve", P.MEASURE, "h"),
    ),
)

# A report's place may be someone's door: the reports area snaps it to a cell of some
# 500 m already, and the rule snaps it again here, so neither alone has to be right.
REPORT_CELL = Coarsen(grid_m=500)

CITIZEN_REPORTS = Dataset(
    build=sources.citizen_reports,
    id="citizen-reports",
    title="Signalements citoyens : ce qui a été signalé, où et quand",
    description="Each problem citizens reported on the public space (by the portal, Open311 "
    "or the citizen line): its kind, its commune, its day, a cell of some 500 m where it "
    "was, and how it went. Never who reported, never their words or photos.",
    themes=("Gouvernement et secteur public",),
    keywords=("signalement", "Open311", "Allo Mairie", "espace public"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "the citizen reports, anonymised (docs/reports.md).",
    schedule="45 3 * * *",
    geometry=POINT,
    columns=(
        Column("day", T.DATE, "Local day of the report", P.MEASURE),
        COMMUNE_CODE,
        COMMUNE,
        Column("service_code", T.TEXT, "Open311 service reported", P.MEASURE),
        Column("category", T.TEXT, "Kind of work it calls for", P.MEASURE),
        Column("status", T.TEXT, "Open311 status (open, closed)", P.MEASURE),
        Column("days_to_resolve", T.NUMBER, "Days from report to closing", P.MEASURE, "d"),
        Column("lon", T.NUMBER, "Longitude of the cell's centre", P.MEASURE, "°", REPORT_CELL),
        Column("lat", T.NUMBER, "Latitude of the cell's centre", P.MEASURE, "°", REPORT_CELL),
    ),
)

ROAD_WORKS = Dataset(
    build=sources.works_and_closures,
    id="road-works-and-closures",
    title="Travaux, fermetures et perturbations de circulation",
    description="Roadworks, road and lane closures, events and incidents on the roads of "
    "the metropolis, current and planned: where (line or area), when, and what they do "
    "to traffic (road closed, lanes closed, speed limit, delay, detour). The same "
    "situations are published for navigation services in DATEX II (docs/roads.md).",
    themes=("Transports, déplacements",),
    keywords=("travaux", "fermeture", "circulation", "chantier", "déviation", "DATEX II"),
    licence=LICENCE_OUVERTE,
    provenance=HUB + "the road situations recorded by the control room (docs/roads.md).",
    schedule="*/10 * * * *",
    frequency="CONT",
    geometry=POINT,
    columns=(
        Column("situation_id", T.INTEGER, "Identifier of the situation", P.EQUIPMENT),
        Column("type", T.TEXT, "roadworks, closure, event or incident", P.EQUIPMENT),
        Column("incident_kind", T.TEXT, "An incident's kind (accident…)", P.EQUIPMENT),
        Column("status", T.TEXT, "planned or active", P.EQUIPMENT),
        Column("road", T.TEXT, "Road concerned", P.EQUIPMENT),
        Column(
            "commune_code",
            T.TEXT,
            "Commune (code in the hub); empty when it crosses several",
            P.EQUIPMENT,
        ),
        Column("communes", T.TEXT, "Communes crossed (names)", P.EQUIPMENT),
        Column("starts_at", T.DATETIME, "Start (UTC)", P.EQUIPMENT),
        Column("ends_at", T.DATETIME, "End (UTC); empty when not known yet", P.EQUIPMENT),
        Column("road_closed", T.BOOLEAN, "Whether the road is closed", P.EQUIPMENT),
        Column("lanes_closed", T.INTEGER, "Lanes closed", P.EQUIPMENT),
        Column("speed_limit_kmh", T.INTEGER, "Temporary speed limit", P.EQUIPMENT, "km/h"),
        Column("delay_min", T.INTEGER, "Expected delay", P.EQUIPMENT, "min"),
        Column("detour", T.BOOLEAN, "Whether a detour is signposted", P.EQUIPMENT),
        Column("geometry_geojson", T.TEXT, "Line or area, GeoJSON (WGS84)", P.EQUIPMENT),
        *_where("situation (a point on it)"),
    ),
)

DATASETS: tuple[Dataset, ...] = checked(
    (
        STREETLIGHTS,
        LIGHTING_ENERGY,
        TRAFFIC_COUNTS,
        CAR_PARKS_NOW,
        CAR_PARK_HISTORY,
        AIR_QUALITY,
        INTERVENTIONS,
        CITIZEN_REPORTS,
        ROAD_WORKS,
    )
)
BY_ID = {ds.id: ds for ds in DATASETS}
