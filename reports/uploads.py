"""Checks uploaded evidence by its content, never by its name, and re-encodes images.

Accepted: PNG, JPEG, GIF and WebP images (stored re-encoded as PNG or JPEG, which drops EXIF and
GPS metadata and anything hidden after the pixels) and PDF documents without active content.

Every file of a request is checked first, cheaply (size, type, PDF structure, image dimensions from
the header); only when all of them pass, and their pixels together fit the request's budget, are
the images decoded and re-encoded. One bad file, or too many pixels, refuses the lot before any
pixel is decoded: decoding is what costs seconds.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pikepdf
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# Markers of a polyglot: a file that is an image or PDF to one reader and a web page or script to
# another. Real photos and documents have no reason to carry them.
_EMBEDDED_MARKUP = re.compile(rb"<\s*(script|html|iframe|svg|\?php)\b", re.IGNORECASE)
_NOT_A_PLAIN_PDF = gettext_lazy(
    "“%(name)s” is a PDF with scripts or embedded files; please send a plain PDF or a screenshot."
)
_TOO_COMPLEX_PDF = gettext_lazy("“%(name)s” is too complex a PDF to check; please send a screenshot or a simpler PDF.")

# --- PDF: parsed with pikepdf (qpdf), not searched as text ------------------------------------------
# pikepdf over pypdf: qpdf is a C++ parser fuzzed continuously (OSS-Fuzz), reads broken files the way
# viewers do (rebuilding a missing cross-reference table from the objects), decodes object streams
# and #xx name escapes itself, and lists every object of the file, referenced or not; pypdf is pure
# Python, several times slower on large files, and more lenient in ways a viewer is not. A regular
# expression over the bytes was fooled by an object written between comment lines that looked like
# stream data ("%stream" ... "%endstream").
# Keys whose presence alone refuses a file: scripts, attachment lists, embedded files, XFA forms and
# rich media. The actions of /OpenAction and of /AA (run on opening a page, a field, a key) are
# dictionaries like any other: their /S is checked wherever they are.
_REFUSED_KEYS = {"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent"}
# Actions (/S) and object types refused wherever they are, /OpenAction included.
_REFUSED_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/GoToE",
    "/Rendition",
    "/RichMediaExecute",
    "/Movie",
    "/Sound",
}
_REFUSED_TYPES = {"/EmbeddedFile"}
_REFUSED_SUBTYPES = {"/RichMedia", "/FileAttachment", "/Movie", "/Sound", "/Screen", "/3D"}
# A bound on the work one file may cost: objects walked, inflated bytes of its compressed streams.
_PDF_MAX_OBJECTS = 200_000
_PDF_INFLATE_LIMIT = 64 * 1024 * 1024
_FLATE_STREAM = re.compile(rb"stream\r?\n")


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    original_name: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class _Checked:
    """A file that passed the cheap checks: a PDF (done) or an image not yet decoded."""

    name: str
    raw: bytes
    pixels: int  # 0 for a PDF
    clean: CleanFile | None = None


def _refuse(name: str, message: str, **values) -> ValidationError:
    """`message` names the file as %(name)s (translated whole: languages put the name where they need it)."""
    return ValidationError(message % {"name": name, **values}, code="invalid_evidence")


def clean_upload(upload: UploadedFile) -> CleanFile:
    """One file as it will be stored, or ValidationError with a message for the user."""
    return clean_uploads([upload])[0]


def clean_uploads(uploads: Sequence[UploadedFile]) -> list[CleanFile]:
    """Every file as it will be stored, or ValidationError listing each refused file, raised before
    any image is decoded."""
    checked, problems = [], []
    for upload in uploads:
        try:
            checked.append(_check(upload))
        except ValidationError as error:
            problems.extend(error.messages)
    if problems:
        raise ValidationError(problems, code="invalid_evidence")
    budget = settings.EVIDENCE_MAX_PIXELS_PER_REQUEST
    pixels = sum(item.pixels for item in checked)
    if pixels > budget:
        raise ValidationError(
            _(
                "These images have %(pixels)s million pixels together; one request may carry %(budget)s million. "
                "Please send fewer or smaller images."
            )
            # Rounded as before (str.format), then written with the language's decimal separator.
            % {
                "pixels": number_format(Decimal(f"{pixels / 1e6:.1f}"), 1),
                "budget": number_format(round(budget / 1e6)),
            },
            code="invalid_evidence",
        )
    return [item.clean or _reencode_image(item) for item in checked]


def _check(upload: UploadedFile) -> _Checked:
    name = (upload.name or "file").rsplit("/", 1)[-1][:200]
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _refuse(name, _("“%(name)s” is larger than %(limit)s."), limit=filesizeformat(limit))
    upload.seek(0)
    raw = upload.read(limit + 1)
    if len(raw) > limit:
        raise _refuse(name, _("“%(name)s” is larger than %(limit)s."), limit=filesizeformat(limit))
    if not raw:
        raise _refuse(name, _("“%(name)s” is empty."))
    if _EMBEDDED_MARKUP.search(raw):
        raise _refuse(name, _("“%(name)s” contains embedded web page or script content and was refused."))
    if raw.startswith(b"%PDF-"):
        return _Checked(name, raw, 0, _clean_pdf(name, raw))
    return _check_image_header(name, raw)


# --- PDF ----------------------------------------------------------------------------------------------


def _within_inflate_budget(raw: bytes) -> bool:
    """Whether every Flate stream of the file inflates to at most _PDF_INFLATE_LIMIT in all.

    qpdf inflates object streams whole while parsing; a 10 MB file can hold gigabytes (Flate
    compresses up to about 1000:1). This is a bound on work, not a security decision, so it may
    over-count: it inflates after every "stream" keyword, in comments too.
    """
    budget, view = _PDF_INFLATE_LIMIT, memoryview(raw)
    for match in _FLATE_STREAM.finditer(raw):
        inflater = zlib.decompressobj()
        try:
            budget -= len(inflater.decompress(view[match.end() :], budget + 1))
        except zlib.error:
            continue  # not Flate data (an image's JPEG bytes, plain text)
        if budget < 0:
            return False
    return True


def _refusal_in(obj: pikepdf.Object) -> str | None:
    """The refused key, action or type of one dictionary (or stream dictionary), if any."""
    keys = set(obj.keys())
    refused = keys & _REFUSED_KEYS
    if refused:
        return min(refused)
    for key, names in (("/S", _REFUSED_ACTIONS), ("/Type", _REFUSED_TYPES), ("/Subtype", _REFUSED_SUBTYPES)):
        value = obj.get(key)
        if isinstance(value, pikepdf.Name) and str(value) in names:
            return f"{key} {value}"
    return None


def _active_content(pdf: pikepdf.Pdf) -> str | None:
    """Walk every object of the file (each indirect object, and the direct ones inside it) for
    scripts, actions, attachments, XFA and rich media. The file's own cross-references decide
    nothing: an object nobody points to is still refused."""
    if len(pdf.objects) > _PDF_MAX_OBJECTS:
        return "too complex"
    budget = _PDF_MAX_OBJECTS * 5
    for top in pdf.objects:
        pending = [top]
        while pending:
            obj = pending.pop()
            budget -= 1
            if budget < 0:
                return "too complex"
            if isinstance(obj, pikepdf.Stream):
                found = _refusal_in(obj.stream_dict)
                if found is None and obj.stream_dict.get("/Type") == pikepdf.Name.ObjStm:
                    found = _refusal_in_object_stream(obj)
                children = [value for _key, value in obj.stream_dict.items()]
            elif isinstance(obj, pikepdf.Dictionary):
                found = _refusal_in(obj)
                children = [value for _key, value in obj.items()]
            elif isinstance(obj, pikepdf.Array):
                found, children = None, list(obj)
            else:
                continue
            if found:
                return found
            # Indirect children are walked from the top list; following them here could loop.
            # (Numbers, booleans and strings come back as Python values: nothing to walk.)
            pending.extend(child for child in children if isinstance(child, pikepdf.Object) and not child.is_indirect)
    return None


_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_REFUSED_NAMES_TEXT = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFiles?|EF|XFA|RichMedia|ImportData|SubmitForm|GoToE|Rendition)\b"
)


def _refusal_in_object_stream(stream: pikepdf.Stream) -> str | None:
    """An object stream qpdf did not expand (no cross-reference stream lists its objects) is still
    read by lenient viewers: its inflated text, names unescaped, may not name an action either."""
    filters = stream.stream_dict.get("/Filter")
    filters = [] if filters is None else list(filters) if isinstance(filters, pikepdf.Array) else [filters]
    if any(str(name) != "/FlateDecode" for name in filters) or len(filters) > 1:
        return "an object stream in an unusual encoding"
    data = stream.read_raw_bytes()
    if filters:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(data, _PDF_INFLATE_LIMIT)
        except zlib.error:
            return "a damaged object stream"
    match = _REFUSED_NAMES_TEXT.search(_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data))
    return match.group(0).decode() if match else None


def _clean_pdf(name: str, raw: bytes) -> CleanFile:
    if b"%%EOF" not in raw[-2048:]:
        raise _refuse(name, _("“%(name)s” is not a complete PDF file (it may be corrupt or cut short)."))
    if not _within_inflate_budget(raw):
        raise _refuse(name, _TOO_COMPLEX_PDF)
    try:
        with pikepdf.open(io.BytesIO(raw)) as pdf:
            found = _active_content(pdf)
    except pikepdf.PasswordError as exc:
        raise _refuse(name, _("“%(name)s” is a password-protected PDF; please send it without the password.")) from exc
    except (pikepdf.PdfError, RecursionError, ValueError) as exc:
        raise _refuse(name, _("“%(name)s” is not a PDF we can read (it may be damaged).")) from exc
    if found == "too complex":
        raise _refuse(name, _TOO_COMPLEX_PDF)
    if found:
        raise _refuse(name, _NOT_A_PLAIN_PDF)
    return CleanFile(raw, "application/pdf", name, hashlib.sha256(raw).hexdigest())


# --- images -----------------------------------------------------------------------------------------

_NOT_SUPPORTED = gettext_lazy("“%(name)s” is not an image (PNG, JPEG, GIF, WebP) or a PDF, whatever its name says.")


def _check_image_header(name: str, raw: bytes) -> _Checked:
    """Type and dimensions from the header (Pillow opens lazily): no pixel is decoded here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in IMAGE_FORMATS:
                    raise _refuse(name, _NOT_SUPPORTED)
                width, height = probe.size
    except ValidationError:
        raise
    except UnidentifiedImageError as exc:
        raise _refuse(name, _NOT_SUPPORTED) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(name, _("“%(name)s” is too large an image to process.")) from exc
    except Exception as exc:  # Pillow meets hostile headers with many kinds of error
        raise _refuse(name, _("“%(name)s” is a damaged image that could not be read.")) from exc
    if width * height > settings.EVIDENCE_MAX_PIXELS:
        raise _refuse(
            name, _("“%(name)s” is too large an image (%(width)s×%(height)s pixels)."), width=width, height=height
        )
    return _Checked(name, raw, width * height)


def _reencode_image(item: _Checked) -> CleanFile:
    name, raw = item.name, item.raw
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                probe.verify()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                lossless = image.format != "JPEG"
                return _reencode(name, ImageOps.exif_transpose(image), lossless=lossless)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse(name, _("“%(name)s” is too large an image to process.")) from exc
    except Exception as exc:  # Pillow meets hostile files with many kinds of error (IndexError, struct.error…)
        raise _refuse(name, _("“%(name)s” is a damaged image that could not be read.")) from exc


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
