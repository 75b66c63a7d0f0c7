"""The simulated fleet: the equipment of a city, talking MQTT, for the demo and benchmarks.

``beffroi simulate`` runs it against any broker; the demo runs it in-process::

    assets = await load_sim_assets(ctx)
    lat, lon = city_centre(communes)
    broker = BrokerUrl("127.0.0.1", 1883)
    simulator = Simulator(assets, secrets, broker, latitude=lat, longitude=lon)
    await simulator.run(stop)  # returns after clean disconnects once ``stop`` is set

The pure parts (:mod:`.engine`, :mod:`.behaviours`, :mod:`.faults`, :mod:`.commands`) take
time as an argument; only :mod:`.runner` reads the :class:`~.clock.SimClock`.
"""

from beffroi.core.sun import city_centre
from beffroi.simulator.assets import SimAsset, load_sim_assets, load_sim_fleet
from beffroi.simulator.clock import SimClock
from beffroi.simulator.connection import MqttStats
from beffroi.simulator.credentials import read_credentials_csv
from beffroi.simulator.engine import Engine
from beffroi.simulator.runner import Simulator

__all__ = [
    "Engine",
    "MqttStats",
    "SimAsset",
    "SimClock",
    "Simulator",
    "city_centre",
    "load_sim_assets",
    "load_sim_fleet",
    "read_credentials_csv",
]
