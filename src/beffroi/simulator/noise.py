"""Deterministic randomness keyed by names, not by a position in a random stream.

``draw(seed, "fault", device_id, code, tick)`` is the same number whatever else happened
before: a device's values do not change when another device is added, a command arrives
or the event loop runs late. That is what makes a run reproducible for a seed.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

_SCALE = 2.0**-64


def draw(seed: int, *key: str | int | float) -> float:
    """A uniform number in [0, 1) determined by ``seed`` and ``key`` alone."""
    data = "\x1f".join(str(part) for part in (seed, *key)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") * _SCALE


@lru_cache(maxsize=1 << 17)
def fixed(seed: int, *key: str | int | float) -> float:
    """:func:`draw` for a device's lasting traits (its voltage offset, say): computed once."""
    return draw(seed, *key)


def jitter(seed: int, *key: str | int | float) -> float:
    """A number in [-1, 1) determined by ``seed`` and ``key``: noise around a value."""
    return 2.0 * draw(seed, *key) - 1.0


def between(low: float, high: float, seed: int, *key: str | int | float) -> float:
    """A number in [low, high) determined by ``seed`` and ``key``."""
    return low + (high - low) * draw(seed, *key)
