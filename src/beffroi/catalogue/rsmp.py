"""RSMP alarm codes of traffic light controllers, mapped to Beffroi's fault codes: a
declarative table, as the catalogue is.

A controller (or the bridge of an RSMP controller) may report its fault with the RSMP code
(``{"code": "A0201", "active": true}`` on its ``events`` topic): the catalogue's
:data:`~beffroi.catalogue.equipment.TRAFFIC_CONTROLLER` takes these codes as aliases of its
own fault codes, so the alarm raised is the one any other fault of that code raises, with
its severity. Codes follow the RSMP SXL for traffic light controllers (A0001 to A0304);
the class groups them for the console and the reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FaultClass(StrEnum):
    """The kind of trouble an alarm says."""

    HARDWARE = "hardware"
    CONFIGURATION = "configuration"
    COORDINATION = "coordination"
    SAFETY = "safety"
    COMMUNICATION = "communication"
    LAMP = "lamp"
    DETECTOR = "detector"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class RsmpAlarm:
    """One RSMP alarm code, its class, and the Beffroi fault code it raises."""

    code: str
    fault: str
    fault_class: FaultClass
    description: str


_HARDWARE, _CONFIGURATION, _COORDINATION, _SAFETY = (
    FaultClass.HARDWARE,
    FaultClass.CONFIGURATION,
    FaultClass.COORDINATION,
    FaultClass.SAFETY,
)
_COMMUNICATION, _LAMP, _DETECTOR, _OTHER = (
    FaultClass.COMMUNICATION,
    FaultClass.LAMP,
    FaultClass.DETECTOR,
    FaultClass.OTHER,
)

RSMP_ALARMS: tuple[RsmpAlarm, ...] = (
    RsmpAlarm("A0001", "hardwareFault", _HARDWARE, "Serious hardware error"),
    RsmpAlarm("A0002", "hardwareWarning", _HARDWARE, "Less serious hardware error"),
    RsmpAlarm("A0003", "configurationFault", _CONFIGURATION, "Serious configuration error"),
    RsmpAlarm("A0004", "configurationWarning", _CONFIGURATION, "Less serious configuration error"),
    RsmpAlarm(
        "A0005", "synchronisationFault", _COORDINATION, "Synchronisation error (coordination)"
    ),
    RsmpAlarm("A0006", "conflictFlash", _SAFETY, "Safety error"),
    RsmpAlarm("A0007", "communicationFailure", _COMMUNICATION, "Communication error"),
    RsmpAlarm("A0008", "deadlock", _OTHER, "Dead lock error"),
    RsmpAlarm("A0009", "otherFault", _OTHER, "Other error"),
    RsmpAlarm("A0101", "pushButtonFault", _DETECTOR, "Pushbutton error"),
    RsmpAlarm("A0201", "signalLampFault", _LAMP, "Serious lamp error"),
    RsmpAlarm("A0202", "lampWarning", _LAMP, "Less serious lamp error"),
    RsmpAlarm("A0301", "detectorFault", _DETECTOR, "Detector error (hardware)"),
    RsmpAlarm("A0302", "detectorFault", _DETECTOR, "Detector error (logic error)"),
    RsmpAlarm("A0303", "detectorSeriousFault", _DETECTOR, "Serious detector error (hardware)"),
    RsmpAlarm("A0304", "detectorSeriousFault", _DETECTOR, "Serious detector error (logic error)"),
)

_BY_CODE = {a.code: a for a in RSMP_ALARMS}


def fault_of(rsmp_code: str) -> RsmpAlarm | None:
    """The mapping of an RSMP alarm code (``"A0201"``), or ``None`` for an unknown one."""
    return _BY_CODE.get(rsmp_code.strip().upper())


def aliases() -> tuple[tuple[str, str], ...]:
    """Each RSMP alarm code with the Beffroi fault code it raises, for the catalogue."""
    return tuple((a.code, a.fault) for a in RSMP_ALARMS)
