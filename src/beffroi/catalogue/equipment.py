"""The equipment catalogue, first version.

Vocabulary follows TALQ for lighting, RSMP SXL / NTCIP 1202 for traffic signals, ONVIF for
cameras, and FIWARE Smart Data Models names where a model exists.
"""

from __future__ import annotations

from beffroi.catalogue import rsmp
from beffroi.catalogue.camera import CAMERA
from beffroi.catalogue.shapes import BOOL
from beffroi.catalogue.shapes import closed_object as _object
from beffroi.catalogue.shapes import enum as _enum
from beffroi.catalogue.shapes import integer as _int
from beffroi.catalogue.shapes import number as _num
from beffroi.catalogue.shapes import text as _text
from beffroi.catalogue.spec import (
    CommandSpec,
    EquipmentType,
    FaultCode,
    LampLife,
    Renovation,
    Severity,
    TelemetryKey,
    ValueKind,
)
from beffroi.catalogue.vehicle import VEHICLE
from beffroi.core.vocabulary import Domain

N = ValueKind.NUMBER
I = ValueKind.INTEGER  # noqa: E741 - a one-letter alias keeps the tables readable
B = ValueKind.BOOLEAN
E = ValueKind.ENUM
T = ValueKind.TEXT


COMMUNICATION_FAILURE = FaultCode(
    "communicationFailure", Severity.MAJOR, "The device stopped answering its controller"
)
SUPPLY_LOSS = FaultCode("supplyLoss", Severity.CRITICAL, "Mains supply lost")
TRAFFIC_MODES = ("normal", "yellow_flash", "dark", "all_red")

STREETLIGHT = EquipmentType(
    key="streetlight",
    label="Streetlight",
    label_fr="Point lumineux",
    domain=Domain.LIGHTING,
    smart_data_model="Streetlight",
    parent_types=("lighting_cabinet",),
    energy_meter="energy_wh",
    rated_power="rated_power_w",
    renovation=Renovation("former_power_w", "former_burning_hours_per_year"),
    # Typical rated lives: LED luminaires L80B10 at 100,000 h, high-pressure sodium
    # 24,000 h, metal halide 15,000 h, compact fluorescent 12,000 h.
    lamp_life=LampLife(
        "lamp_type",
        (("LED", 100_000), ("HPS", 24_000), ("MH", 15_000), ("CFL", 12_000)),
        override="rated_life_h",
        hours_before="burning_hours_before_h",
    ),
    report_interval_s=900,
    silence_timeout_s=3600,
    attributes=_object(
        lamp_type=_enum("LED", "HPS", "MH", "CFL"),
        rated_power_w=_num(1, 1000),
        mounting_height_m=_num(1, 30),
        circuit=_int(1, 32),
        dimmable=BOOL,
        colour_temperature_k=_int(1800, 6500),
        # Before the renovation: the former fitting's power (lamp and ballast) and hours.
        former_power_w=_num(1, 2000),
        former_burning_hours_per_year=_num(0, 8784),
        # The lamp's own datasheet life, and the hours it burnt before Beffroi metered it.
        rated_life_h=_num(1000, 500_000),
        burning_hours_before_h=_num(0, 1_000_000),
    ),
    telemetry=(
        TelemetryKey("level_pct", N, "%", 0, 100, description="Light output"),
        TelemetryKey("power_w", N, "W", 0, 2000, description="Active power"),
        TelemetryKey("energy_wh", N, "Wh", 0, 1e12, counter=True, description="Energy meter"),
        TelemetryKey("voltage_v", N, "V", 0, 300, description="Supply voltage"),
        TelemetryKey("lamp_hours", N, "h", 0, 1e6, counter=True, description="Burning hours"),
    ),
    faults=(
        FaultCode("lampFailure", Severity.MINOR, "Lamp does not light"),
        FaultCode("driverFailure", Severity.MINOR, "LED driver failure"),
        FaultCode("lampUnexpectedOn", Severity.WARNING, "Lamp lit when it should be off"),
        SUPPLY_LOSS,
        COMMUNICATION_FAILURE,
        FaultCode("highTemperature", Severity.WARNING, "Luminaire over temperature"),
    ),
    commands=(
        CommandSpec(
            "switch",
            _object(("on",), on=BOOL),
            "Switch the light on or off",
            timeout_s=30,
            verify=(("level_pct", "on"),),
            off_when=(("on", (False,)),),
        ),
        CommandSpec(
            "dim",
            _object(("level_pct",), level_pct=_num(0, 100), ramp_s=_int(0, 3600)),
            "Set the light output",
            timeout_s=30,
            verify=(("level_pct", "level_pct"),),
            off_when=(("level_pct", (0,)),),
        ),
    ),
)

LIGHTING_CABINET = EquipmentType(
    key="lighting_cabinet",
    label="Lighting cabinet",
    label_fr="Armoire d'éclairage",
    domain=Domain.LIGHTING,
    smart_data_model="StreetlightControlCabinet",
    cabinet=True,
    energy_meter="energy_wh",
    report_interval_s=900,
    silence_timeout_s=3600,
    attributes=_object(
        circuits=_int(1, 32),
        contract_power_kva=_num(0.1, 1000),
        meter_id=_text(64),
        phases=_int(1, 3),
    ),
    telemetry=(
        TelemetryKey("power_w", N, "W", 0, 1e6),
        TelemetryKey("energy_wh", N, "Wh", 0, 1e13, counter=True),
        TelemetryKey("voltage_l1_v", N, "V", 0, 300, description="Phase 1 voltage"),
        TelemetryKey("voltage_l2_v", N, "V", 0, 300, description="Phase 2 voltage"),
        TelemetryKey("voltage_l3_v", N, "V", 0, 300, description="Phase 3 voltage"),
        TelemetryKey("door_open", B),
        TelemetryKey("mode", E, choices=("automatic", "manual")),
        TelemetryKey("circuit_{n}_on", B, index_max=32, description="Circuit contactor state"),
    ),
    faults=(
        FaultCode("cabinetDoorOpen", Severity.MAJOR, "Cabinet door open"),
        FaultCode("circuitBreakerTripped", Severity.MAJOR, "A circuit breaker tripped"),
        SUPPLY_LOSS,
        FaultCode("contactorError", Severity.MAJOR, "Contactor did not follow its command"),
    ),
    commands=(
        CommandSpec(
            "switch",
            _object(("circuit", "on"), circuit=_int(1, 32), on=BOOL),
            "Switch one circuit on or off",
            off_when=(("on", (False,)),),
        ),
        CommandSpec(
            "set_mode",
            _object(("mode",), mode=_enum("automatic", "manual")),
            "Automatic (astronomical clock) or manual control",
            verify=(("mode", "mode"),),
        ),
    ),
)

# A controller's control state (RSMP S0007/S0020, NTCIP 1202 unit control status): who or
# what drives the signals now; "no_communication" is the state the hub shows when the
# controller is silent, and a controller in it reports it on reconnection.
TRAFFIC_CONTROL_STATES = (
    "normal",
    "local_manual",
    "police_key",
    "yellow_flash",
    "dark",
    "all_red",
    "no_communication",
)
# A signal group's aspect (RSMP S0001 signal group status, simplified).
SIGNAL_ASPECTS = ("red", "red_amber", "green", "amber", "amber_flashing", "dark")
# Where the plan running comes from.
PLAN_SOURCES = ("timetable", "manual", "corridor", "local")

TRAFFIC_CONTROLLER = EquipmentType(
    key="traffic_controller",
    label="Traffic signal controller",
    label_fr="Contrôleur de carrefour",
    domain=Domain.TRAFFIC,
    smart_data_model="TrafficLight",
    report_interval_s=60,
    silence_timeout_s=300,
    attributes=_object(
        intersection=_text(200),
        plans=_int(1, 32),
        detectors=_int(0, 64),
        bus_priority=BOOL,
    ),
    telemetry=(
        TelemetryKey("mode", E, choices=TRAFFIC_MODES),
        TelemetryKey("control_state", E, choices=TRAFFIC_CONTROL_STATES),
        TelemetryKey("plan", I, None, 1, 255),
        TelemetryKey("plan_source", E, choices=PLAN_SOURCES),
        TelemetryKey("cycle_s", N, "s", 0, 600),
        TelemetryKey("offset_s", N, "s", 0, 600),
        TelemetryKey("cycle_second", N, "s", 0, 600, description="Position in the cycle"),
        TelemetryKey("stage", I, None, 1, 64, description="Stage running (1-based)"),
        TelemetryKey("timetable_version", I, None, 0, 2**31 - 1),
        TelemetryKey(
            "group_{n}_state", E, choices=SIGNAL_ASPECTS, index_max=64, description="Aspect"
        ),
        TelemetryKey("detector_{n}_count", I, None, 0, 100_000, description="Vehicles counted"),
        TelemetryKey("detector_{n}_occupancy_pct", N, "%", 0, 100),
    ),
    # Fault classes after the RSMP SXL for traffic light controllers (A0001..A0304): a
    # controller may report each by its RSMP alarm code (beffroi.catalogue.rsmp).
    faults=(
        FaultCode("hardwareFault", Severity.CRITICAL, "Serious hardware error"),
        FaultCode("hardwareWarning", Severity.MINOR, "Less serious hardware error"),
        FaultCode("configurationFault", Severity.CRITICAL, "Serious configuration error"),
        FaultCode("configurationWarning", Severity.MINOR, "Less serious configuration error"),
        FaultCode("synchronisationFault", Severity.MAJOR, "Coordination lost (clock, offset)"),
        FaultCode("conflictFlash", Severity.CRITICAL, "Conflicting greens: fell to flash"),
        FaultCode("deadlock", Severity.MAJOR, "Controller logic stuck"),
        FaultCode("otherFault", Severity.MINOR, "Other controller error"),
        FaultCode("pushButtonFault", Severity.MINOR, "Pedestrian push button error"),
        FaultCode("signalLampFault", Severity.MAJOR, "Serious lamp error (red out)"),
        FaultCode("lampWarning", Severity.MINOR, "Less serious lamp error"),
        FaultCode("detectorFault", Severity.MINOR),
        FaultCode("detectorSeriousFault", Severity.MAJOR, "Serious detector error"),
        FaultCode("doorOpen", Severity.MAJOR),
        COMMUNICATION_FAILURE,
    ),
    fault_aliases=rsmp.aliases(),
    commands=(
        CommandSpec(
            "set_mode",
            {
                **_object(("mode",), mode=_enum(*TRAFFIC_MODES), revert_after_min=_int(1, 1440)),
                # Any mode but normal must name when the controller reverts by itself.
                "if": {"properties": {"mode": {"not": {"const": "normal"}}}},
                "then": {"required": ["revert_after_min"]},
            },
            "Operating mode, with a mandatory automatic revert (RSMP M0001)",
            critical_when=(("mode", ("dark", "yellow_flash", "all_red")),),
            timeout_s=30,
            verify=(("mode", "mode"),),
        ),
        CommandSpec(
            "set_plan",
            _object(
                ("plan",),
                plan=_int(1, 255),
                # The controller returns to its timetable by itself then, hub or no hub.
                until={"type": "string", "format": "date-time"},
            ),
            "Switch signal timing plan, until a time (RSMP M0002)",
            verify=(("plan", "plan"),),
        ),
        CommandSpec(
            "resume_timetable",
            description="Return to the timetable now, ending a plan imposed by hand",
        ),
        CommandSpec(
            "apply_green_wave",
            _object(
                ("corridor", "plan", "cycle_s", "offsets"),
                corridor=_text(200),
                plan=_int(1, 255),
                cycle_s=_int(20, 300),
                # Every controller of the batch gets the whole table and takes its own line:
                # one batch carries one set of parameters.
                offsets={
                    "type": "object",
                    "additionalProperties": _int(0, 299),
                    "maxProperties": 200,
                },
            ),
            "Run a plan with the offset of a green wave (RSMP M0002 with offset)",
        ),
        CommandSpec(
            "priority_request",
            _object(("line", "direction"), line=_text(16), direction=_text(32)),
            "Public transport priority request",
            timeout_s=10,
            expires_s=120,
            idempotent=False,
        ),
    ),
)

BOLLARD = EquipmentType(
    key="bollard",
    label="Retractable bollard",
    label_fr="Borne escamotable",
    domain=Domain.ROADS,
    report_interval_s=300,
    silence_timeout_s=900,
    attributes=_object(site=_text(200), access=_enum("permanent", "scheduled")),
    telemetry=(TelemetryKey("position", E, choices=("up", "down", "moving")),),
    faults=(
        FaultCode("obstruction", Severity.CRITICAL, "Obstacle on the bollard"),
        FaultCode("motorFault", Severity.MAJOR),
    ),
    commands=(
        CommandSpec("raise", critical=True, timeout_s=30, verify=(("position", "=up"),)),
        CommandSpec("lower", critical=True, timeout_s=30, verify=(("position", "=down"),)),
    ),
)

MESSAGE_SIGN = EquipmentType(
    key="message_sign",
    label="Variable message sign",
    label_fr="Panneau à message variable",
    domain=Domain.TRAFFIC,
    report_interval_s=300,
    silence_timeout_s=900,
    attributes=_object(lines=_int(1, 8), width_chars=_int(8, 64)),
    telemetry=(
        TelemetryKey("message", T, max_length=512),
        TelemetryKey("brightness_pct", N, "%", 0, 100),
    ),
    faults=(FaultCode("pixelFailure", Severity.MINOR), COMMUNICATION_FAILURE),
    commands=(
        CommandSpec(
            "display",
            _object(("text",), text=_text(512), until={"type": "string", "format": "date-time"}),
            verify=(("message", "text"),),
        ),
        CommandSpec("clear"),
    ),
)

TRAFFIC_COUNTER = EquipmentType(
    key="traffic_counter",
    label="Traffic counter",
    label_fr="Station de comptage",
    domain=Domain.TRAFFIC,
    smart_data_model="TrafficFlowObserved",
    parent_types=("traffic_controller",),
    report_interval_s=300,
    silence_timeout_s=1800,
    attributes=_object(lanes=_int(1, 8), road=_text(200)),
    telemetry=(
        TelemetryKey("count", I, None, 0, 100_000),
        TelemetryKey("occupancy_pct", N, "%", 0, 100),
        TelemetryKey("speed_kmh", N, "km/h", 0, 300),
        # Per lane (1 to ``lanes``), over the same report interval (docs/mobility.md).
        TelemetryKey("lane_{n}_count", I, None, 0, 100_000, description="Vehicles counted"),
        TelemetryKey("lane_{n}_occupancy_pct", N, "%", 0, 100),
        TelemetryKey("lane_{n}_speed_kmh", N, "km/h", 0, 300),
    ),
    faults=(FaultCode("detectorFault", Severity.MINOR),),
)

CAR_PARK = EquipmentType(
    key="car_park",
    label="Car park",
    label_fr="Parking",
    domain=Domain.TRAFFIC,
    smart_data_model="OffStreetParking",
    report_interval_s=300,
    silence_timeout_s=1800,
    attributes=_object(capacity=_int(1, 20_000), operator=_text(200)),
    telemetry=(
        TelemetryKey("free_spaces", I, None, 0, 20_000),
        TelemetryKey("capacity", I, None, 0, 20_000),
    ),
)

AIR_QUALITY_STATION = EquipmentType(
    key="air_quality_station",
    label="Air quality station",
    label_fr="Station de qualité de l'air",
    domain=Domain.ENVIRONMENT,
    smart_data_model="AirQualityObserved",
    report_interval_s=900,
    silence_timeout_s=3600,
    attributes=_object(network=_text(200)),
    telemetry=(
        TelemetryKey("no2_ugm3", N, "µg/m³", 0, 5000),
        TelemetryKey("pm10_ugm3", N, "µg/m³", 0, 5000),
        TelemetryKey("pm25_ugm3", N, "µg/m³", 0, 5000),
        TelemetryKey("o3_ugm3", N, "µg/m³", 0, 5000),
    ),
    faults=(FaultCode("sensorFault", Severity.MINOR),),
)

EQUIPMENT_TYPES: tuple[EquipmentType, ...] = (
    STREETLIGHT,
    LIGHTING_CABINET,
    TRAFFIC_CONTROLLER,
    CAMERA,
    BOLLARD,
    MESSAGE_SIGN,
    TRAFFIC_COUNTER,
    CAR_PARK,
    AIR_QUALITY_STATION,
    VEHICLE,
)
