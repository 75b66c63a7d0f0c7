"""The equipment catalogue, first version.

Vocabulary follows TALQ for lighting, RSMP SXL / NTCIP 1202 for traffic signals, ONVIF for
cameras, and FIWARE Smart Data Models names where a model exists.
"""

from __future__ import annotations

from typing import Any

from beffroi.catalogue.spec import (
    CommandSpec,
    EquipmentType,
    FaultCode,
    JsonSchema,
    LampLife,
    Renovation,
    Severity,
    TelemetryKey,
    ValueKind,
)
from beffroi.core.vocabulary import Domain

N = ValueKind.NUMBER
I = ValueKind.INTEGER  # noqa: E741 - a one-letter alias keeps the tables readable
B = ValueKind.BOOLEAN
E = ValueKind.ENUM
T = ValueKind.TEXT


def _object(required: tuple[str, ...] = (), **properties: JsonSchema) -> JsonSchema:
    """A closed JSON Schema object: unknown fields are errors, not silently kept."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _int(minimum: int, maximum: int, **extra: Any) -> JsonSchema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **extra}


def _num(minimum: float, maximum: float, **extra: Any) -> JsonSchema:
    return {"type": "number", "minimum": minimum, "maximum": maximum, **extra}


def _enum(*values: str) -> JsonSchema:
    return {"type": "string", "enum": list(values)}


def _text(max_length: int, **extra: Any) -> JsonSchema:
    return {"type": "string", "minLength": 1, "maxLength": max_length, **extra}


BOOL: JsonSchema = {"type": "boolean"}
COMMUNICATION_FAILURE = FaultCode(
    "communicationFailure", Severity.MAJOR, "The device stopped answering its controller"
)
SUPPLY_LOSS = FaultCode("supplyLoss", Severity.CRITICAL, "Mains supply lost")
TRAFFIC_MODES = ("normal", "yellow_flash", "dark", "all_red")
# Only authorised video agents steer cameras, and each time with a reason.
VIDEO: dict[str, Any] = {"roles": ("video_agent",), "reason_required": True}

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
        TelemetryKey("plan", I, None, 1, 255),
        TelemetryKey("cycle_s", N, "s", 0, 600),
        TelemetryKey("detector_{n}_count", I, None, 0, 100_000, description="Vehicles counted"),
        TelemetryKey("detector_{n}_occupancy_pct", N, "%", 0, 100),
    ),
    faults=(
        FaultCode("hardwareFault", Severity.CRITICAL),
        FaultCode("conflictFlash", Severity.CRITICAL, "Conflicting greens: fell to flash"),
        FaultCode("signalLampFault", Severity.MAJOR),
        FaultCode("detectorFault", Severity.MINOR),
        FaultCode("doorOpen", Severity.MAJOR),
        COMMUNICATION_FAILURE,
    ),
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
            _object(("plan",), plan=_int(1, 255)),
            "Switch signal timing plan",
            verify=(("plan", "plan"),),
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

CAMERA = EquipmentType(
    key="camera",
    label="Video-protection camera",
    label_fr="Caméra de vidéoprotection",
    domain=Domain.VIDEO,
    report_interval_s=300,
    silence_timeout_s=900,
    attributes=_object(
        kind=_enum("fixed", "ptz", "dome"),
        presets=_int(0, 255),
        onvif_profile=_enum("S", "T", "G"),
    ),
    telemetry=(
        TelemetryKey("online", B),
        TelemetryKey("recording", B),
        TelemetryKey("preset", I, None, 0, 255),
    ),
    faults=(
        FaultCode("videoLoss", Severity.MAJOR),
        FaultCode("tamper", Severity.CRITICAL, "Camera tampered with or masked"),
        FaultCode("recordingFailure", Severity.MAJOR),
    ),
    commands=(
        CommandSpec(
            "goto_preset",
            _object(("preset",), preset=_int(1, 255)),
            verify=(("preset", "preset"),),
            **VIDEO,
        ),
        CommandSpec("set_preset", _object(("preset",), preset=_int(1, 255)), **VIDEO),
        CommandSpec("recording", _object(("on",), on=BOOL), verify=(("recording", "on"),), **VIDEO),
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
)
