"""Photos sent with reports: checked, then re-encoded without their metadata.

A phone's photo carries EXIF (where it was taken, when, the phone's make and serial, at
times the owner's name), XMP and comments: personal data the hub must not keep. The image
is decoded and written again from its pixels alone (turned upright first, since its
orientation is one of the tags dropped), so no metadata block can survive.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from beffroi.core.errors import FieldError, InvalidInput

# Open311 field name of the photo.
FIELD = "media"
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # a 40 MP photo is plenty; beyond, a decompression bomb


def clean(data: bytes, declared: str | None, max_bytes: int) -> tuple[str, bytes]:
    """The photo's content type and bytes without metadata, or :class:`InvalidInput`
    naming ``media`` (wrong type, too large, not an image)."""
    kind = (declared or "").split(";", 1)[0].strip().lower()
    if kind and kind not in FORMATS.values() and kind != "application/octet-stream":
        raise InvalidInput(
            FieldError(FIELD, f"{kind[:60]} is not one of {sorted(FORMATS.values())}")
        )
    if not data:
        raise InvalidInput(FieldError(FIELD, "empty file"))
    if len(data) > max_bytes:
        raise InvalidInput(FieldError(FIELD, f"at most {max_bytes} bytes (got {len(data)})"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                if fmt not in FORMATS:
                    raise InvalidInput(
                        FieldError(
                            FIELD,
                            f"{fmt or 'unknown'} images are not accepted; "
                            f"send one of {sorted(FORMATS.values())}",
                        )
                    )
                if image.width * image.height > MAX_PIXELS:
                    raise InvalidInput(FieldError(FIELD, f"more than {MAX_PIXELS} pixels"))
                upright = ImageOps.exif_transpose(image)
                upright.load()
    except InvalidInput:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        raise InvalidInput(
            FieldError(FIELD, f"not a readable image ({type(exc).__name__})")
        ) from exc
    if upright.mode in ("P", "PA"):
        upright = upright.convert("RGBA")  # a palette is not pasted with the pixels
    # Pixels only: a fresh image has no info (EXIF, XMP, ICC, comments, text chunks).
    bare = Image.new(upright.mode, upright.size)
    bare.paste(upright)
    if fmt == "JPEG" and bare.mode not in ("RGB", "L", "CMYK"):
        bare = bare.convert("RGB")
    out = io.BytesIO()
    bare.save(out, format=fmt, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
    return FORMATS[fmt], out.getvalue()
