"""Hostile files through every way a file gets in, not only the checker (tests/test_uploads.py tests
reports.uploads.clean_upload itself): the filing form's evidence, the appeal form's attachment, the
reporter's appeal from a report page, and the platform API's target snapshot.

Each file is refused with a message that names it and says why, the request stores nothing (no
row, no audit event, no file left in the media folder), and a good file still goes through the same
way, so the refusals are the checks' and not a broken form.
"""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from audit.models import AuditEvent
from moderation.enforcement.models import Appeal, NoticeKind
from reports.categories import Category
from reports.models import Evidence, Report, ReportStatus, Target
from tests.conftest import png_bytes
from tests.factories import NoticeFactory, ReportFactory, SanctionFactory, TargetFactory, platform_key
from tests.test_uploads import pdf, png_header_only

pytestmark = pytest.mark.django_db


def _png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ" + b"\0" * 64)
    return buffer.getvalue()


def _noise_png(size: int = 64) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((size, size), 90).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


# name, content, what the message must say
HOSTILE = {
    "html-named-png": ("photo.png", b"<html><body><script>alert(1)</script></body></html>", "embedded web page"),
    "svg-named-png": ("icon.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "embedded web page"),
    "zip-named-jpg": ("holiday.jpg", _zip(), "is not an image (PNG, JPEG, GIF, WebP) or a PDF, whatever its name says"),
    "exe-named-pdf": ("invoice.pdf", b"MZ\x90\x00" + b"\0" * 200, "is not an image"),
    "png-html-polyglot": ("chat.png", _png_with_text("<script>alert(document.cookie)</script>"), "embedded web page"),
    "png-php-polyglot": ("shot.png", _png_with_text("<?php system($_GET['c']); ?>"), "embedded web page"),
    "png-with-page-appended": ("log.png", png_bytes() + b"<html><script>alert(1)</script></html>", "embedded web page"),
    "pdf-with-javascript": ("letter.pdf", pdf(b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"), "scripts"),
    "decompression-bomb": ("bomb.png", png_header_only(100_000, 100_000), "is too large an image"),
    "over-the-pixel-limit": ("wide.png", png_header_only(9000, 5000), "is too large an image (9000×5000 pixels)"),
    "truncated-png": ("cut.png", png_bytes()[:-30], "is a damaged image that could not be read"),
    "garbage-after-png-signature": ("noise.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "is not an image"),
    "cut-short-pdf": ("half.pdf", pdf()[:-20], "is not a complete PDF file"),
    "empty": ("nothing.png", b"", "The submitted file is empty."),  # the form's own check comes first
    "oversized": ("big.png", _noise_png(), "is larger than 2.0\xa0KB"),
}
# The message as the page shows it (escaped) and as the API sends it.
MESSAGES = {key: "" if key == "empty" else f"“{name}” " for key, (name, _content, _why) in HOSTILE.items()}


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.EVIDENCE_MAX_BYTES = 2000  # "oversized" without sending megabytes; the others are smaller


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _upload(key: str) -> SimpleUploadedFile:
    name, content, _why = HOSTILE[key]
    return SimpleUploadedFile(name, content, "image/png")  # the browser's claim, which must not matter


@pytest.mark.parametrize("key", list(HOSTILE))
def test_the_filing_form_refuses_it_and_stores_nothing(client, user, other_user, settings, key):
    target = TargetFactory(owner=other_user)
    client.force_login(user)
    events = AuditEvent.objects.count()
    form = {"category": Category.HARASSMENT, "reason": "Insults in the lobby.", "good_faith": "on"}
    response = client.post(f"/report/new/?target={target.public_id}", {**form, "evidence": [_upload(key)]})
    assert response.status_code == 400
    html = response.content.decode()
    assert MESSAGES[key] in html and HOSTILE[key][2] in html.replace("&#x27;", "'")
    assert not Report.objects.exists() and not Evidence.objects.exists()
    assert AuditEvent.objects.count() == events
    assert media_files(settings) == []


def test_the_filing_form_takes_a_good_file(client, user, other_user):
    target = TargetFactory(owner=other_user)
    client.force_login(user)
    form = {"category": Category.HARASSMENT, "reason": "Insults.", "good_faith": "on"}
    good = SimpleUploadedFile("fine.png", png_bytes(), "image/png")
    assert client.post(f"/report/new/?target={target.public_id}", {**form, "evidence": [good]}).status_code == 302
    assert Evidence.objects.get().original_name == "fine.png"


@pytest.fixture
def notice(user):
    sanction = SanctionFactory(account=user)
    return NoticeFactory(recipient=user, sanction=sanction, kind=NoticeKind.STATEMENT_OF_REASONS)


@pytest.mark.parametrize("key", list(HOSTILE))
def test_the_appeal_form_refuses_it_and_stores_nothing(client, user, notice, settings, key):
    client.force_login(user)
    response = client.post(
        f"/account/notices/{notice.pk}/", {"text": "Please look again.", "attachment": [_upload(key)]}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert MESSAGES[key] in html and HOSTILE[key][2] in html.replace("&#x27;", "'")
    assert not Appeal.objects.exists()
    assert media_files(settings) == []


def test_the_appeal_form_takes_a_good_file(client, user, notice):
    client.force_login(user)
    good = SimpleUploadedFile("context.png", png_bytes(), "image/png")
    response = client.post(f"/account/notices/{notice.pk}/", {"text": "Please look again.", "attachment": [good]})
    assert response.status_code == 200 and Appeal.objects.get().attachment_name == "context.png"


@pytest.mark.parametrize("key", ["html-named-png", "png-html-polyglot", "decompression-bomb", "truncated-png"])
def test_the_reporters_appeal_refuses_it_with_a_message(client, user, settings, key):
    report = ReportFactory(reporter=user, status=ReportStatus.DISMISSED)
    client.force_login(user)
    response = client.post(
        f"/report/{report.pk}/appeal/", {"text": "Please look again.", "attachment": [_upload(key)]}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert MESSAGES[key] in html and HOSTILE[key][2] in html
    assert not Appeal.objects.exists()
    assert media_files(settings) == []


@pytest.mark.parametrize("key", list(HOSTILE))
def test_the_platform_api_refuses_it_as_a_snapshot(client, settings, key):
    headers = {"HTTP_AUTHORIZATION": f"Platform {platform_key()}"}
    body = {"kind": "file", "external_id": f"f-{key}", "file": base64.b64encode(HOSTILE[key][1]).decode()}
    response = client.post("/api/targets", body, content_type="application/json", **headers)
    assert response.status_code == 400, response.content
    [message] = response.json()["errors"]["file"]
    # The size and emptiness are checked on the base64 field itself; the content by the same checker.
    expected = {"oversized": "The file is larger than 2,000 bytes.", "empty": "The file is empty."}
    if key in expected:
        assert message == expected[key]
    else:
        assert message.startswith("“snapshot” ") and HOSTILE[key][2] in message
    assert not Target.objects.exists()
    assert media_files(settings) == []


def test_the_platform_api_takes_a_good_snapshot(client, settings):
    headers = {"HTTP_AUTHORIZATION": f"Platform {platform_key()}"}
    good = {"kind": "file", "external_id": "good", "file": base64.b64encode(png_bytes()).decode()}
    assert client.post("/api/targets", good, content_type="application/json", **headers).status_code == 201
    assert Target.objects.get(external_id="good").snapshot_content_type == "image/png"
    assert len(media_files(settings)) == 1
