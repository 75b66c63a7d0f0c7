"""Device ingest over HTTP, for equipment without MQTT: the routes (see :mod:`.http_ingest`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from beffroi.core.errors import FieldError, InvalidInput, NotAuthenticated
from beffroi.devices.topics import Channel
from beffroi.gateway.http_ingest import HttpIngest
from beffroi.http.deps import RuntimeDep
from beffroi.telemetry.schemas import IngestOut

router = APIRouter(prefix="/devices", tags=["device ingest"])

MAX_BODY = 256 * 1024


def _ingest(request: Request, runtime: RuntimeDep) -> HttpIngest:
    ingest: HttpIngest | None = getattr(request.app.state, "http_ingest", None)
    if ingest is None:
        ingest = request.app.state.http_ingest = HttpIngest(runtime)
    return ingest


async def _device_message(
    request: Request, runtime: RuntimeDep, device_id: str, channel: Channel, authorization: str
) -> IngestOut:
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated("send the device token as 'Authorization: Bearer <token>'")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput(FieldError("body", f"larger than {MAX_BODY} bytes"))
    peer = request.client.host if request.client else None
    points = await _ingest(request, runtime).ingest(
        device_id, secret.strip(), channel, body, peer=peer
    )
    return IngestOut(points=points)


BODY_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


@router.post("/{device_id}/telemetry", status_code=status.HTTP_202_ACCEPTED, openapi_extra=BODY_DOC)
async def post_telemetry(
    device_id: str,
    request: Request,
    runtime: RuntimeDep,
    authorization: Annotated[str, Header(description="Bearer <device token>")],
) -> IngestOut:
    """Telemetry from a device without MQTT (same payloads as the MQTT API)."""
    return await _device_message(request, runtime, device_id, Channel.TELEMETRY, authorization)


@router.post("/{device_id}/events", status_code=status.HTTP_202_ACCEPTED, openapi_extra=BODY_DOC)
async def post_event(
    device_id: str,
    request: Request,
    runtime: RuntimeDep,
    authorization: Annotated[str, Header(description="Bearer <device token>")],
) -> IngestOut:
    """A fault event from a device without MQTT."""
    return await _device_message(request, runtime, device_id, Channel.EVENTS, authorization)
