"""The small web application of the processes that serve no API (gateway, scheduler): its
``/metrics`` and ``/api/health`` only.

Kept apart from :mod:`beffroi.web.app` so that such a process does not import every area's
routes: that alone would cost a gateway about 90 MB of its memory, for routes it never
serves.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import State

from beffroi import __version__
from beffroi.core.context import Runtime
from beffroi.http import problems
from beffroi.http.guards import RejectUnstorable
from beffroi.http.headers import SecurityHeaders
from beffroi.http.ratelimit import RateLimiter
from beffroi.video.clearance import authenticate_with_clearance
from beffroi.web.operations import router as metrics_router


def create_operations_app(runtime: Runtime) -> FastAPI:
    """``/metrics`` (an account allowed to read them) and ``/api/health`` of ``runtime``'s
    process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            app.state.rate_limiter = RateLimiter(runtime.settings.rate_limit_storage)
            stack.push_async_callback(app.state.rate_limiter.close)
            yield

    app = FastAPI(
        title="Beffroi operations",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state = State()
    app.state.runtime = runtime
    # The same authentication as the API's, so one token reads every process's metrics.
    app.state.authenticate = authenticate_with_clearance
    problems.install(app)
    app.add_middleware(RejectUnstorable)
    app.add_middleware(SecurityHeaders)
    app.include_router(metrics_router)

    @app.get("/api/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness for load balancers: says nothing but that the process answers."""
        return {"status": "ok"}

    return app
