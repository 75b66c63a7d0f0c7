"""The plan validator: each rule can fail, and names the stage, groups and seconds."""

from __future__ import annotations

import pytest

from beffroi.traffic.config import (
    ControllerConfig,
    Detector,
    GroupKind,
    SignalGroup,
    Stage,
    check_config,
    from_document,
)
from beffroi.traffic.policy import Plan, Rule, StageSplit, check_plan, interstage

V, P = GroupKind.VEHICLE, GroupKind.PEDESTRIAN

CONFIG = ControllerConfig(
    groups=(
        SignalGroup("K1", V, 10),
        SignalGroup("K2", V, 8),
        SignalGroup("P1", P, 5),
        SignalGroup("P2", P, 5),
    ),
    detectors=(Detector("D1", "K1"),),
    stages=(
        Stage("S1", ("K1", "P2")),
        Stage("S2", ("K2", "P1")),
        Stage("BAD", ("K1", "K2")),
        Stage("S3", ("K1", "K2x")),
    ),
    intergreens={
        ("K1", "K2"): 5,
        ("K2", "K1"): 5,
        ("K1", "P1"): 4,
        ("P1", "K1"): 7,
        ("K2", "P2"): 4,
        ("P2", "K2"): 7,
    },
)


def plan(*splits: tuple[str, int], cycle: int | None = None, offset: int = 0) -> Plan:
    total = sum(s for _, s in splits)
    return Plan(1, total if cycle is None else cycle, offset, tuple(StageSplit(*s) for s in splits))


def rules(p: Plan) -> list[Rule]:
    return [e.rule for e in check_plan(CONFIG, p)]


def test_a_sound_plan_passes() -> None:
    assert check_plan(CONFIG, plan(("S1", 50), ("S2", 40))) == []


def test_the_interstage_is_the_longest_intergreen_of_the_change() -> None:
    change = interstage(CONFIG, CONFIG.stages[0], CONFIG.stages[1])
    assert (change.seconds, change.losing, change.gaining) == (7, "P2", "K2")


def test_conflicting_greens_are_refused_naming_the_groups() -> None:
    errors = check_plan(CONFIG, plan(("S1", 40), ("BAD", 40)))
    assert [e.rule for e in errors] == [Rule.CONFLICTING_GREENS]
    assert "K1 and K2 conflict" in errors[0].message
    assert "BAD" in errors[0].message
    assert errors[0].field == "stages[1].stage"


def test_a_short_intergreen_is_refused_naming_groups_and_seconds() -> None:
    errors = check_plan(CONFIG, plan(("S1", 7), ("S2", 60)))
    assert [e.rule for e in errors] == [Rule.INTERGREEN]
    assert "needs 7 s (P2 -> K2 intergreen)" in errors[0].message
    assert "split is 7 s" in errors[0].message


def test_a_short_green_is_refused_naming_the_group_and_its_minimum() -> None:
    errors = check_plan(CONFIG, plan(("S1", 16), ("S2", 60)))
    assert [e.rule for e in errors] == [Rule.MIN_GREEN]
    assert errors[0].message == "stage S1: K1 gets 9 s of green, its minimum is 10 s"


def test_a_group_green_through_several_stages_counts_its_whole_green() -> None:
    config = ControllerConfig(
        groups=(
            SignalGroup("K1", V, 20),
            SignalGroup("K2", V, 5),
            SignalGroup("K3", V, 5),
            SignalGroup("K4", V, 5),
        ),
        detectors=(),
        stages=(Stage("A", ("K1", "K2")), Stage("B", ("K1", "K3")), Stage("C", ("K4",))),
        intergreens={
            ("K2", "K3"): 3,
            ("K3", "K2"): 3,
            ("K1", "K4"): 4,
            ("K4", "K1"): 4,
            ("K3", "K4"): 2,
            ("K4", "K3"): 2,
        },
    )
    # K1 is green through A and B: 12 + 12 s, less the 4 s change to C, meets its 20 s.
    ok = Plan(1, 40, 0, (StageSplit("A", 12), StageSplit("B", 12), StageSplit("C", 16)))
    assert check_plan(config, ok) == []
    short = Plan(1, 40, 0, (StageSplit("A", 12), StageSplit("B", 11), StageSplit("C", 17)))
    (error,) = check_plan(config, short)
    assert error.message == "stage A: K1 gets 19 s of green, its minimum is 20 s"


def test_splits_must_add_up_to_the_cycle() -> None:
    errors = check_plan(CONFIG, plan(("S1", 50), ("S2", 40), cycle=100))
    assert [e.rule for e in errors] == [Rule.CYCLE]
    assert "add up to 90 s but the cycle is 100 s" in errors[0].message


@pytest.mark.parametrize("cycle", [10, 400])
def test_the_cycle_has_bounds(cycle: int) -> None:
    assert Rule.CYCLE in rules(plan(("S1", 50), ("S2", 40), cycle=cycle))


def test_the_offset_lies_within_the_cycle() -> None:
    assert rules(plan(("S1", 50), ("S2", 40), offset=90)) == [Rule.OFFSET]


def test_an_unknown_stage_is_named() -> None:
    errors = check_plan(CONFIG, plan(("S1", 50), ("S9", 40)))
    assert [(e.rule, e.message) for e in errors] == [(Rule.UNKNOWN_STAGE, "no stage 'S9'")]


def test_a_stage_followed_by_itself_is_refused() -> None:
    assert rules(plan(("S1", 30), ("S1", 30), ("S2", 30))) == [Rule.REPEATED_STAGE]


def test_errors_become_field_errors_naming_the_rule() -> None:
    (error,) = check_plan(CONFIG, plan(("S1", 16), ("S2", 60)))
    field = error.as_field_error()
    assert field.field == "stages[0].split_s"
    assert field.message.endswith("[min_green]")


def test_configuration_rules() -> None:
    errors = check_config(CONFIG)
    messages = [e.message for e in errors]
    assert "stage BAD: K1 and K2 conflict and cannot be green together" in messages
    assert "no signal group 'K2x'" in messages
    one_way = ControllerConfig(
        groups=(SignalGroup("A", V, 5), SignalGroup("B", V, 5), SignalGroup("A", V, 5)),
        detectors=(Detector("D", "Z"),),
        stages=(Stage("S", ()),),
        intergreens={("A", "B"): 4, ("A", "A"): 1, ("B", "C"): 40},
    )
    text = "; ".join(str(e) for e in check_config(one_way))
    for expected in (
        "'A' is named twice",
        "A conflicts with B but B->A is missing",
        "A cannot conflict with itself",
        "no signal group 'C'",
        "intergreen must be 0 to 30 s",
        "no signal group 'Z'",
        "stage S is empty",
    ):
        assert expected in text


def test_the_document_form_round_trips() -> None:
    assert from_document(CONFIG.as_document()) == CONFIG
