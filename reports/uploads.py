"""Checks uploaded evidence by its content, never by its name, and re-encodes images.

Accepted: PNG, JPEG, GIF and WebP images (stored re-encoded as PNG or JPEG, which drops EXIF and
GPS metadata and anything hidden after the pixels) and PDF documents without active content.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# Markers of a polyglot: a file that is an image or PDF to one reader and a web page or script to
# another. Real photos and documents have no reason to carry them.
_EMBEDDED_MARKUP = re.compile(rb"<\s*(script|html|iframe|svg|\?php)\b", re.IGNORECASE)
# /EmbeddedFiles is the catalog's attachment list; XFA forms carry their own scripts.
_PDF_ACTIVE_CONTENT = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)\b")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM_START = re.compile(rb"\bstream\r?\n")
# Object streams are inflated to be checked; more than this in all is refused rather than checked.
_PDF_INFLATE_LIMIT = 64 * 1024 * 1024


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    original_name: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def _refuse(name: str, message: str) -> ValidationError:
    return ValidationError(f"“{name}” {message}", code="invalid_evidence")


def clean_upload(upload: UploadedFile) -> CleanFile:
    """Return the file as it will be stored, or raise ValidationError with a message for the user."""
    name = (upload.name or "file").rsplit("/", 1)[-1][:200]
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _refuse(name, f"is larger than {filesizeformat(limit)}.")
    upload.seek(0)
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise _refuse(name, f"is larger than {filesizeformat(limit)}.")
    if not raw:
        raise _refuse(name, "is empty.")
    if _EMBEDDED_MARKUP.search(raw):
        raise _refuse(name, "contains embedded web page or script content and was refused.")
    if raw.startswith(b"%PDF-"):
        return _clean_pdf(name, raw)
    return _clean_image(name, raw)


def _unescape_pdf_name(match: re.Match[bytes]) -> bytes:
    return bytes([int(match.group(1), 16)])


def _pdf_declarations(name: str, raw: bytes) -> bytes:
    """The parts of a PDF where actions are declared, as a reader would see them.

    That is everything outside stream data, plus object streams (PDF 1.5+ keeps dictionaries
    compressed in them) inflated, with #xx escapes in names decoded (/J#61vaScript is /JavaScript).
    Other stream data (pixels, page drawing) is skipped: compressed bytes would now and then spell
    "/JS" by chance and refuse an honest document.
    """
    parts: list[bytes] = []
    budget, position = _PDF_INFLATE_LIMIT, 0
    while match := _PDF_STREAM_START.search(raw, position):
        head = raw[position : match.start()]
        end = raw.find(b"endstream", match.end())
        end = len(raw) if end < 0 else end
        parts.append(head)
        position = end
        if b"/ObjStm" not in _PDF_NAME_ESCAPE.sub(_unescape_pdf_name, head[-1024:]):
            continue
        body = raw[match.end() : end]
        try:
            inflater = zlib.decompressobj()
            body = inflater.decompress(body, budget)
        except zlib.error:
            pass  # not Flate-compressed: checked as it is
        else:
            if inflater.unconsumed_tail:  # a compression bomb, or simply too much to check
                raise _refuse(name, "is too complex a PDF to check; please send a screenshot or a simpler PDF.")
            budget -= len(body)
        parts.append(body)
    parts.append(raw[position:])
    return _PDF_NAME_ESCAPE.sub(_unescape_pdf_name, b"\n".join(parts))


def _clean_pdf(name: str, raw: bytes) -> CleanFile:
    if b"%%EOF" not in raw[-2048:]:
        raise _refuse(name, "is not a complete PDF file (it may be corrupt or cut short).")
    if _PDF_ACTIVE_CONTENT.search(_pdf_declarations(name, raw)):
        raise _refuse(name, "is a PDF with scripts or embedded files; please send a plain PDF or a screenshot.")
    return CleanFile(raw, "application/pdf", name, hashlib.sha256(raw).hexdigest())


def _clean_image(name: str, raw: bytes) -> CleanFile:
    not_supported = "is not an image (PNG, JPEG, GIF, WebP) or a PDF, whatever its name says."
    max_pixels = settings.EVIDENCE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in IMAGE_FORMATS:
                    raise _refuse(name, not_supported)
                width, height = probe.size
                # Checked on the header, before any pixel is decoded.
                if width * height > max_pixels:
                    raise _refuse(name, f"is too large an image ({width}×{height} pixels).")
                probe.verify()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                source_format = image.format
                return _reencode(name, ImageOps.exif_transpose(image), lossless=source_format != "JPEG")
    except ValidationError:
        raise
    except UnidentifiedImageError as exc:
        raise _refuse(name, not_supported) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(name, "is too large an image to process.") from exc
    except Exception as exc:  # Pillow meets hostile files with many kinds of error (IndexError, struct.error…)
        raise _refuse(name, "is a damaged image that could not be read.") from exc


def _reencode(name: str, image: Image.Image, *, lossless: bool) -> CleanFile:
    """A fresh file from the pixels only: no EXIF/GPS, no comments, no trailing bytes.

    Screenshots (PNG, GIF, WebP) stay lossless so text in them stays legible; photos stay JPEG.
    """
    buffer = io.BytesIO()
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    pixels = image.convert("RGBA" if has_alpha else "RGB")
    # Pillow writes some of the source's metadata back on save unless told otherwise: JPEG comments
    # (which can hold a location or a name) and ICC profiles (which name the device). Pixels only.
    pixels.info.clear()
    if lossless or has_alpha:
        pixels.save(buffer, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        pixels.save(buffer, format="JPEG", quality=90)
        content_type = "image/jpeg"
    content = buffer.getvalue()
    return CleanFile(content, content_type, name, hashlib.sha256(content).hexdigest())
