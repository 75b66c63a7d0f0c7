"""RFC 9457 problem documents for every error the API returns."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from beffroi.core import audit
from beffroi.core.errors import BeffroiError, PermissionDenied, TooManyRequests

PROBLEM_TYPE_BASE = "https://beffroi.org/problems/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
# Validation errors over a closed vocabulary: their message names the value given too.
_CHOICE_ERRORS = frozenset({"enum", "literal_error"})

log = structlog.get_logger(__name__)


def problem(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """An ``application/problem+json`` response."""
    body = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def _message(error: dict[str, Any]) -> str:
    kind, context = error.get("type"), error.get("ctx") or {}
    if kind in _CHOICE_ERRORS and isinstance(error.get("input"), str):
        return f"unknown value {error['input'][:64]!r}; allowed: {context.get('expected', '')}"
    if kind == "value_error" and "error" in context:
        return str(context["error"])  # our validators' own words, without "Value error, "
    return str(error.get("msg", ""))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(e.get("loc", ())), "message": _message(e)} for e in exc.errors()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(request, 422, "invalid-input", "Invalid input", detail, errors=errors)


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BeffroiError)
    if isinstance(exc, PermissionDenied) and request.method not in SAFE_METHODS:
        principal = getattr(request.state, "principal", None)
        if principal is not None:
            # A refused change is itself a security event worth keeping.
            await audit.record_alone(
                request.app.state.runtime.db,
                principal,
                "request.denied",
                target_type="endpoint",
                target_id=f"{request.method} {request.url.path}"[:200],
                outcome=audit.Outcome.DENIED,
                details={"detail": exc.detail},
            )
    headers = {"WWW-Authenticate": 'Bearer realm="beffroi"'} if exc.status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem(
        request, exc.status, exc.slug, exc.title, exc.detail, headers=headers, **exc.extensions
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 406: "Not acceptable"}
    return problem(
        request,
        exc.status_code,
        f"http-{exc.status_code}",
        titles.get(exc.status_code, "HTTP error"),
        str(exc.detail),
        headers=getattr(exc, "headers", None),
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return problem(
        request, 500, "internal-error", "Internal error", "an unexpected error was logged"
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(BeffroiError, _on_domain_error)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
