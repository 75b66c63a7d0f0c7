"""From the reports area's rows to Open311's shapes, and from a posted form to a
:class:`Submission`: the translation both ways, apart from the routes."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from starlette.datastructures import FormData, UploadFile

from beffroi.core.errors import FieldError, InvalidInput
from beffroi.interventions.lifecycle import OPEN
from beffroi.reports.catalogue import Service, service
from beffroi.reports.checks import Photo, Submission
from beffroi.reports.lifecycle import Channel
from beffroi.reports.open311_schemas import (
    AttributeOut,
    ProgressOut,
    RequestOut,
    ServiceDefinition,
    ServiceOut,
    ValueOut,
)
from beffroi.reports.reading import Public, steps_of

_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_-]{1,40})\]$")
# What a posted request may hold (Open311's names); anything else is refused by name.
FIELDS = frozenset(
    {
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "description",
        "first_name",
        "last_name",
        "email",
        "phone",
        "device_id",
        "account_id",
        "media",
        "media_url",
        "api_key",
        "jurisdiction_id",
    }
)
TEXT_MAX = 10_000  # any text field; the checks then apply each field's own limit
NOTICE = "Thank you. Follow your report with its service_request_id."


def service_out(svc: Service) -> ServiceOut:
    """A service as ``services.json`` lists it."""
    return ServiceOut(
        service_code=svc.code,
        service_name=svc.name,
        description=svc.description,
        metadata=svc.metadata,
        keywords=",".join(svc.keywords),
        group=svc.group,
    )


def definition_out(svc: Service) -> ServiceDefinition:
    """A service's questions (``services/{service_code}.json``)."""
    return ServiceDefinition(
        service_code=svc.code,
        attributes=[
            AttributeOut(
                code=a.code,
                datatype=a.datatype.value,
                required=a.required,
                datatype_description=f"at most {a.max_length} characters"
                if not a.values
                else "one of the keys",
                order=i + 1,
                description=a.description,
                values=[ValueOut(key=k, name=n) for k, n in a.values],
            )
            for i, a in enumerate(svc.attributes)
        ],
    )


def request_out(public: Public, agency: str) -> RequestOut:
    """A report as anyone may read it: its problem, place and public progress."""
    svc = service(public.service_code)
    progress = public.progress
    expected = progress.due_at if progress is not None and progress.status in OPEN else None
    return RequestOut(
        service_request_id=public.ticket,
        status=public.status,
        status_notes=public.status_notes,
        service_name=svc.name if svc else public.service_code,
        service_code=public.service_code,
        description=public.description,
        agency_responsible=agency,
        service_notice="",
        requested_datetime=public.created_at,
        updated_datetime=public.updated_at,
        expected_datetime=expected,
        address=public.address_string,
        lat=public.lat,
        long_=public.lon,
        progress=[ProgressOut(**s.model_dump()) for s in steps_of(progress)],
    )


def _number(name: str, text: str | None, errors: list[FieldError]) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        errors.append(FieldError(name, "not a number"))
        return None
    if not math.isfinite(value):
        errors.append(FieldError(name, "not a finite number"))
        return None
    return value


async def submission(form: FormData | Mapping[str, object]) -> tuple[Submission, str | None]:
    """The report a posted form holds, and its api_key; :class:`InvalidInput` naming each
    field that is not text where text is due, unknown, or holds a NUL character."""
    errors: list[FieldError] = []
    texts: dict[str, str] = {}
    attributes: dict[str, str] = {}
    photo: Photo | None = None
    for name, value in form.items():
        if isinstance(value, UploadFile):
            if name != "media":
                errors.append(FieldError(name[:60], "a file is accepted only as media"))
                continue
            data = await value.read()
            photo = Photo(value.content_type, data)
            continue
        text = str(value)
        if len(text) > TEXT_MAX:
            errors.append(FieldError(name[:60], f"at most {TEXT_MAX} characters"))
            continue
        if "\x00" in text or "\x00" in name:
            errors.append(
                FieldError(name[:60].replace("\x00", ""), "NUL characters are not accepted")
            )
            continue
        if match := _ATTRIBUTE.match(name):
            attributes[match.group(1)] = text
        elif name in FIELDS:
            texts[name] = text
        else:
            errors.append(FieldError(name[:60], "not a field of a service request"))
    if "media" in texts:
        errors.append(FieldError("media", "a file upload (multipart/form-data) is expected"))
    if texts.get("media_url"):
        # Fetching a URL a stranger gives would make the hub a proxy: upload the file.
        errors.append(FieldError("media_url", "not accepted here: upload the photo as media"))
    lat = _number("lat", texts.get("lat"), errors)
    lon = _number("long", texts.get("long"), errors)
    if errors:
        raise InvalidInput(errors)
    sub = Submission(
        channel=Channel.OPEN311,
        service_code=texts.get("service_code") or None,
        lon=lon,
        lat=lat,
        address_string=texts.get("address_string", "").strip(),
        description=texts.get("description", ""),
        attributes=attributes,
        first_name=texts.get("first_name", "").strip(),
        last_name=texts.get("last_name", "").strip(),
        email=texts.get("email", "").strip(),
        phone=texts.get("phone", "").strip(),
        photo=photo,
    )
    return sub, texts.get("api_key") or None
