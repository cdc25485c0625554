"""Evidence uploads are judged by their content, never their name; images are re-encoded.

Every file here is built in memory and kept to a few kilobytes, including the "huge" ones: a
decompression bomb only needs a header that claims huge dimensions.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, PngImagePlugin

from reports.uploads import clean_upload
from tests.conftest import png_bytes


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    # The browser's content type is the uploader's claim; the checks must ignore it.
    return SimpleUploadedFile(name, content, content_type)


def refused(name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        clean_upload(upload(name, content))
    [message] = caught.value.messages
    assert message.startswith(f"“{name}”")
    return message


def png_header_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming width×height, then IEND: no pixel data at all."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def pdf(*objects: bytes) -> bytes:
    """A PDF of these objects (numbered from 1) with a one-page tree, and no cross-reference table (as
    many broken-but-opened files; viewers and qpdf rebuild it). The first object is the catalog when it
    says so; otherwise a catalog is added after them."""
    objects_list = list(objects or [b"<< /Type /Catalog >>"])
    count = len(objects_list)
    if b"/Pages" in objects_list[0]:  # the test wrote its own page tree
        root = 1
    elif b"/Type /Catalog" in objects_list[0]:
        objects_list[0] = objects_list[0].replace(b"<<", b"<< /Pages %d 0 R" % (count + 1), 1)
        root = 1
    else:
        objects_list.append(b"<< /Type /Catalog /Pages %d 0 R >>" % (count + 2))
        root = count = count + 1
    if b"/Pages" not in objects[0] if objects else True:
        objects_list += [
            b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (count + 2),
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (count + 1),
        ]
    body = b"%PDF-1.7\n"
    for number, obj in enumerate(objects_list, start=1):
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    return body + b"trailer\n<< /Root %d 0 R >>\n%%%%EOF\n" % root


def object_stream(dictionaries: bytes) -> bytes:
    """A compressed object stream (PDF 1.5+), where dictionaries are not visible in the raw file."""
    data = zlib.compress(b"2 0 " + dictionaries)
    header = b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(data)
    return header + data + b"\nendstream"


# --- Accepted, and stored as what they are -------------------------------------------------------


def test_a_png_named_pdf_is_accepted_as_a_png():
    clean = clean_upload(upload("report.pdf", png_bytes(), "application/pdf"))
    assert clean.content_type == "image/png"
    assert clean.original_name == "report.pdf"
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.format == "PNG" and image.size == (64, 48)


def test_a_jpeg_with_exif_comes_back_without_exif():
    original = png_bytes(exif=True)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif()[0x010F] == "SpyCam Inc."  # the test file really carries EXIF
    clean = clean_upload(upload("photo.jpg", original))
    assert clean.content_type == "image/jpeg"
    assert b"SpyCam" not in clean.content and b"Exif" not in clean.content
    with Image.open(io.BytesIO(clean.content)) as image:
        assert not image.getexif() and "exif" not in image.info


def test_jpeg_comments_and_icc_profiles_are_dropped_too():
    """Pillow copies a JPEG's comment and a PNG's ICC profile into a re-encoded file unless told not to."""
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 30)).save(
        buffer, format="JPEG", comment=b"GPS 52.5200N 13.4050E - Alice's flat", icc_profile=icc
    )
    jpeg = clean_upload(upload("photo.jpg", buffer.getvalue()))
    assert b"GPS" not in jpeg.content and b"Alice" not in jpeg.content
    with Image.open(io.BytesIO(jpeg.content)) as image:
        assert "comment" not in image.info and "icc_profile" not in image.info

    buffer = io.BytesIO()
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "taken at 52.5200N 13.4050E")
    Image.new("RGB", (40, 30)).save(buffer, format="PNG", pnginfo=text, icc_profile=icc)
    png = clean_upload(upload("screen.png", buffer.getvalue()))
    assert b"52.5200N" not in png.content
    with Image.open(io.BytesIO(png.content)) as image:
        assert image.info == {}


def test_exif_orientation_is_applied_to_the_pixels_before_it_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buffer, format="JPEG", exif=exif.tobytes())
    clean = clean_upload(upload("phone.jpg", buffer.getvalue()))
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.size == (30, 40)


def test_bytes_hidden_after_the_image_are_not_stored():
    payload = b"PK\x03\x04 a zip archive riding along"
    clean = clean_upload(upload("screen.png", png_bytes() + payload))
    assert payload not in clean.content
    assert clean.size == len(clean.content) and len(clean.sha256) == 64


@pytest.mark.parametrize(("fmt", "mode"), [("GIF", "P"), ("WEBP", "RGB")])
def test_gif_and_webp_are_stored_as_lossless_png(fmt, mode):
    buffer = io.BytesIO()
    Image.new(mode, (20, 10)).save(buffer, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    assert clean_upload(upload(f"clip.{fmt.lower()}", buffer.getvalue())).content_type == "image/png"


def test_a_transparent_screenshot_keeps_its_alpha():
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 0, 0, 0)).save(buffer, format="PNG")
    clean = clean_upload(upload("overlay.png", buffer.getvalue()))
    with Image.open(io.BytesIO(clean.content)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0


def test_a_plain_pdf_is_kept_byte_for_byte():
    document = pdf(b"<< /Type /Catalog /Lang (en) >>")
    clean = clean_upload(upload("statement.png", document, "image/png"))
    assert clean.content_type == "application/pdf" and clean.content == document


def test_a_pdf_whose_compressed_page_data_happens_to_spell_js_is_accepted():
    """Stream data is not where actions live; random compressed bytes may contain "/JS" by chance."""
    page = b"<< /Length 12 /Filter /FlateDecode >>\nstream\nx\x9c/JS (x)\x00\x01\nendstream"
    assert clean_upload(upload("scan.pdf", pdf(page))).content_type == "application/pdf"


# --- Refused, with a message that names the file ---------------------------------------------------


def test_a_text_file_named_png_is_refused():
    message = refused("screenshot.png", b"just some words, no pixels at all\n")
    assert "is not an image (PNG, JPEG, GIF, WebP) or a PDF, whatever its name says" in message


def test_a_truncated_png_is_refused():
    original = png_bytes(size=(64, 64), colour=(10, 20, 30))
    assert "damaged image" in refused("cut.png", original[: len(original) - 20])


def test_a_truncated_jpeg_is_refused():
    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 60).convert("RGB").save(buffer, format="JPEG")
    assert "damaged image" in refused("cut.jpg", buffer.getvalue()[: buffer.tell() // 2])


def test_an_empty_file_is_refused():
    assert "is empty" in refused("nothing.png", b"")


@pytest.mark.parametrize(
    "action",
    [
        b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
        b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>",
        b"<< /Type /Catalog /Names << /EmbeddedFiles << /Names [(a.exe) 3 0 R] >> >> >>",
        b"<< /Type /Filespec /F (a.exe) /EF << /F 3 0 R >> >> /Type /EmbeddedFile",
        # (given inline: a reference to an object that is not there reads as null, as no XFA at all)
        b"<< /Type /Catalog /AcroForm << /Fields [] /XFA [(template) (form)] >> >>",
        # The same JavaScript with its name spelt in #xx escapes, as PDF allows.
        b"<< /Type /Catalog /OpenAction << /S /J#61va#53cript /J#53 (app.alert(1)) >> >>",
    ],
    ids=["javascript", "launch", "attachment-list", "embedded-file", "xfa-form", "escaped-name"],
)
def test_a_pdf_with_active_content_is_refused(action):
    assert "PDF with scripts or embedded files" in refused("invoice.pdf", pdf(action))


def test_javascript_hidden_in_a_compressed_object_stream_is_refused():
    hidden = object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert b"JavaScript" not in hidden  # invisible to a search of the raw bytes
    assert "PDF with scripts" in refused("invoice.pdf", pdf(b"<< /Type /Catalog /OpenAction 2 0 R >>", hidden))


def test_a_cut_short_pdf_is_refused():
    assert "not a complete PDF" in refused("statement.pdf", pdf()[:-7])


@pytest.mark.parametrize(
    "markup",
    [
        b"<html><body><script>alert(document.cookie)</script></body></html>",
        b"<svg onload=alert(1)>",
        b"<?php system($_GET['c']); ?>",
    ],
    ids=["html", "svg", "php"],
)
def test_an_image_that_is_also_a_web_page_is_refused(markup):
    """A polyglot: a valid PNG to an image viewer (the markup sits in a text chunk), a page to a browser."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", markup.decode())
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="PNG", pnginfo=info)
    with Image.open(io.BytesIO(buffer.getvalue())) as image:
        image.load()  # it really is a valid image
    assert "embedded web page or script content" in refused("cat.png", buffer.getvalue())


def test_a_pdf_that_is_also_a_web_page_is_refused():
    assert "embedded web page" in refused("doc.pdf", pdf(b"<< /Title (<script>alert(1)</script>) >>"))


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding():
    bomb = png_header_only(100_000, 100_000)  # 10 gigapixels claimed in 45 bytes
    assert len(bomb) < 100
    assert "too large an image" in refused("bomb.png", bomb)


def test_an_image_over_the_pixel_limit_is_refused_before_any_pixel_is_decoded(settings):
    # There is no pixel data at all: had the image been decoded, it would be "damaged", not "too large".
    assert "damaged image" in refused("small.png", png_header_only(100, 100))
    settings.EVIDENCE_MAX_PIXELS = 10_000
    assert "too large an image (200×100 pixels)" in refused("wide.png", png_header_only(200, 100))


def test_the_default_limits_are_10_mb_and_40_megapixels(settings):
    assert settings.EVIDENCE_MAX_BYTES == 10 * 1024 * 1024
    assert settings.EVIDENCE_MAX_PIXELS == 40_000_000
    assert "too large an image (8000×8000 pixels)" in refused("huge.png", png_header_only(8000, 8000))


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    big = png_bytes(size=(64, 64))
    noise = io.BytesIO()
    Image.effect_noise((64, 64), 90).convert("RGB").save(noise, format="PNG")
    assert len(noise.getvalue()) > 1024
    assert "is larger than 1.0\xa0KB" in refused("big.png", noise.getvalue())
    assert clean_upload(upload("small.png", big)).content_type == "image/png"


def test_a_file_whose_declared_size_lies_is_still_measured(settings):
    settings.EVIDENCE_MAX_BYTES = 1024
    liar = upload("liar.pdf", pdf(b"<< /Title (" + b"x" * 2000 + b") >>"))
    liar.size = 10  # what a client claimed; the read decides
    with pytest.raises(ValidationError, match="is larger than"):
        clean_upload(liar)
