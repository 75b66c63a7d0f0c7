"""The embedded MQTT broker (amqtt) for ``beffroi demo`` and small sites.

Production runs Mosquitto, provisioned by :mod:`beffroi.devices.mosquitto`.
"""

from beffroi.broker.embedded import EmbeddedBroker

__all__ = ["EmbeddedBroker"]
