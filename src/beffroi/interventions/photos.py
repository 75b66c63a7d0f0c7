"""Photos from the field: which images are accepted, recognised by their first bytes."""

from __future__ import annotations

from beffroi.core.errors import BeffroiError, FieldError, InvalidInput

ACCEPTED = ("image/jpeg", "image/png", "image/webp")


class TooLarge(BeffroiError):
    """The upload is bigger than allowed."""

    status = 413
    slug = "too-large"
    title = "Payload too large"


def sniff(data: bytes) -> str | None:
    """The image type the bytes themselves announce, if one of :data:`ACCEPTED`."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(content_type: str | None, data: bytes, max_bytes: int) -> str:
    """The accepted content type of an upload, or the error saying what is wrong with it."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in ACCEPTED:
        raise InvalidInput(
            FieldError("content-type", f"{declared or 'none'!s} is not one of {list(ACCEPTED)}")
        )
    if len(data) > max_bytes:
        raise TooLarge(f"a photo is at most {max_bytes} bytes (got {len(data)})")
    if not data:
        raise InvalidInput(FieldError("body", "empty"))
    found = sniff(data)
    if found != declared:
        raise InvalidInput(
            FieldError("body", f"the bytes are not a {declared} image ({found or 'unknown'})")
        )
    return declared
