"""A load generator acting as many devices: QoS 1 telemetry with 3 values per message.

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


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a publisher sent, and when."""

    name: str
    sent: int
    acknowledged: int
    first: float
    last: float


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
    topics = [f"{ROOT}/devices/{d}/telemetry" for d in job.devices]
    while time.time() < job.start_at:
        time.sleep(0.001)
    first = time.time()
    sent = 0
    deadline = first + job.duration_s
    n_topics = len(topics)
    while True:
        now = time.time()
        if now >= deadline or (job.count and sent >= job.count):
            break
        due = int((now - first) * job.rate) + 1 if job.rate else sent + 200
        if job.count:
            due = min(due, job.count)
        while sent < due:
            # A distinct timestamp per message: the point's key (device, key, ts) is unique.
            ts = datetime.fromtimestamp(now, UTC).isoformat(timespec="microseconds")
            value = sent % 100
            payload = orjson.dumps(
                {
                    "ts": ts,
                    "values": {"level_pct": value, "power_w": 20.0 + value / 4, "voltage_v": 230.0},
                }
            )
            client.publish(topics[sent % n_topics], payload, qos=1)
            sent += 1
            now += 1e-6
        if job.rate:
            time.sleep(TICK_S)
    last = time.time()
    while True:
        with lock:
            if acked >= sent:
                break
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    return Outcome(job.name, sent, acked, first, last)
