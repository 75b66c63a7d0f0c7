"""The stand-in hash a login of an unknown user is checked against."""

from __future__ import annotations

import asyncio

import pytest

from beffroi.accounts.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password

pytestmark = pytest.mark.real_password_hashing


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    # Same parameters as a hash made today: a failed login for an unknown user takes as
    # long as one for a known user with a wrong password.
    assert not needs_rehash(DUMMY_HASH)
    assert DUMMY_HASH.split("$")[:4] == asyncio.run(hash_password("x" * 12)).split("$")[:4]


def test_the_dummy_hash_is_verified_as_any_hash() -> None:
    assert asyncio.run(verify_password(DUMMY_HASH, "beffroi-dummy-password"))
    assert not asyncio.run(verify_password(DUMMY_HASH, ""))
    assert not asyncio.run(verify_password(DUMMY_HASH, "admin"))
