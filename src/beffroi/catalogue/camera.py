"""The video-protection camera, in ONVIF's vocabulary: media profiles, presets, preset
tours and PTZ moves (each command names its ONVIF operation). A real camera is reached
through a bridge on the device API, never a driver inside the hub (docs/video.md)."""

from __future__ import annotations

from typing import Any

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
    Severity,
    TelemetryKey,
    ValueKind,
)
from beffroi.core.vocabulary import Domain

B = ValueKind.BOOLEAN
I = ValueKind.INTEGER  # noqa: E741 - as in the catalogue's tables

# Only authorised video agents steer cameras, each time with a reason, and only within a
# view session (the video area checks the session and the habilitation).
VIDEO: dict[str, Any] = {"roles": ("video_agent",), "reason_required": True, "in_session": True}
# ONVIF PTZ speeds and moves are normalised: -1..1 for pan and tilt, 0..1 or -1..1 for zoom.
_PTZ_AXIS = _num(-1, 1)

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
        # ONVIF media profiles (their tokens) the camera streams, e.g. ["main", "sub"]: a
        # view session asks the VMS for one of them.
        media_profiles={
            "type": "array",
            "items": _text(64, pattern=r"^[A-Za-z0-9_-]+$"),
            "maxItems": 8,
            "uniqueItems": True,
        },
        tours=_int(0, 32),
    ),
    telemetry=(
        TelemetryKey("online", B),
        TelemetryKey("recording", B),
        TelemetryKey("preset", I, None, 0, 255),
        TelemetryKey("tour", I, None, 0, 32, description="Preset tour running (0: none)"),
    ),
    faults=(
        FaultCode("videoLoss", Severity.MAJOR),
        FaultCode("tamper", Severity.CRITICAL, "Camera tampered with or masked"),
        FaultCode("recordingFailure", Severity.MAJOR),
    ),
    # ONVIF PTZ service operations (standard_name); recording is the Recording service's.
    commands=(
        CommandSpec(
            "goto_preset",
            _object(("preset",), preset=_int(1, 255)),
            verify=(("preset", "preset"),),
            standard_name="GotoPreset",
            **VIDEO,
        ),
        CommandSpec(
            "set_preset",
            _object(("preset",), preset=_int(1, 255)),
            standard_name="SetPreset",
            **VIDEO,
        ),
        CommandSpec(
            "ptz_move",
            _object(("pan", "tilt"), pan=_PTZ_AXIS, tilt=_PTZ_AXIS, zoom=_PTZ_AXIS),
            description="Relative move of the head, in normalised ONVIF units",
            standard_name="RelativeMove",
            timeout_s=10,
            expires_s=30,
            idempotent=False,
            **VIDEO,
        ),
        CommandSpec("ptz_stop", standard_name="Stop", timeout_s=10, expires_s=30, **VIDEO),
        CommandSpec(
            "start_tour",
            _object(("tour",), tour=_int(1, 32)),
            verify=(("tour", "tour"),),
            standard_name="OperatePresetTour",
            **VIDEO,
        ),
        CommandSpec("stop_tour", standard_name="OperatePresetTour", **VIDEO),
        CommandSpec(
            "recording",
            _object(("on",), on=BOOL),
            verify=(("recording", "on"),),
            standard_name="SetRecordingJobMode",
            **VIDEO,
        ),
    ),
)
