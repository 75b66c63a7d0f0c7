"""A load generator acting as many devices: QoS 1 telemetry with 3 values per reading,
each device on its own topic, or field gateways speaking for their children in bulk (one
message: one reading of each of up to ``bulk`` children).

Run in its own process (``multiprocessing``), so publishing does not share a Python
interpreter with what it measures.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = "beffroi/v1"
TICK_S = 0.01
ACK_PATIENCE_S = 10.0


@dataclass(frozen=True, slots=True)
class Job:
    """What one publisher process does."""

    host: str
    port: int
    devices: tuple[str, ...]
    rate: float  # messages per second; 0 = as fast as possible
    count: int  # stop after this many messages (0 = only the duration bounds it)
    duration_s: float
    start_at: float  # time.time() at which to begin, so publishers start together
    name: str
    # The bulk form: (gateway, its children) per message; empty: each device on its own.
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a publisher sent, and when."""

    name: str
    sent: int
    acknowledged: int
    first: float
    last: float
    points_sent: int = 0
    points_acknowledged: int = 0
    cpu_s: float = 0.0  # CPU seconds the publisher's process used (it shares the machine)


VALUES = ("level_pct", "power_w", "voltage_v")


def _reading(base: float, n: int) -> dict[str, object]:
    # Each reading has its own timestamp: a point's key (device, key, ts) is unique.
    ts = datetime.fromtimestamp(base + n * 1e-6, UTC).isoformat(timespec="microseconds")
    return {
        "ts": ts,
        "values": {"level_pct": n % 100, "power_w": 20.0 + n % 100 / 4, "voltage_v": 230.0},
    }


def _messages(job: Job, planned: int) -> tuple[list[str], list[bytes], list[int]]:
    """(topic, payload, points) of each message, built before the clock starts: the load
    generator should spend its CPU publishing, not formatting (the machine is shared)."""
    base = time.time() - 600
    if not job.groups:
        topics = [f"{ROOT}/devices/{d}/telemetry" for d in job.devices]
        return (
            [topics[n % len(topics)] for n in range(planned)],
            [orjson.dumps(_reading(base, n)) for n in range(planned)],
            [len(VALUES)] * planned,
        )
    out_topics, payloads, points = [], [], []
    reading = 0
    for n in range(planned):
        gateway, children = job.groups[n % len(job.groups)]
        body = {}
        for child in children:
            body[child] = _reading(base, reading)
            reading += 1
        out_topics.append(f"{ROOT}/gateways/{gateway}/telemetry")
        payloads.append(orjson.dumps(body))
        points.append(len(VALUES) * len(children))
    return out_topics, payloads, points


def run(job: Job) -> Outcome:
    """Publish until the duration or count is reached; wait for every PUBACK."""
    acked = 0
    lock = threading.Lock()

    def on_publish(*_args: object) -> None:
        nonlocal acked
        with lock:
            acked += 1

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=job.name, protocol=mqtt.MQTTv311)
    # 0 = no limit: past a limit paho queues, and its queue costs O(n) per acknowledgement.
    client.max_inflight_messages_set(0)
    client.on_publish = on_publish
    client.connect(job.host, job.port, keepalive=60)
    client.loop_start()
    planned = job.count or int(job.rate * job.duration_s) + 1
    topics, payloads, points = _messages(job, planned)
    while time.time() < job.start_at:
        time.sleep(0.001)
    first = time.time()
    sent = 0
    deadline = first + job.duration_s
    publish = client.publish
    infos: list[mqtt.MQTTMessageInfo] = []
    while sent < planned:
        now = time.time()
        if now >= deadline:
            break
        due = min(planned, int((now - first) * job.rate) + 1 if job.rate else sent + 500)
        while sent < due:
            infos.append(publish(topics[sent], payloads[sent], qos=1))
            sent += 1
        if job.rate:
            time.sleep(TICK_S)
    last = time.time()
    # Wait for the broker's acknowledgements, as long as they keep coming.
    acked_now, still_since = -1, time.monotonic()
    while True:
        with lock:
            current = acked
        if current >= sent:
            break
        if current != acked_now:
            acked_now, still_since = current, time.monotonic()
        elif time.monotonic() - still_since > ACK_PATIENCE_S:
            break
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    # A message paho refused to queue (rc not success) was never sent, let alone acknowledged.
    points_acked = sum(
        p
        for p, info in zip(points, infos, strict=False)
        if info.rc == mqtt.MQTT_ERR_SUCCESS and info.is_published()
    )
    return Outcome(
        job.name, sent, acked, first, last, sum(points[:sent]), points_acked, time.process_time()
    )
