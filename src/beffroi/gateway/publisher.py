"""The hub's outgoing MQTT connection: commands to devices, QoS 1.

A connection of its own rather than the ingest one: when ingestion holds back the
broker (backpressure), commands must still leave at once.
"""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import CallbackAPIVersion

from beffroi.gateway.source import BrokerAddress, no_delay

log = structlog.get_logger(__name__)


class MqttPublisher:
    """Publishes with QoS 1 from any thread; paho queues what waits for a connection."""

    def __init__(self, address: BrokerAddress, client_id_suffix: str = "-cmd") -> None:
        self.address = address
        self.connected = threading.Event()
        self._stopping = threading.Event()
        # MQTT 3.1.1 whatever the ingest connection speaks: this one only publishes, and
        # with MQTT 5 paho builds and parses a properties object for every command and
        # every acknowledgement (34,000 of each when the whole city is dimmed).
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=(address.client_id + client_id_suffix)[:64],
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(address.username, address.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        # A whole city's dim command leaves at once: no in-flight limit. Beyond a limit paho
        # queues, and re-walks that queue on every acknowledgement (quadratic at 34,000).
        self.client.max_inflight_messages_set(0)
        self.client.on_socket_open = no_delay
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def start(self) -> None:
        """Connect (asynchronously) and start the network thread."""
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and join the network thread."""
        self._stopping.set()
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 message; a lost connection resends it once back."""
        self.client.publish(topic, payload, qos=1)

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the command publisher", reason=str(reason))
            return
        self.connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("command publisher lost the broker; reconnecting", reason=str(reason))
