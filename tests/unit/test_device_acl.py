"""MQTT access rules of devices: properties over random ids and near-miss topics."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from beffroi.devices.acl import (
    device_grants,
    filter_covers,
    is_valid_filter,
    may_publish,
    may_receive,
    may_subscribe,
)
from beffroi.devices.mosquitto import render_acl_file
from beffroi.devices.topics import Channel, Topic, build, parse, schedule, schedule_ack
from beffroi.devices.topics import bulk as bulk_topic

ROOT = "beffroi/v1"
HUB = "beffroi-hub"
RULES = {"root": ROOT, "hub_username": HUB}

ids = st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True).filter(lambda i: i != HUB)
command_ids = st.from_regex(r"[A-Za-z0-9._-]{1,16}", fullmatch=True)


KEYWORDS = ["beffroi", "v1", "devices", "gateways", "commands", "telemetry", "events", "status"]
ODD_LEVELS = ["reply", "+", "#", "", "$SYS"]
TAILS = [
    "telemetry",
    "events",
    "status",
    "commands/+",
    "commands/#",
    "commands/+/reply",
    "schedule",
    "schedule/ack",
    "schedule/+",
    "schedule/#",
]
ODD_TAILS = ["#", "+", "reply", ""]


def levels(a: str, b: str) -> st.SearchStrategy[str]:
    """Topic levels that make near misses: both ids, keywords, wildcards, odd bits."""
    return st.one_of(st.sampled_from([*KEYWORDS, *ODD_LEVELS, a, b]), command_ids)


@st.composite
def two_devices(draw: st.DrawFn) -> tuple[str, str]:
    a, b = draw(ids), draw(ids)
    assume(a != b)
    return a, b


@st.composite
def scenario(draw: st.DrawFn) -> tuple[str, str, str]:
    """Two distinct devices and a topic (or filter) built to probe both of them: mostly
    device-API shapes with either id or a wildcard in each place, sometimes level soup."""
    a, b = draw(two_devices())
    who = st.one_of(st.sampled_from([a, b, "+", "#"]), ids)
    head = draw(st.sampled_from([ROOT, ROOT, ROOT, "+/v1", "beffroi/+", "#", "+", "other/v1"]))
    middle = draw(
        st.one_of(
            who.map(lambda x: f"devices/{x}"),
            st.tuples(who, who).map(lambda p: f"gateways/{p[0]}/devices/{p[1]}"),
            who.map(lambda x: f"gateways/{x}"),
            st.lists(levels(a, b), max_size=4).map("/".join),
        )
    )
    tail = draw(
        st.one_of(
            st.sampled_from([*TAILS, *ODD_TAILS]),
            command_ids.map(lambda c: f"commands/{c}"),
            command_ids.map(lambda c: f"commands/{c}/reply"),
        )
    )
    return a, b, "/".join(part for part in (head, middle, tail) if part)


def commands_of(device: str, command: str, child: str) -> list[str]:
    """B's command topics: its own, those it relays as a gateway for a child, and its
    lighting schedule."""
    return [
        build(Topic(Channel.COMMAND, device, command_id=command), ROOT),
        build(Topic(Channel.COMMAND, child, gateway_id=device, command_id=command), ROOT),
        build(schedule(device), ROOT),
    ]


@given(scenario())
def test_nothing_a_may_publish_is_sent_as_b(case: tuple[str, str, str]) -> None:
    a, b, topic = case
    assume("+" not in topic and "#" not in topic)
    if may_publish(a, topic, **RULES):
        parsed = parse(topic, ROOT)
        assert parsed is not None
        assert parsed.sender == a != b
        # Mosquitto, from the same grants, allows it too: the brokers agree.
        assert any(topic_matches_sub(g, topic) for g in device_grants(ROOT, a).publish)


@given(scenario(), command_ids, ids)
def test_nothing_a_may_subscribe_to_matches_b_commands(
    case: tuple[str, str, str], command: str, child: str
) -> None:
    a, b, topic_filter = case
    if may_subscribe(a, topic_filter, **RULES):
        for topic in commands_of(b, command, child):
            assert not topic_matches_sub(topic_filter, topic), (topic_filter, topic)


@given(two_devices(), command_ids, ids)
def test_a_receives_nothing_of_b(pair: tuple[str, str], command: str, child: str) -> None:
    a, b = pair
    for topic in commands_of(b, command, child):
        assert not may_receive(a, topic, **RULES)
    for channel in (Channel.TELEMETRY, Channel.EVENTS, Channel.STATUS):
        assert not may_receive(a, build(Topic(channel, a), ROOT), **RULES)


@given(two_devices(), command_ids, ids)
def test_a_may_use_its_own_topics(pair: tuple[str, str], command: str, child: str) -> None:
    a, _ = pair
    own = [
        Topic(Channel.TELEMETRY, a),
        Topic(Channel.EVENTS, a),
        Topic(Channel.STATUS, a),
        Topic(Channel.REPLY, a, command_id=command),
        Topic(Channel.TELEMETRY, child, gateway_id=a),
        Topic(Channel.REPLY, child, gateway_id=a, command_id=command),
        schedule_ack(a),
    ]
    for topic in own:
        assert may_publish(a, build(topic, ROOT), **RULES)
    for command_topic in commands_of(a, command, child):
        assert may_subscribe(a, command_topic, **RULES)
        assert may_receive(a, command_topic, **RULES)
    for grant in device_grants(ROOT, a).subscribe:
        assert may_subscribe(a, grant, **RULES)


@given(two_devices(), command_ids)
def test_a_may_not_publish_commands_nor_as_b(pair: tuple[str, str], command: str) -> None:
    a, b = pair
    refused = [
        Topic(Channel.COMMAND, a, command_id=command),  # only the hub sends commands
        Topic(Channel.TELEMETRY, b),
        Topic(Channel.REPLY, b, command_id=command),
        Topic(Channel.TELEMETRY, a, gateway_id=b),  # B's gateway prefix, even for A itself
        schedule(a),  # only the hub sends schedules
        schedule_ack(b),
    ]
    for topic in refused:
        assert not may_publish(a, build(topic, ROOT), **RULES)
    assert not may_publish(a, f"other/v1/devices/{a}/telemetry", **RULES)


@pytest.mark.parametrize(
    "topic_filter",
    [
        "#",
        "+",
        f"{ROOT}/#",
        f"{ROOT}/+/A/commands/+",
        f"{ROOT}/devices/+/commands/+",
        f"{ROOT}/devices/#",
        f"{ROOT}/devices/A/#",
        f"{ROOT}/devices/A/+",
        f"{ROOT}/devices/A/commands/#",
        f"{ROOT}/devices/A/telemetry",
        f"{ROOT}/gateways/+/devices/+/commands/+",
        f"{ROOT}/gateways/A/#",
        f"{ROOT}/gateways/A/devices/#",
        "+/v1/devices/A/commands/+",
        "+/+/devices/A/commands/+",
        "$SYS/#",
        f"{ROOT}/devices/A/commands/x+",
        f"{ROOT}/devices/A/commands/#/x",
        f"{ROOT}/gateways/+/schedule",
        f"{ROOT}/gateways/B/schedule",
        f"{ROOT}/gateways/A/schedule/#",
        f"{ROOT}/gateways/A/schedule/ack",
        "",
    ],
)
def test_wildcards_cannot_escape_the_prefix(topic_filter: str) -> None:
    assert not may_subscribe("A", topic_filter, **RULES)


@pytest.mark.parametrize(
    "topic_filter",
    [
        f"{ROOT}/devices/A/commands/+",
        f"{ROOT}/devices/A/commands/c-17",
        f"{ROOT}/gateways/A/devices/+/commands/+",
        f"{ROOT}/gateways/A/devices/SL-1/commands/+",
        f"{ROOT}/gateways/A/devices/+/commands/c-17",
        f"{ROOT}/gateways/A/schedule",
    ],
)
def test_own_command_filters_are_granted(topic_filter: str) -> None:
    assert may_subscribe("A", topic_filter, **RULES)


def test_the_hub_may_do_everything() -> None:
    for topic in ("#", f"{ROOT}/devices/+/telemetry", "$share/beffroi/x/#", "anything"):
        assert may_subscribe(HUB, topic, **RULES)
        assert may_publish(HUB, topic, **RULES)
        assert may_receive(HUB, topic, **RULES)


def test_odd_usernames_get_nothing() -> None:
    for username in ("", "a/b", "+", "#", "x" * 65):
        assert not may_publish(username, f"{ROOT}/devices/{username}/telemetry", **RULES)
        assert not may_subscribe(username, f"{ROOT}/devices/{username}/commands/+", **RULES)
        assert not may_receive(username, f"{ROOT}/devices/{username}/commands/1", **RULES)


def test_mosquitto_patterns_come_from_the_same_grants() -> None:
    grants = device_grants(ROOT, "%u")
    assert f"{ROOT}/devices/%u/telemetry" in grants.publish
    assert f"{ROOT}/gateways/%u/devices/+/commands/+/reply" in grants.publish
    assert f"{ROOT}/gateways/%u/telemetry" in grants.publish  # the bulk form
    assert f"{ROOT}/gateways/%u/commands/+/reply" in grants.publish
    assert f"{ROOT}/gateways/%u/schedule/ack" in grants.publish
    assert f"{ROOT}/devices/%u/timetable/ack" in grants.publish
    assert grants.subscribe == (
        f"{ROOT}/devices/%u/commands/+",
        f"{ROOT}/gateways/%u/devices/+/commands/+",
        f"{ROOT}/gateways/%u/commands/+",
        f"{ROOT}/gateways/%u/schedule",
        f"{ROOT}/devices/%u/timetable",
    )
    # The Mosquitto ACL carries them as %u patterns.
    acl = render_acl_file(ROOT, HUB)
    assert f"pattern read {ROOT}/gateways/%u/schedule\n" in acl
    assert f"pattern write {ROOT}/gateways/%u/schedule/ack\n" in acl
    assert f"pattern read {ROOT}/devices/%u/timetable\n" in acl
    assert f"pattern write {ROOT}/devices/%u/timetable/ack\n" in acl


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("beffroi/v1/gateways/LC-1/telemetry", bulk_topic(Channel.TELEMETRY, "LC-1")),
        ("beffroi/v1/gateways/LC-1/events", bulk_topic(Channel.EVENTS, "LC-1")),
        ("beffroi/v1/gateways/LC-1/status", bulk_topic(Channel.STATUS, "LC-1")),
        ("beffroi/v1/gateways/LC-1/commands/m1", bulk_topic(Channel.COMMAND, "LC-1", "m1")),
        ("beffroi/v1/gateways/LC-1/commands/m1/reply", bulk_topic(Channel.REPLY, "LC-1", "m1")),
        ("beffroi/v1/gateways/LC-1/schedule", schedule("LC-1")),
        ("beffroi/v1/gateways/LC-1/schedule/ack", schedule_ack("LC-1")),
        ("beffroi/v1/gateways/LC-1/schedule/x", None),
        ("beffroi/v1/devices/LC-1/schedule", None),
        ("beffroi/v1/gateways/LC-1/other", None),
        ("beffroi/v1/gateways/LC-1/telemetry/x", None),
        ("beffroi/v1/gateways/LC-1/commands/m 1", None),
    ],
)
def test_bulk_topics_parse_and_build(topic: str, expected: Topic | None) -> None:
    assert parse(topic) == expected
    if expected is not None:
        assert build(expected) == topic


def test_a_gateway_speaks_in_bulk_only_for_itself() -> None:
    hub = "beffroi-hub"
    own, other = "beffroi/v1/gateways/LC-1", "beffroi/v1/gateways/LC-2"
    for channel in ("telemetry", "events", "status", "commands/m1/reply"):
        assert may_publish("LC-1", f"{own}/{channel}", root=ROOT, hub_username=hub)
        assert not may_publish("LC-1", f"{other}/{channel}", root=ROOT, hub_username=hub)
    assert not may_publish("LC-1", f"{own}/commands/m1", root=ROOT, hub_username=hub)
    assert may_subscribe("LC-1", f"{own}/commands/+", root=ROOT, hub_username=hub)
    assert not may_subscribe("LC-1", f"{other}/commands/+", root=ROOT, hub_username=hub)
    assert not may_subscribe(
        "LC-1", "beffroi/v1/gateways/+/commands/+", root=ROOT, hub_username=hub
    )
    assert may_receive("LC-1", f"{own}/commands/m1", root=ROOT, hub_username=hub)
    assert not may_receive("LC-1", f"{other}/commands/m1", root=ROOT, hub_username=hub)


filters = st.lists(st.sampled_from(["a", "b", "c", "+", "#", ""]), min_size=1, max_size=5).map(
    "/".join
)
topics = st.lists(st.sampled_from(["a", "b", "c", "", "$x"]), min_size=1, max_size=5).map("/".join)


@given(filters, filters, topics)
def test_filter_covers_is_sound(outer: str, inner: str, topic: str) -> None:
    """If ``outer`` covers ``inner``, no topic matches ``inner`` without matching ``outer``."""
    assume(is_valid_filter(outer) and is_valid_filter(inner))
    assume(not topic.startswith("$"))
    if filter_covers(outer, inner) and topic_matches_sub(inner, topic):
        assert topic_matches_sub(outer, topic)


@given(filters)
def test_a_filter_covers_itself(topic_filter: str) -> None:
    assume(is_valid_filter(topic_filter))
    assert filter_covers(topic_filter, topic_filter)
