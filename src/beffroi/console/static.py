"""Serving the built console (``web/`` built by Vite into ``static/``) at ``/``.

Hashed bundles are cached for good; the page itself never is, so a new release shows at
the next load. Any path that is not a file gives the page, whose own router shows the view.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from beffroi.config import Settings
from beffroi.core.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Beffroi</title>
<p>The console is not built. Run <code>make web</code> (or <code>make demo</code>), then reload.
The API is at <a href="/api/docs">/api/docs</a>.</p>"""


def content_security_policy(settings: Settings) -> str:
    """The page's CSP: everything from this server, map tiles from their server if any."""
    images = "'self' data: blob:"
    if settings.console_tile_url:
        # Leaflet's {s} stands for the tile server's subdomains: a CSP wildcard host.
        parts = urlsplit(settings.console_tile_url.replace("{s}", "*"))
        images += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _file(path: str) -> Path | None:
    candidate = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the console after every other route (it answers whatever they do not)."""
    policy = content_security_policy(settings)

    def page() -> Response:
        index = _file("index.html")
        if index is None:
            return HTMLResponse(NOT_BUILT)
        response = FileResponse(index, media_type="text/html")
        response.headers["Content-Security-Policy"] = policy
        return response

    @app.get("/", include_in_schema=False)
    async def console_page() -> Response:
        return page()

    @app.get("/{path:path}", include_in_schema=False)
    async def console_file(path: str, request: Request) -> Response:
        if path.startswith("api/") or path == "api":
            raise NotFound(f"no route {request.url.path}")
        found = _file(path)
        if found is None or found.name == "index.html":
            return page()
        response = FileResponse(found)
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
