"""SHA-256 and PDQ of an image or a video frame (the platform sends frames as images).

PDQ comes from the `pdqhash` package (Meta's reference C++ code behind a Python binding). Its bit
vector is written as 64 hex digits, bit 0 first: the same text as Meta's ThreatExchange tools and
the hash lists that come from them, so an imported list and our own hashes compare bit for bit.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

from reports.uploads import IMAGE_FORMATS

HASH_HEX_LENGTH = 64  # SHA-256 and PDQ are both 256 bits
_HEX = re.compile(r"[0-9a-f]{64}")
# Images are scaled down to fit this square before PDQ. PDQ itself boils every image down to 64x64
# luminance before its transform, so the detail lost is detail it drops anyway; measured on 12 MP
# test images, hashing took 0.4-1.6 s at full size and ~55 ms scaled, and the two hashes differed
# by 4-8 bits of 256 (the match threshold is 31). Other PDQ implementations scale to 512 as well.
PDQ_INPUT_SIDE = 512


@dataclass(frozen=True)
class MediaHashes:
    sha256: str
    pdq: str
    pdq_quality: int


def normalize_hex(value: str) -> str | None:
    """The hash as 64 lowercase hex digits, or None when it is not one."""
    value = value.strip().lower()
    return value if _HEX.fullmatch(value) else None


def pdq_hex(bits: np.ndarray) -> str:
    """PDQ's 256-bit vector as hex, bit 0 the most significant (ThreatExchange's spelling)."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hash_media(content: bytes) -> MediaHashes:
    """SHA-256 of the bytes and PDQ of the pixels; ValidationError when the bytes are not an image."""
    pixels = _rgb_pixels(content)
    bits, quality = pdqhash.compute(pixels)
    return MediaHashes(sha256=hashlib.sha256(content).hexdigest(), pdq=pdq_hex(bits), pdq_quality=int(quality))


def _rgb_pixels(content: bytes) -> np.ndarray:
    not_an_image = ValidationError("Not an image (PNG, JPEG, GIF or WebP).", code="not_an_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                if image.format not in IMAGE_FORMATS:
                    raise not_an_image
                width, height = image.size
                # Checked on the header, before any pixel is decoded (decompression bombs).
                if width * height > settings.EVIDENCE_MAX_PIXELS:
                    raise ValidationError(f"The image is too large ({width}×{height} pixels).", code="too_large")
                image.draft("RGB", (PDQ_INPUT_SIDE, PDQ_INPUT_SIDE))  # JPEG: decode at a smaller scale
                image.load()
                image = image.convert("RGB")
                image.thumbnail((PDQ_INPUT_SIDE, PDQ_INPUT_SIDE))
                return np.asarray(image)
    except ValidationError:
        raise
    except UnidentifiedImageError:
        raise not_an_image from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The image is too large to process.", code="too_large") from None
    except Exception:  # Pillow meets damaged and hostile files with many kinds of error
        raise ValidationError("The image is damaged and could not be read.", code="damaged_image") from None
