"""The runtime every adapter shares, and the per-call context handed to services.

The web app, the CLI and the jobs all open the same :class:`Runtime` and call the same
service functions with a :class:`Context`; only who the principal is differs.
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from beffroi.config import Settings, get_settings
from beffroi.core.events import EventHub
from beffroi.core.principal import Principal
from beffroi.db import Database


@dataclass(frozen=True, slots=True)
class Runtime:
    """Process-wide dependencies: settings, storage and the in-process event hub."""

    settings: Settings
    db: Database
    events: EventHub = field(default_factory=EventHub)

    def context(self, principal: Principal) -> Context:
        """A context acting as ``principal``."""
        return Context(runtime=self, principal=principal)

    def system_context(self, name: str | None = None) -> Context:
        """A context acting as the system; the CLI names the operating-system user."""
        return self.context(Principal.system(name or f"cli:{getpass.getuser()}"))


@dataclass(frozen=True, slots=True)
class Context:
    """What a service call needs: the runtime and who is acting."""

    runtime: Runtime
    principal: Principal

    @property
    def db(self) -> Database:
        """The database."""
        return self.runtime.db

    @property
    def settings(self) -> Settings:
        """The settings."""
        return self.runtime.settings


@asynccontextmanager
async def open_runtime(settings: Settings | None = None) -> AsyncIterator[Runtime]:
    """Open the runtime for one process and close it on exit."""
    settings = settings or get_settings()
    db = Database(settings.effective_database_url, pool_size=settings.database_pool_size)
    try:
        yield Runtime(settings=settings, db=db)
    finally:
        await db.dispose()
