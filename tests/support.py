"""Helpers shared by tests: people with tokens."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass

from beffroi.accounts import service as accounts
from beffroi.accounts import tokens
from beffroi.accounts.schemas import TokenCreate, UserCreate
from beffroi.catalogue import Domain
from beffroi.core.context import Context
from beffroi.core.principal import Role

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True, slots=True)
class Person:
    """A test user and the bearer header that acts as them."""

    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


async def make_person(
    system: Context,
    username: str,
    roles: list[Role],
    communes: list[str] | None = None,
    domains: list[Domain] | None = None,
) -> Person:
    """Create an account and a token for it."""
    await accounts.create_user(
        system,
        UserCreate(
            username=username,
            password=PASSWORD,
            roles=roles,
            communes=communes,
            domains=domains or ([Domain.LIGHTING] if Role.OPERATOR in roles else []),
        ),
    )
    _, secret = await tokens.create_token(system, TokenCreate(name="tests", username=username))
    return Person(username, secret)


async def run_cli(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``beffroi ARGS`` in a subprocess (off the event loop) and capture its output."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "beffroi", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
