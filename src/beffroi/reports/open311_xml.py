"""Open311's XML format: the same answers as the JSON ones, in the spec's element names.

The spec's XML is plain: a root element, one element per item of a list (singular of the
list's name), one element per field, text for values, empty elements for nulls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import Request, Response
from pydantic import BaseModel

MEDIA = "text/xml"
# The element of one item of each list the answers hold.
ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "progress": "step",
    "errors": "error",
}


def wants_xml(request: Request) -> bool:
    """Whether the client asked for XML (Open311: the resource's extension)."""
    return request.url.path.endswith(".xml")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _fill(parent: Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        holder = SubElement(parent, name)
        for item in value:
            _fill(holder, ITEM.get(name, "item"), item)
    elif isinstance(value, dict):
        holder = SubElement(parent, name)
        for key, inner in value.items():
            _fill(holder, key, inner)
    else:
        element = SubElement(parent, name)
        if value is not None:
            element.text = _text(value)


def render(root: str, content: BaseModel | list[Any]) -> Response:
    """An XML answer: ``root`` holding the model's fields, or one item per model."""
    top = Element(root)
    if isinstance(content, list):
        for item in content:
            data = item.model_dump(by_alias=True) if isinstance(item, BaseModel) else item
            _fill(top, ITEM.get(root, "item"), data)
    else:
        for key, value in content.model_dump(by_alias=True).items():
            _fill(top, key, value)
    body = tostring(top, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type=MEDIA, headers={"Content-Type": f"{MEDIA}; charset=utf-8"})


def errors(
    status: int, items: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> Response:
    """Open311's errors in XML."""
    response = render("errors", items)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
