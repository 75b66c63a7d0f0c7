"""Delivering the controllers their timetables (with the plans they name), and what they
acknowledge: the hub's generic versioned-document delivery
(:mod:`beffroi.devices.delivery`) over ``{root}/devices/{controller}/timetable`` and
``…/timetable/ack`` (docs/device-api.md)."""

from __future__ import annotations

from beffroi.core.principal import Permission
from beffroi.devices.delivery import Documents
from beffroi.traffic.models import TrafficDelivery, TrafficTimetable
from beffroi.traffic.reading import controller_types

TIMETABLES = Documents(
    document=TrafficTimetable,
    delivery=TrafficDelivery,
    key="controller_id",
    action="traffic_timetable.deliver",
    counted="controllers",
    noun="timetable",
    permission=Permission.TRAFFIC_PLAN,
    device_types=controller_types,
)
