"""The FastAPI application: every area's routes under ``/api/v1``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.datastructures import State

from beffroi import __version__
from beffroi.accounts.api import auth_router, tokens_router, users_router
from beffroi.alarms.api import router as alarms_router
from beffroi.assets.api import router as assets_router
from beffroi.assets.groups_api import router as groups_router
from beffroi.audit.api import router as audit_router
from beffroi.catalogue.api import router as catalogue_router
from beffroi.commands.api import router as commands_router
from beffroi.communes.api import router as communes_router
from beffroi.config import Settings, get_settings
from beffroi.console import static as console_static
from beffroi.console.api import board_of
from beffroi.console.api import router as console_router
from beffroi.console.board import LiveBoard
from beffroi.core.context import Runtime, open_runtime
from beffroi.devices.api import router as devices_area_router
from beffroi.energy.api import router as energy_router
from beffroi.gateway.http_api import router as devices_router
from beffroi.http import problems
from beffroi.http.cache import ResponseCache
from beffroi.http.guards import RejectUnstorable
from beffroi.http.headers import SecurityHeaders
from beffroi.http.ratelimit import RateLimiter
from beffroi.interventions.api import router as interventions_router
from beffroi.lighting.api import router as lighting_router
from beffroi.mobility.api import router as mobility_router
from beffroi.ngsi.api import router as ngsi_router
from beffroi.notifications.api import router as notifications_router
from beffroi.opendata.admin_api import router as opendata_admin_router
from beffroi.opendata.api import router as opendata_router
from beffroi.opslog.api import router as opslog_router
from beffroi.plans.api import router as plans_router
from beffroi.reports.api import router as reports_router
from beffroi.reports.open311 import router as open311_router
from beffroi.roads.api import router as roads_router
from beffroi.roads.public_api import router as datex_router
from beffroi.rules.api import router as rules_router
from beffroi.telemetry.api import router as telemetry_router
from beffroi.traffic.api import router as traffic_router
from beffroi.vehicles.api import router as vehicles_router
from beffroi.video.api import router as video_router
from beffroi.video.clearance import authenticate_with_clearance
from beffroi.web.operations import router as metrics_router


def api_router() -> APIRouter:
    """Every area's router under ``/api/v1``."""
    api = APIRouter(prefix="/api/v1")
    for router in (
        auth_router,
        users_router,
        tokens_router,
        communes_router,
        catalogue_router,
        assets_router,
        groups_router,
        audit_router,
        devices_router,
        devices_area_router,
        telemetry_router,
        commands_router,
        alarms_router,
        rules_router,
        notifications_router,
        interventions_router,
        console_router,
        energy_router,
        lighting_router,
        traffic_router,
        video_router,
        mobility_router,
        roads_router,
        reports_router,
        opslog_router,
        plans_router,
        vehicles_router,
        opendata_admin_router,
    ):
        api.include_router(router)
    return api


# How long the live board has, once the application stops, to end a reading under way.
BOARD_STOP_S = 30.0


@asynccontextmanager
async def _following(board: LiveBoard) -> AsyncIterator[None]:
    """Keep the map's live board current while the application serves."""
    stop = asyncio.Event()
    task = asyncio.create_task(board.run(stop), name="console-board")
    try:
        yield
    finally:
        stop.set()
        # A reading under way ends first (cut off, it would leave its connection behind).
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=BOARD_STOP_S)


def renew_state(app: FastAPI, runtime: Runtime | None) -> None:
    """Give ``app`` new per-process state (caches, live board, rate limiter) serving
    ``runtime``: all it holds besides its routes lives there. Building the routes is the
    slow part of :func:`create_app` (FastAPI analyses every endpoint's dependencies),
    so the tests build one application and renew its state for each test's database."""
    app.state = State()
    if runtime is not None:
        app.state.runtime = runtime
    app.state.response_cache = ResponseCache()
    app.state.authenticate = authenticate_with_clearance


def create_app(
    runtime: Runtime | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The web application. Given a runtime, it uses it; else it opens its own. (Processes
    that serve no API have a smaller one: :mod:`beffroi.web.operations_app`.)"""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if runtime is not None:
                app.state.runtime = runtime
            else:
                app.state.runtime = await stack.enter_async_context(
                    open_runtime(settings or get_settings())
                )
            await stack.enter_async_context(_following(board_of(app)))
            # Made here: the in-memory storage needs the running loop.
            app.state.rate_limiter = RateLimiter(app.state.runtime.settings.rate_limit_storage)
            stack.push_async_callback(app.state.rate_limiter.close)
            yield

    app = FastAPI(
        title="Beffroi",
        version=__version__,
        summary="Connected control room for a metropolis's public space",
        docs_url=None,  # served below, with Swagger UI from the console's build, not a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    renew_state(app, runtime)
    problems.install(app)
    app.add_middleware(RejectUnstorable, exempt_prefixes=["/api/v1/devices/"])
    app.add_middleware(SecurityHeaders)
    # The public open data API (no login), beside /api/v1 as Opendatasoft's is; first, so
    # its many anonymous requests are matched before the hundreds of /api/v1 routes.
    app.include_router(opendata_router)
    app.include_router(datex_router)
    app.include_router(api_router())
    # NGSI-LD's own prefix: FIWARE tools expect /ngsi-ld/v1 at the root.
    app.include_router(ngsi_router)
    app.include_router(open311_router)
    app.include_router(metrics_router)

    @app.get("/api/docs", include_in_schema=False)
    async def api_docs() -> Response:
        """The API's interactive documentation (Swagger UI comes with the console)."""
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="Beffroi API",
            swagger_js_url="/api-docs/swagger-ui-bundle.js",
            swagger_css_url="/api-docs/swagger-ui.css",
            swagger_favicon_url="/api-docs/favicon-32x32.png",
            oauth2_redirect_url="/api-docs/oauth2-redirect.html",
        )

    @app.get("/api/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness for load balancers: says nothing but that the process answers."""
        return {"status": "ok"}

    # Last: the console answers every path no other route does.
    console_static.install(app, settings or (runtime.settings if runtime else get_settings()))
    return app
