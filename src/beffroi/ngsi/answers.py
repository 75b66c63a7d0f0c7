"""How the facade answers: JSON-LD or JSON by the ``Accept`` header, and NGSI-LD problem
details (``https://uri.etsi.org/ngsi-ld/errors/...``) for bad requests and missing
entities, whatever raised them."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from beffroi.core.errors import FieldError, InvalidInput, NotFound
from beffroi.ngsi.terms import CONTEXT_PATH

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
LD_JSON = "application/ld+json"
JSON = "application/json"
CONTEXT_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
RESULTS_COUNT = "NGSILD-Results-Count"


class NotAcceptableMedia(Exception):
    """The client accepts neither JSON nor JSON-LD."""


def ngsi_problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> Response:
    """An NGSI-LD ProblemDetails answer."""
    body = {"type": ERRORS + kind, "title": title, "status": status, "detail": detail, **extra}
    return Response(orjson.dumps(body), status, media_type=JSON)


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for error in exc.errors():
        where = [str(p) for p in error.get("loc", ()) if p not in ("query", "path")]
        out.append(FieldError(".".join(where) or "query", str(error.get("msg", ""))))
    return out


class NgsiRoute(APIRoute):
    """A route whose bad input and missing entities are NGSI-LD problems (400
    BadRequestData naming the parameter, 404 ResourceNotFound); other errors (no
    credentials, no right) are the API's own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _bad(InvalidInput(_field_errors(exc)))
            except InvalidInput as exc:
                return _bad(exc)
            except NotFound as exc:
                return ngsi_problem(404, "ResourceNotFound", "Resource not found", exc.detail)
            except NotAcceptableMedia:
                return ngsi_problem(
                    406,
                    "NotAcceptable",
                    "Not acceptable",
                    f"answers are {JSON} or {LD_JSON}",
                )

        return guarded


def _bad(exc: InvalidInput) -> Response:
    errors = [e.as_dict() for e in exc.errors]
    return ngsi_problem(
        400,
        "BadRequestData",
        "Bad request data",
        exc.detail,
        field=errors[0]["field"],
        errors=errors,
    )


def wants_ld(request: Request) -> bool:
    """Whether the answer is JSON-LD (the client asked for it) or JSON (with a Link)."""
    accept = request.headers.get("accept", "").lower()
    media = [part.split(";")[0].strip() for part in accept.split(",")]
    if LD_JSON in media:
        return True
    if not accept.strip() or any(m in (JSON, "*/*", "application/*") for m in media):
        return False
    raise NotAcceptableMedia


def context_url(request: Request) -> str:
    """The absolute URL of the context Beffroi serves."""
    return str(request.base_url).rstrip("/") + CONTEXT_PATH


def answer(
    request: Request,
    body: dict[str, Any] | list[dict[str, Any]],
    headers: dict[str, str] | None = None,
) -> Response:
    """Entities (one or a list) in the form the client accepts: JSON-LD with their
    ``@context``, or JSON with the context in a Link header."""
    url = context_url(request)
    out_headers = dict(headers or {})
    if wants_ld(request):
        if isinstance(body, list):
            body = [{"@context": url, **item} for item in body]
        else:
            body = {"@context": url, **body}
        return Response(orjson.dumps(body), 200, headers=out_headers, media_type=LD_JSON)
    out_headers["Link"] = f"<{url}>; {CONTEXT_REL}"
    return Response(orjson.dumps(body), 200, headers=out_headers, media_type=JSON)
