"""The simulated fleet's behaviours, with time under the test's control (no broker)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from beffroi.catalogue import CATALOGUE, ValueKind
from beffroi.core.sun import LightingProgramme, SunCalendar
from beffroi.devices.topics import Channel
from beffroi.simulator import SimAsset, SimClock, city_centre, curves
from beffroi.simulator.engine import Engine, Message
from beffroi.simulator.fleet import generate_fleet
from beffroi.simulator.fleet_communes import load_communes
from beffroi.simulator.lighting import CONTROLLER_W, LINE_LOSS, light_power

PARIS = ZoneInfo("Europe/Paris")
LAT, LON = city_centre(load_communes())
WEDNESDAY = datetime(2024, 11, 20, tzinfo=PARIS)  # a November weekday in Dijon
SATURDAY = datetime(2024, 11, 23, tzinfo=PARIS)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    """A local time on ``day``."""
    return day.replace(hour=hour, minute=minute)


def asset(asset_id: str, type_key: str, parent: str | None = None, **attributes: Any) -> SimAsset:
    """A simulated asset in Dijon."""
    return SimAsset(asset_id, type_key, parent, attributes, "dijon", LON, LAT)


def lights(cabinet_id: str, n: int, rated_w: float = 40.0) -> list[SimAsset]:
    """``n`` dimmable LED lights on circuit 1 of a cabinet."""
    return [
        asset(f"SL-{cabinet_id}-{i}", "streetlight", cabinet_id, rated_power_w=rated_w, circuit=1)
        for i in range(n)
    ]


def make_engine(assets: list[SimAsset], start: datetime, **options: Any) -> Engine:
    """An engine in Dijon, faults off unless asked."""
    options.setdefault("fault_rate", 0.0)
    return Engine(assets, start=start, latitude=LAT, longitude=LON, **options)


def telemetry(messages: list[Message]) -> dict[str, Any]:
    """The values of the (single) telemetry message among ``messages``."""
    found = [m.body["values"] for m in messages if m.channel is Channel.TELEMETRY]
    assert len(found) == 1, messages
    values: dict[str, Any] = found[0]
    return values


def report(engine: Engine, asset_id: str, moment: datetime) -> dict[str, Any]:
    """The telemetry of one scheduled report."""
    return telemetry(engine.tick(engine.devices[asset_id], moment))


def catalogue_problems(type_key: str, values: Mapping[str, Any]) -> list[str]:
    """What in ``values`` breaks the catalogue: unknown keys, wrong kinds, out of range."""
    spec = CATALOGUE[type_key]
    problems = []
    for key, value in values.items():
        known = spec.telemetry_key(key)
        if known is None:
            problems.append(f"{type_key}.{key}: not in the catalogue")
            continue
        if known.kind in (ValueKind.NUMBER, ValueKind.INTEGER):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if known.kind is ValueKind.INTEGER:
                ok = ok and float(value).is_integer()
            if ok and known.minimum is not None and value < known.minimum:
                ok = False
            if ok and known.maximum is not None and value > known.maximum:
                ok = False
        elif known.kind is ValueKind.BOOLEAN:
            ok = isinstance(value, bool)
        elif known.kind is ValueKind.ENUM:
            ok = value in known.choices
        else:
            ok = isinstance(value, str) and len(value) <= (known.max_length or 10**6)
        if not ok:
            problems.append(f"{type_key}.{key}: {value!r} breaks {known}")
    return problems


# --- sun and clock -----------------------------------------------------------------------


def test_dijon_is_dark_in_the_evening_and_light_at_noon() -> None:
    sun = SunCalendar(LAT, LON)
    day = sun.day(WEDNESDAY.date())
    assert at(WEDNESDAY, 16, 45) < day.sunset < at(WEDNESDAY, 17, 15)
    assert at(WEDNESDAY, 7, 30) < day.sunrise < at(WEDNESDAY, 8, 15)
    assert not sun.is_dark(at(WEDNESDAY, 12))
    assert sun.is_dark(at(WEDNESDAY, 22))
    assert sun.next_switch(at(WEDNESDAY, 12)) == day.sunset


def test_programme_lights_at_sunset_dims_at_23_and_goes_full_at_5() -> None:
    programme = LightingProgramme(SunCalendar(LAT, LON))
    expected = {(12, 0): 0.0, (18, 0): 100.0, (22, 59): 100.0, (23, 30): 50.0,
                (3, 0): 50.0, (5, 30): 100.0, (9, 0): 0.0}  # fmt: skip
    for (hour, minute), level in expected.items():
        assert programme.level(at(WEDNESDAY, hour, minute)) == level, (hour, minute)
    assert programme.next_change(at(WEDNESDAY, 20)) == at(WEDNESDAY, 23)


def test_clock_runs_at_its_speed_and_maps_wall_to_simulated_time() -> None:
    ticks = [100.0]
    start = at(WEDNESDAY, 12)
    clock = SimClock(
        speed=60, start=start, wall=lambda: datetime(2026, 1, 1, tzinfo=PARIS),
        monotonic=lambda: ticks[0],
    )  # fmt: skip
    assert clock.now() == start
    ticks[0] += 10
    assert clock.now() == start + timedelta(minutes=10)
    assert clock.wall_now() == datetime(2026, 1, 1, 0, 0, 10, tzinfo=PARIS)
    assert clock.to_sim(clock.to_wall(at(WEDNESDAY, 15))) == at(WEDNESDAY, 15)
    assert clock.real_delay(600) == 10
    clock.reset()
    assert clock.now() == start


# --- lighting ----------------------------------------------------------------------------


def test_streetlight_is_off_at_noon_on_at_22_and_dimmed_at_23_30() -> None:
    engine = make_engine([asset("LC-1", "lighting_cabinet"), *lights("LC-1", 1)], at(WEDNESDAY, 11))
    noon = report(engine, "SL-LC-1-0", at(WEDNESDAY, 12))
    assert noon["level_pct"] == 0
    assert noon["power_w"] == pytest.approx(0.4)  # the node's standby
    evening = report(engine, "SL-LC-1-0", at(WEDNESDAY, 22))
    assert evening["level_pct"] == 100
    assert evening["power_w"] == pytest.approx(0.4 + 40 * 1.05, abs=0.05)
    assert 220 < evening["voltage_v"] < 240
    night = report(engine, "SL-LC-1-0", at(WEDNESDAY, 23, 30))
    assert night["level_pct"] == 50
    assert night["power_w"] == pytest.approx(0.4 + 20 * 1.05, abs=0.05)


def test_energy_and_burning_hours_grow_monotonically_and_match_the_night() -> None:
    engine = make_engine([asset("LC-1", "lighting_cabinet"), *lights("LC-1", 1)], at(WEDNESDAY, 12))
    device = engine.devices["SL-LC-1-0"]
    readings = []
    moment = at(WEDNESDAY, 12)
    while moment <= at(WEDNESDAY, 12) + timedelta(days=2):
        readings.append(report(engine, device.id, moment))
        moment += timedelta(minutes=15)
    energy = [r["energy_wh"] for r in readings]
    hours = [r["lamp_hours"] for r in readings]
    assert energy == sorted(energy)
    assert energy[-1] > energy[0]
    assert hours == sorted(hours)
    # One night in Dijon in November: about 15 h lit, 6 of them at 50 %.
    sun = SunCalendar(LAT, LON)
    first_night = (
        sun.day(WEDNESDAY.date() + timedelta(days=1)).sunrise - sun.day(WEDNESDAY.date()).sunset
    )
    lit = first_night.total_seconds() / 3600
    night_end = readings[4 * 24]  # the next noon
    assert night_end["lamp_hours"] - readings[0]["lamp_hours"] == pytest.approx(lit, abs=0.01)
    full, half = lit - 6, 6
    expected = 24 * 0.4 + (full * 40 + half * 20) * 1.05
    assert night_end["energy_wh"] - readings[0]["energy_wh"] == pytest.approx(expected, abs=0.5)


def test_cabinet_power_is_its_lights_power_plus_losses_and_its_meter_agrees() -> None:
    fleet = [asset("LC-1", "lighting_cabinet", circuits=2, phases=3)]
    fleet += lights("LC-1", 4, rated_w=55.0)
    fleet.append(asset("SL-X", "streetlight", "LC-1", rated_power_w=100.0, circuit=2))
    engine = make_engine(fleet, at(WEDNESDAY, 16))
    cabinet = engine.devices["LC-1"]
    light_ids = [c.id for c in cabinet.children]
    before = report(engine, "LC-1", at(WEDNESDAY, 16))
    light_energy_before = sum(engine.devices[i].energy_wh for i in light_ids)
    for moment in (at(WEDNESDAY, 22), at(WEDNESDAY, 23, 30)):
        values = report(engine, "LC-1", moment)
        lights_w = sum(report(engine, i, moment)["power_w"] for i in light_ids)
        assert values["power_w"] == pytest.approx(
            lights_w * (1 + LINE_LOSS) + CONTROLLER_W, abs=0.3
        )
        assert {"voltage_l1_v", "voltage_l2_v", "voltage_l3_v"} <= set(values)
        assert values["circuit_1_on"] is True
        assert values["circuit_2_on"] is True
        assert values["mode"] == "automatic"
        assert values["door_open"] is False
    drawn = sum(engine.devices[i].energy_wh for i in light_ids) - light_energy_before
    hours = 7.5
    expected = drawn * (1 + LINE_LOSS) + CONTROLLER_W * hours
    assert values["energy_wh"] - before["energy_wh"] == pytest.approx(expected, abs=0.2)
    assert light_power(engine.devices["SL-X"], 100.0) == pytest.approx(0.4 + 105.0)


# --- traffic, parking, air ---------------------------------------------------------------


def _hours(day: datetime, start: float, end: float) -> Iterator[datetime]:
    minutes = int(start * 60)
    while minutes <= end * 60:
        yield day + timedelta(minutes=minutes)
        minutes += 15


def test_weekday_traffic_peaks_at_8_and_17_30() -> None:
    def flow(moment: datetime) -> float:
        return curves.TRAFFIC.at(moment)

    morning = max(_hours(WEDNESDAY, 5, 12), key=flow)
    evening = max(_hours(WEDNESDAY, 14, 21), key=flow)
    assert (morning.hour, morning.minute) == (8, 0)
    assert (evening.hour, evening.minute) == (17, 30)
    assert flow(at(SATURDAY, 8)) < flow(at(WEDNESDAY, 8)) / 2  # no commute on Saturday


def test_traffic_controller_counts_follow_the_curve_and_the_timetable() -> None:
    controller = asset("TC-1", "traffic_controller", plans=4, detectors=3, bus_priority=True)
    engine = make_engine([controller], at(WEDNESDAY, 2))
    night = engine.tick(engine.devices["TC-1"], at(WEDNESDAY, 3))
    engine.devices["TC-1"].last_tick = at(WEDNESDAY, 7, 59)
    peak = report(engine, "TC-1", at(WEDNESDAY, 8))
    quiet = telemetry(night)
    assert peak["mode"] == "normal"
    assert peak["plan"] == 2
    assert peak["cycle_s"] == 90
    assert quiet["plan"] == 1
    for n in (1, 2, 3):
        per_minute_peak = peak[f"detector_{n}_count"]
        assert per_minute_peak > 5
        assert peak[f"detector_{n}_occupancy_pct"] > 5 * quiet[f"detector_{n}_occupancy_pct"]


def test_car_park_is_fuller_at_11_than_at_3() -> None:
    engine = make_engine([asset("PK-1", "car_park", capacity=400)], at(WEDNESDAY, 0))
    night = report(engine, "PK-1", at(WEDNESDAY, 3))
    day = report(engine, "PK-1", at(WEDNESDAY, 11))
    assert night["capacity"] == day["capacity"] == 400
    assert day["free_spaces"] < night["free_spaces"] / 3


def test_air_quality_follows_traffic_and_sun() -> None:
    engine = make_engine([asset("AQ-1", "air_quality_station")], at(WEDNESDAY, 0))
    june = datetime(2025, 6, 18, tzinfo=PARIS)
    assert (
        report(engine, "AQ-1", at(WEDNESDAY, 8))["no2_ugm3"]
        > 2 * report(engine, "AQ-1", at(WEDNESDAY, 3))["no2_ugm3"]
    )
    assert (
        report(engine, "AQ-1", at(june, 15))["o3_ugm3"]
        > 2 * report(engine, "AQ-1", at(june, 3))["o3_ugm3"]
    )


def test_every_type_reports_within_the_catalogue_all_day() -> None:
    fleet = [SimAsset.from_asset(a) for a in generate_fleet(scale=0.005, seed=3)]
    assert {a.type for a in fleet} == set(CATALOGUE)
    engine = make_engine(fleet, at(SATURDAY, 0), fault_rate=50.0)
    for hour in range(0, 24, 3):
        for device in engine.devices.values():
            for message in engine.tick(device, at(SATURDAY, hour)):
                if message.channel is Channel.TELEMETRY:
                    values = message.body["values"]
                    assert not catalogue_problems(device.spec.key, values)
                elif message.channel is Channel.EVENTS:
                    assert device.spec.fault(message.body["code"]) is not None


def test_same_seed_same_readings() -> None:
    fleet = [SimAsset.from_asset(a) for a in generate_fleet(scale=0.003, seed=2)]

    def run(seed: int) -> list[dict[str, Any]]:
        engine = make_engine(fleet, at(WEDNESDAY, 6), seed=seed, fault_rate=1.0)
        return [
            m.body
            for device in engine.devices.values()
            for m in engine.tick(device, at(WEDNESDAY, 8))
        ]

    assert run(7) == run(7)
    assert run(7) != run(8)
