"""Device secrets and their hashes, in the form Mosquitto reads.

A device logs in to the broker (or posts over HTTP) with username = its asset id and a
random secret shown once when issued. Only a hash is stored, in Mosquitto's ``$7$``
format (PBKDF2-HMAC-SHA512, base64 salt and digest), so one stored value serves our own
checks (embedded broker, HTTP ingest) and is copied verbatim into Mosquitto's password file.

The hub's own broker account (``settings.mqtt_username``) is not a device: it is checked
by :func:`is_hub_login` against the configured password, never through the device table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from beffroi.config import Settings

# Iterations only slow down guessing a low-entropy password. A device secret is 256 random
# bits: no number of guesses per second makes a search feasible, so a low count is as safe
# as a high one and keeps each CONNECT (and issuing 36,000 secrets) cheap: ~13 µs a check.
DEVICE_ITERATIONS = 10
# The hub's password may be chosen by a person (BEFFROI_MQTT_PASSWORD): hash it slowly.
# The hub connects a handful of times a day, so ~90 ms per CONNECT costs nothing.
HUB_ITERATIONS = 100_000
SALT_BYTES = 12  # what mosquitto_passwd uses
SECRET_BYTES = 32  # 256 bits
HASH_PREFIX = "$7$"
# A fixed salt checked against when the username is unknown, so a miss costs as much as a
# wrong secret and timing does not tell which usernames exist.
_DUMMY_SALT = b"beffroi-none"


@dataclass(frozen=True, slots=True)
class SecretHash:
    """A parsed ``$7$<iterations>$<base64 salt>$<base64 sha512 digest>`` hash."""

    iterations: int
    salt: bytes
    digest: bytes

    @classmethod
    def parse(cls, encoded: str) -> SecretHash:
        """Parse the Mosquitto ``$7$`` form; ``ValueError`` names what is wrong."""
        parts = encoded.split("$")
        if len(parts) != 5 or parts[0] != "" or parts[1] != "7":
            raise ValueError("not a $7$ (PBKDF2-SHA512) hash")
        try:
            iterations = int(parts[2])
            salt = base64.b64decode(parts[3], validate=True)
            digest = base64.b64decode(parts[4], validate=True)
        except (ValueError, binascii.Error) as exc:
            raise ValueError(f"malformed $7$ hash: {exc}") from exc
        if iterations < 1 or not salt or len(digest) != hashlib.sha512().digest_size:
            raise ValueError("malformed $7$ hash: bad iterations, salt or digest length")
        return cls(iterations, salt, digest)

    def encode(self) -> str:
        """The Mosquitto password-file form."""
        salt = base64.b64encode(self.salt).decode()
        digest = base64.b64encode(self.digest).decode()
        return f"{HASH_PREFIX}{self.iterations}${salt}${digest}"

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` hashes to this digest (constant-time comparison)."""
        candidate = hashlib.pbkdf2_hmac("sha512", _utf8(secret), self.salt, self.iterations)
        return hmac.compare_digest(candidate, self.digest)


def _utf8(text: str) -> bytes:
    # A secret read from a header or a CONNECT may hold anything, lone surrogates included.
    return text.encode("utf-8", "surrogatepass")


def hash_secret(secret: str, *, iterations: int = DEVICE_ITERATIONS) -> str:
    """Hash ``secret`` with a fresh salt, in the ``$7$`` form Mosquitto 2 reads."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", _utf8(secret), salt, iterations)
    return SecretHash(iterations, salt, digest).encode()


def hash_all(plain: Sequence[str]) -> list[str]:
    """Hash many secrets (in a worker thread: hashlib releases the GIL)."""
    return [hash_secret(s) for s in plain]


def check_secret(secret: str, encoded: str) -> bool:
    """Whether ``secret`` matches the ``$7$`` hash ``encoded``; a malformed hash never does."""
    try:
        parsed = SecretHash.parse(encoded)
    except ValueError:
        return False
    return parsed.matches(secret)


def new_secret() -> str:
    """A fresh device secret: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def burn_time(secret: str) -> None:
    """Spend what a real check costs, so an unknown username answers as slowly."""
    hashlib.pbkdf2_hmac("sha512", _utf8(secret), _DUMMY_SALT, DEVICE_ITERATIONS)


def is_hub_login(settings: Settings, username: str, password: str) -> bool:
    """Whether this is the hub's own broker account with its password.

    Kept apart from devices on purpose: the hub may read and write every topic, so its
    check must never depend on what the device table holds.
    """
    if not hmac.compare_digest(_utf8(username), settings.mqtt_username.encode()):
        return False
    return hmac.compare_digest(_utf8(password), settings.hub_mqtt_password.encode())
