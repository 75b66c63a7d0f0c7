"""The alarm lifecycle's states and the root-cause table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beffroi.alarms import grouping
from beffroi.alarms.ingest import connectivity_signals, fault_signals
from beffroi.alarms.lifecycle import COMMUNICATION_LOSS, AlarmSource, AlarmState
from beffroi.telemetry.events import ConnectivityChanged, DeviceEventReceived

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "acknowledged", "cleared"),
    [
        (AlarmState.ACTIVE_UNACKNOWLEDGED, "active_acknowledged", "cleared_unacknowledged"),
        (AlarmState.ACTIVE_ACKNOWLEDGED, "active_acknowledged", "cleared_acknowledged"),
        (AlarmState.CLEARED_UNACKNOWLEDGED, "cleared_acknowledged", "cleared_unacknowledged"),
        (AlarmState.CLEARED_ACKNOWLEDGED, "cleared_acknowledged", "cleared_acknowledged"),
    ],
)
def test_acknowledging_and_clearing_are_independent(
    state: AlarmState, acknowledged: str, cleared: str
) -> None:
    assert state.acknowledge() == acknowledged
    assert state.clear() == cleared
    assert state.active == state.value.startswith("active")


def test_a_cabinet_supply_loss_explains_its_lights_but_a_door_does_not() -> None:
    assert grouping.explains("supplyLoss", "lampFailure")
    assert grouping.explains(COMMUNICATION_LOSS, COMMUNICATION_LOSS)
    assert not grouping.explains("cabinetDoorOpen", "lampFailure")
    assert not grouping.explains("supplyLoss", "highTemperature")
    assert grouping.is_root_cause("circuitBreakerTripped")
    assert not grouping.is_root_cause("lampFailure")


def test_events_and_silences_become_signals() -> None:
    [raised, cleared] = fault_signals(
        [
            DeviceEventReceived("SL-1", NOW, "lampFailure", True, {"lamp": 1}, "LC-1"),
            DeviceEventReceived("SL-1", NOW, "lampFailure", False, {}),
        ]
    )
    assert (raised.active, raised.source, raised.detail) == (
        True,
        AlarmSource.DEVICE,
        {"lamp": 1, "gateway": "LC-1"},
    )
    assert not cleared.active
    [lost, back] = connectivity_signals(
        [
            ConnectivityChanged("SL-1", False, NOW, "silence"),
            ConnectivityChanged("SL-1", True, NOW, "telemetry"),
        ]
    )
    assert (lost.alarm_type, lost.active, back.active) == (COMMUNICATION_LOSS, True, False)
