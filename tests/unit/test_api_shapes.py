"""API shapes validated from rows: the names and values a row's columns do not give as is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from beffroi.alarms.lifecycle import AlarmState
from beffroi.alarms.models import Alarm, AlarmHistory
from beffroi.alarms.reading import to_out
from beffroi.alarms.schemas import HistoryOut
from beffroi.assets.lifecycle import AssetStatus
from beffroi.assets.models import Asset
from beffroi.assets.schemas import AssetOut, Point
from beffroi.catalogue import Severity
from beffroi.db import Derived
from beffroi.notifications.models import NotificationDelivery
from beffroi.notifications.schemas import DeliveryOut

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_an_asset_row_shows_its_commune_its_point_and_its_status() -> None:
    row = Asset(
        id="SL-1",
        type="streetlight",
        name="Point lumineux 1",
        commune_code="21231",
        lon=5.04,
        lat=47.32,
        parent_id=None,
        status="maintenance",
        attributes={"circuit": 2},
        manufacturer=None,
        model=None,
        installed_on=date(2020, 5, 1),
        tags=["led"],
        version=3,
        created_at=NOW,
        updated_at=NOW,
    )
    out = AssetOut.model_validate(row)
    assert out.commune == "21231"
    assert out.location == Point(coordinates=(5.04, 47.32))
    assert out.status is AssetStatus.MAINTENANCE
    assert set(out.model_dump()) == set(AssetOut.model_fields)


def test_an_alarm_shows_what_its_row_does_not_hold() -> None:
    row = Alarm(
        id=7,
        asset_id="SL-1",
        asset_type="streetlight",
        commune_code="21231",
        domain="lighting",
        alarm_type="lampFailure",
        source="device",
        severity="major",
        state="active_unacknowledged",
        raised_at=NOW,
        last_seen_at=NOW,
        occurrences=1,
        shelved_until=NOW + timedelta(minutes=5),
        detail=None,
    )
    out = to_out(row, children=4, now=NOW)
    assert (out.commune, out.children, out.shelved, out.detail) == ("21231", 4, True, {})
    assert out.severity is Severity.MAJOR
    assert out.state is AlarmState.ACTIVE_UNACKNOWLEDGED
    assert not to_out(row, now=NOW + timedelta(minutes=5)).shelved


def test_a_history_line_with_no_detail_shows_an_empty_one() -> None:
    line = AlarmHistory(
        alarm_id=7, ts=NOW, action="raised", actor="SL-1", actor_kind="device",
        state="active_unacknowledged", detail=None,
    )  # fmt: skip
    assert HistoryOut.model_validate(line).detail == {}


def test_a_delivery_shows_its_commune() -> None:
    row = NotificationDelivery(
        id=1, route_id=None, route_name="astreinte", history_id=None, alarm_id=None,
        commune_code="21231", action="test", channel="webhook", target="https://x.test/h",
        state="sent", attempts=1, next_attempt_at=None, last_error=None, payload={},
        created_at=NOW, sent_at=NOW,
    )  # fmt: skip
    assert DeliveryOut.model_validate(row).commune == "21231"


def test_a_derived_row_shows_its_own_values_over_the_rows() -> None:
    row = NotificationDelivery(id=1, commune_code="21231", payload={})
    seen = Derived(row, payload={"derived": True})
    assert (seen.commune_code, seen.payload, seen.sent_at) == ("21231", {"derived": True}, None)
    with pytest.raises(AttributeError):
        _ = seen.no_such_column
