"""Report photos: metadata gone whatever the format, the picture kept upright, anything
that is not a small enough image refused naming ``media``."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from beffroi.core.errors import InvalidInput
from beffroi.reports.photos import clean

LIMIT = 1_000_000


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_png_text_and_palette_survive_as_pixels_only() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jeanne Secretname")
    image = Image.new("P", (10, 10), 3)
    image.putpalette([i % 256 for i in range(768)])
    kind, data = clean(encoded(image, "PNG", pnginfo=info), "image/png", LIMIT)
    assert kind == "image/png"
    assert b"Jeanne" not in data
    assert b"tEXt" not in data
    pixel = Image.open(io.BytesIO(data)).getpixel((0, 0))
    assert isinstance(pixel, tuple)
    assert pixel[:3] == (9, 10, 11)  # palette entry 3, as colours


def test_a_rotated_jpeg_is_turned_upright_and_loses_its_exif() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    exif[0x8825] = {2: (47.0, 20.0, 0.0)}  # GPS latitude
    data = encoded(Image.new("RGB", (32, 24), "red"), "JPEG", exif=exif.tobytes())
    kind, cleaned = clean(data, "image/jpeg", LIMIT)
    image = Image.open(io.BytesIO(cleaned))
    assert kind == "image/jpeg"
    assert image.size == (24, 32)
    assert not image.getexif()
    assert b"Exif" not in cleaned


def test_webp_is_accepted_without_metadata() -> None:
    exif = Image.Exif()
    exif[0x013B] = "Jeanne Secretname"
    data = encoded(Image.new("RGB", (8, 8), "blue"), "WEBP", exif=exif.tobytes())
    kind, cleaned = clean(data, "image/webp", LIMIT)
    assert kind == "image/webp"
    assert b"Jeanne" not in cleaned


@pytest.mark.parametrize(
    ("data", "declared", "why"),
    [
        (b"", "image/jpeg", "empty"),
        (b"GIF89a", "image/gif", "image/gif is not one of"),
        (b"\xff\xd8\xff\xe0 broken", "image/jpeg", "not a readable image"),
        (encoded(Image.new("RGB", (4, 4)), "BMP"), "", "BMP images are not accepted"),
        (encoded(Image.new("RGB", (4, 4)), "PNG"), "text/plain", "text/plain is not one of"),
        (b"\x89PNG" + b"\x00" * (LIMIT + 1), "image/png", "at most"),
    ],
)
def test_what_is_not_a_small_image_is_refused_naming_media(
    data: bytes, declared: str, why: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean(data, declared, LIMIT)
    (error,) = refused.value.errors
    assert error.field == "media"
    assert why in error.message


def test_a_decompression_bomb_is_refused() -> None:
    huge = encoded(Image.new("1", (10_000, 10_000)), "PNG")  # 100 MP, a few kB
    with pytest.raises(InvalidInput) as refused:
        clean(huge, "image/png", LIMIT)
    assert refused.value.errors[0].field == "media"
