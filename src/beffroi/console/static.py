"""Serving the built console (``web/`` built by Vite into ``static/``) at ``/``, and the
public portal (open data, citizen reports: ``web/portal.html``) at ``/open/``.

Hashed bundles are cached for good; the pages themselves never are, so a new release shows
at the next load. Any path that is not a file gives the page, whose own router shows the
view: the portal's under ``/open/``, the console's elsewhere. Neither page holds data: the
portal reads the public APIs (``/api/explore/v2.1``, ``/open311/v2``) like anyone.
"""

from __future__ import annotations

import html
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


PORTAL = "open"
PORTAL_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Beffroi</title>
<p>The portal is not built. Run <code>make web</code>, then reload.
The open data API is at <a href="/api/explore/v2.1/catalog/datasets">/api/explore/v2.1</a>.</p>"""


def portal_html(page: str, settings: Settings) -> str:
    """The portal's page with the map tiles it may load: the console reads them from its
    (logged-in) configuration; the public page has them written in, the CSP allowing no
    inline script."""
    if not settings.console_tile_url:
        return page
    meta = f'<meta name="beffroi-tiles" content="{html.escape(settings.console_tile_url)}" />'
    return page.replace("</head>", f"    {meta}\n  </head>", 1)


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

    def portal() -> Response:
        found = _file("portal.html")
        if found is None:
            return HTMLResponse(PORTAL_NOT_BUILT)
        response = HTMLResponse(portal_html(found.read_text(encoding="utf-8"), settings))
        response.headers["Content-Security-Policy"] = policy
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/", include_in_schema=False)
    async def console_page() -> Response:
        return page()

    @app.get("/{path:path}", include_in_schema=False)
    async def console_file(path: str, request: Request) -> Response:
        if path.startswith("api/") or path == "api":
            raise NotFound(f"no route {request.url.path}")
        if path == PORTAL or path.startswith(f"{PORTAL}/") or path == "portal.html":
            return portal()
        found = _file(path)
        if found is None or found.name == "index.html":
            return page()
        response = FileResponse(found)
        if path.startswith("assets/"):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
