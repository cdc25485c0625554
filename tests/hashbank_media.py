"""Synthetic pictures for the hash bank's tests: shapes on a ground, made here from a seed (never real
material), with enough structure for PDQ to rate them well; and a lightly edited copy of one."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 10, width // 2)), int(rng.integers(height // 10, height // 2))
        draw.ellipse([x, y, x + w, y + h], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return image.filter(ImageFilter.GaussianBlur(2))


def encoded(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def picture_bytes(seed: int) -> bytes:
    return encoded(picture(seed))


def edited_bytes(seed: int) -> bytes:
    """The same picture scaled down, recompressed as JPEG and a little brighter: other bytes, same look."""
    image = picture(seed).resize((240, 180)).point(lambda value: min(255, value + 12))
    return encoded(image, "JPEG", quality=70)
