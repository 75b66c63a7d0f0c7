"""argon2id password hashing, off the event loop (a hash costs tens of milliseconds)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_LENGTH = 12


async def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; a malformed stored hash simply does not match."""

    def _verify() -> bool:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(_verify)


def needs_rehash(password_hash: str) -> bool:
    """Whether the stored hash uses weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)


# Verifying against this when the user does not exist keeps the timing of a failed login
# independent of whether the username is known. It is written out rather than hashed at
# import, which cost every process (the CLI's --help too) half a second; it carries the
# library's parameters, which a test keeps equal to today's.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Lsio5yjpekPOvP+RlS1JfQ"
    "$Cav/+4oKRp88ZDUEcr1fLyTNc6dFUoIX3LySbQw+bGI"
)
