"""Pure checks of a report before anything is written: the service, the place, the
words, the answers to the service's questions, the contact. Every problem is listed,
each naming its field as the caller spelled it (Open311's names on the public side)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from beffroi.core.errors import FieldError
from beffroi.reports.catalogue import Datatype, Service, service
from beffroi.reports.lifecycle import Channel
from beffroi.reports.schemas import ADDRESS_MAX, DESCRIPTION_MAX, EMAIL, PHONE

NAME_MAX = 100
_EMAIL = re.compile(EMAIL)
_PHONE = re.compile(PHONE)
_NUMBER = re.compile(r"^-?\d{1,12}(\.\d{1,6})?$")


@dataclass(frozen=True, slots=True)
class Photo:
    """An uploaded photo, as received (cleaned by :mod:`.photos` before it is kept)."""

    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class Submission:
    """A report as received, from Open311 or the citizen line, not yet checked."""

    channel: Channel
    service_code: str | None
    lon: float | None = None
    lat: float | None = None
    commune: str | None = None  # the citizen line may name a commune instead of a position
    address_string: str = ""
    description: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    photo: Photo | None = None

    @property
    def has_contact(self) -> bool:
        """Whether the reporter left any personal detail."""
        return any((self.first_name, self.last_name, self.email, self.phone))


def _coordinate(name: str, value: float | None, bound: float) -> list[FieldError]:
    if value is None:
        return []
    if not math.isfinite(value) or not -bound <= value <= bound:
        return [FieldError(name, f"a number between -{bound:g} and {bound:g}")]
    return []


def _attributes(svc: Service, given: Mapping[str, str]) -> list[FieldError]:
    errors: list[FieldError] = []
    known = {a.code: a for a in svc.attributes}
    for code in sorted(set(given) - set(known)):
        errors.append(FieldError(f"attribute[{code[:40]}]", f"{svc.code} asks no such question"))
    for attribute in svc.attributes:
        name = f"attribute[{attribute.code}]"
        value = given.get(attribute.code, "")
        if not value:
            if attribute.required:
                errors.append(FieldError(name, "required"))
            continue
        if len(value) > attribute.max_length:
            errors.append(FieldError(name, f"at most {attribute.max_length} characters"))
        elif attribute.datatype is Datatype.SINGLEVALUELIST:
            keys = [k for k, _ in attribute.values]
            if value not in keys:
                errors.append(FieldError(name, f"one of {keys}"))
        elif attribute.datatype is Datatype.NUMBER and not _NUMBER.match(value):
            errors.append(FieldError(name, "a number"))
    return errors


def check(sub: Submission, *, long_name: str = "long") -> tuple[Service | None, list[FieldError]]:
    """The service of a submission and everything wrong with it (empty: it may be kept).

    ``long_name``: what the longitude is called in the caller's words (``long`` in
    Open311, ``location`` on the citizen line).
    """
    errors: list[FieldError] = []
    svc = service(sub.service_code) if sub.service_code else None
    if not sub.service_code:
        errors.append(FieldError("service_code", "required"))
    elif svc is None:
        errors.append(FieldError("service_code", f"unknown service {sub.service_code[:40]!r}"))
    errors += _coordinate("lat", sub.lat, 90)
    errors += _coordinate(long_name, sub.lon, 180)
    if (sub.lat is None) != (sub.lon is None):
        missing = "lat" if sub.lat is None else long_name
        errors.append(FieldError(missing, "lat and long go together"))
    if sub.lat is None and sub.lon is None:
        if sub.channel is Channel.OPEN311:
            # No geocoder: the words of an address_string cannot be placed on the map.
            errors.append(FieldError("lat", "required (with long): a position is needed"))
        elif not sub.commune:
            errors.append(FieldError("commune", "required without a location"))
    if len(sub.address_string) > ADDRESS_MAX:
        errors.append(FieldError("address_string", f"at most {ADDRESS_MAX} characters"))
    if len(sub.description) > DESCRIPTION_MAX:
        errors.append(FieldError("description", f"at most {DESCRIPTION_MAX} characters"))
    if not sub.description.strip() and sub.photo is None:
        errors.append(FieldError("description", "say what the problem is, or send a photo"))
    for name, value in (("first_name", sub.first_name), ("last_name", sub.last_name)):
        if len(value) > NAME_MAX:
            errors.append(FieldError(name, f"at most {NAME_MAX} characters"))
    if len(sub.email) > 254 or not _EMAIL.match(sub.email):
        errors.append(FieldError("email", "not an e-mail address"))
    if len(sub.phone) > 40 or not _PHONE.match(sub.phone):
        errors.append(FieldError("phone", "digits, spaces and + ( ) . - only, at most 40"))
    if svc is not None:
        errors += _attributes(svc, sub.attributes)
    return svc, errors
