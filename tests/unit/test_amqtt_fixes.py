"""The indexes that let the embedded broker route and serve retained messages cheaply."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from beffroi.broker.amqtt_fixes import RetainedIndex, SubscriptionIndex


def matches(topic: str, topic_filter: str) -> bool:
    """MQTT topic matching, written plainly for the tests."""
    levels, parts = topic.split("/"), topic_filter.split("/")
    for index, part in enumerate(parts):
        if part == "#":
            return True
        if index >= len(levels) or part not in ("+", levels[index]):
            return False
    return len(parts) == len(levels)


LEVEL = st.sampled_from(["beffroi", "v1", "devices", "gateways", "A", "B", "status", "x"])
TOPIC = st.lists(LEVEL, min_size=1, max_size=6).map("/".join)
FILTER = st.lists(st.one_of(LEVEL, st.just("+")), min_size=1, max_size=6).map("/".join) | st.builds(
    lambda t: t + "/#", TOPIC
)


@given(filters=st.lists(FILTER, max_size=30), removed=st.lists(FILTER, max_size=10), topic=TOPIC)
def test_routing_offers_every_filter_that_can_match(
    filters: list[str], removed: list[str], topic: str
) -> None:
    index = SubscriptionIndex()
    for f in filters:
        index[f] = []
    for f in removed:
        if f in index:
            del index[f]
    expected = {f for f in index if matches(topic, f)}
    index.routing_topic = topic
    offered = {f for f, _ in index.items()}
    assert expected <= offered
    assert index.routing_topic is None, "one routing per broadcast"
    assert {f for f, _ in index.items()} == set(index), "outside routing: everything"


@given(topics=st.lists(TOPIC, max_size=40), removed=st.lists(TOPIC, max_size=10), f=FILTER)
def test_retained_matching_is_exact(topics: list[str], removed: list[str], f: str) -> None:
    index = RetainedIndex()
    for t in topics:
        index[t] = t
    for t in removed:
        if t in index:
            del index[t]
    assert sorted(index.matching(f, matches)) == sorted(t for t in index if matches(t, f))


def test_iterating_is_a_snapshot() -> None:
    index = SubscriptionIndex()
    index["a/+"] = []
    for key in index:
        index[key + "/b"] = []  # would raise on a plain dict
    assert set(index) == {"a/+", "a/+/b"}
    index.pop("a/+")
    index.clear()
    assert index.candidates("a/x") == []
