"""Overrides, pure: states on the clock, the most recent winning, what is critical (by the
catalogue's word), and what a schedule says of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from beffroi.lighting.override import (
    Applying,
    OverrideTarget,
    critical_because,
    effective_end,
    lights_out,
    state_at,
    winner,
)
from beffroi.lighting.override_reach import Reach
from beffroi.lighting.schedule import override_json

T0 = datetime(2026, 12, 7, 18, tzinfo=UTC)


def _applying(override_id: int, level: float, start_h: float, end_h: float) -> Applying:
    start, end = T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h)
    return Applying(override_id, level, start, end, end, "why", "someone")


def test_states_follow_the_clock() -> None:
    start, end = T0, T0 + timedelta(hours=2)
    assert state_at("approved", start, end, T0 - timedelta(seconds=1)) == "scheduled"
    assert state_at("approved", start, end, T0) == "active"
    assert state_at("approved", start, end, end - timedelta(seconds=1)) == "active"
    assert state_at("approved", start, end, end) == "ended"
    assert state_at("pending_approval", start, end, T0) == "pending_approval"
    # Never approved in time: it can no longer be, and never applied.
    assert state_at("pending_approval", start, end, end) == "ended"
    assert state_at("cancelled", start, end, T0) == "cancelled"
    assert state_at("refused", start, end, end) == "refused"
    assert effective_end(end, T0 + timedelta(hours=1)) == T0 + timedelta(hours=1)
    assert effective_end(end, end + timedelta(hours=1)) == end
    assert effective_end(end, None) == end


def test_the_most_recent_wins_where_several_overlap() -> None:
    festival = _applying(1, 80, 0, 6)
    accident = _applying(2, 100, 1, 2)
    both = [accident, festival]
    assert winner(both, T0 + timedelta(minutes=30)) == festival
    assert winner(both, T0 + timedelta(hours=1, minutes=30)) == accident
    assert winner(both, T0 + timedelta(hours=2)) == festival  # the accident ended
    assert winner(both, T0 + timedelta(hours=6)) is None
    assert winner([], T0) is None


def test_lights_out_over_a_commune_or_more_is_critical() -> None:
    # The catalogue's dim command switches off at 0 %, and only there.
    assert lights_out(0)
    assert not lights_out(1)
    assert critical_because(OverrideTarget.COMMUNE, 0) is not None
    assert critical_because(OverrideTarget.METROPOLIS, 0) is not None
    assert critical_because(OverrideTarget.COMMUNE, 10) is None
    for narrow in (OverrideTarget.ASSETS, OverrideTarget.GROUP, OverrideTarget.POLYGON):
        assert critical_because(narrow, 0) is None


def test_what_an_override_reaches_on_a_cabinet() -> None:
    commune = Reach(communes=frozenset({"talant"}))
    assert commune.on_cabinet("LC-1", "talant") == (True, [])
    assert commune.on_cabinet("LC-2", "chenove") == (False, [])
    assert commune.covers("SL-9", None, "talant")  # a light without a cabinet, in Talant
    listed = Reach(cabinets=frozenset({"LC-1"}), lights={"SL-2": "LC-2", "SL-3": "LC-2"})
    assert listed.on_cabinet("LC-1", "x") == (True, [])
    assert listed.on_cabinet("LC-2", "x") == (False, ["SL-2", "SL-3"])
    assert listed.covers("SL-1", "LC-1", "x")
    assert listed.covers("SL-2", "LC-2", "x")
    assert not listed.covers("SL-4", "LC-2", "x")
    assert not listed.covers("LC-2", "LC-2", "x")  # the cabinet is not reached whole
    assert Reach(everything=True).on_cabinet("LC-7", "dijon") == (True, [])


def test_an_override_in_a_schedule() -> None:
    # Given in local time, sent in UTC.
    local = T0.astimezone(ZoneInfo("Europe/Paris"))
    assert override_json(3, local, T0 + timedelta(hours=1), 100, None) == {
        "id": 3,
        "starts_at": "2026-12-07T18:00:00Z",
        "ends_at": "2026-12-07T19:00:00Z",
        "level_pct": 100.0,
        "lights": None,
    }
