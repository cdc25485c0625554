"""The filing form keeps the evidence it was given when it comes back with an error (issue 17, item 3):
the file is checked, kept for the person's session, shown as attached with a way to remove it,
and filed with the report on the next try; never silently dropped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from reports.models import Evidence, HeldEvidence, Report
from tests.conftest import png_bytes
from tests.factories import TargetFactory
from tests.html import attr, elements, text
from tests.test_reports_views import form_data, new_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def target(other_user):
    return TargetFactory(owner=other_user)


def photo(name="photo.png"):
    return SimpleUploadedFile(name, png_bytes(), "image/png")


def held_ids(html: str) -> list[str]:
    return [attr(i, "value") for i in elements(html, "input", name="held_evidence")]


def test_an_error_elsewhere_keeps_the_chosen_file_and_says_so(signed_in, target):
    response = signed_in.post(new_url(target), form_data(good_faith="", evidence=[photo()]))
    assert response.status_code == 400
    html = response.content.decode()
    [held] = elements(html, "div", id="held-evidence")
    assert "photo.png" in text(held) and "attached" in text(held)
    assert [attr(i, "value") for i in elements(held, "input", name="remove_evidence")] == held_ids(html)
    row = HeldEvidence.objects.get()
    assert row.original_name == "photo.png" and row.content_type == "image/png"

    # The next try sends it back by id (the browser's file input is empty) and it is filed.
    response = signed_in.post(new_url(target), form_data(held_evidence=held_ids(html)))
    assert response.status_code == 302
    [evidence] = Evidence.objects.filter(report=Report.objects.get())
    assert evidence.original_name == "photo.png" and evidence.sha256 == row.sha256
    assert not HeldEvidence.objects.exists()


def test_a_removed_file_is_not_filed(signed_in, target):
    html = signed_in.post(new_url(target), form_data(good_faith="", evidence=[photo()])).content.decode()
    ids = held_ids(html)
    response = signed_in.post(new_url(target), form_data(held_evidence=ids, remove_evidence=ids))
    assert response.status_code == 302
    assert not Evidence.objects.exists()


def test_held_files_survive_several_errors_and_count_toward_the_limit(signed_in, target, settings):
    settings.EVIDENCE_MAX_FILES = 2
    html = signed_in.post(new_url(target), form_data(good_faith="", evidence=[photo("a.png")])).content.decode()
    html = signed_in.post(
        new_url(target), form_data(reason="", held_evidence=held_ids(html), evidence=[photo("b.png")])
    ).content.decode()
    assert sorted(text(n) for n in elements(html, "span", class_="held-name")) == ["a.png", "b.png"]
    too_many = signed_in.post(new_url(target), form_data(held_evidence=held_ids(html), evidence=[photo("c.png")]))
    assert too_many.status_code == 400 and "Attach at most 2 files." in too_many.content.decode()
    assert len(held_ids(too_many.content.decode())) == 2  # still attached, nothing lost
    signed_in.post(new_url(target), form_data(held_evidence=held_ids(html)))
    assert sorted(Evidence.objects.values_list("original_name", flat=True)) == ["a.png", "b.png"]


def test_a_bad_file_is_refused_at_once_by_name(signed_in, target):
    bad = SimpleUploadedFile("notes.png", b"not a picture at all", "image/png")
    response = signed_in.post(new_url(target), form_data(good_faith="", evidence=[bad]))
    assert "“notes.png” is not an image" in response.content.decode()
    assert not HeldEvidence.objects.exists()


def test_another_session_cannot_attach_held_files(signed_in, target, other_user, user):
    html = signed_in.post(new_url(target), form_data(good_faith="", evidence=[photo()])).content.decode()
    ids = held_ids(html)
    from django.test import Client

    thief = Client()
    thief.force_login(user)  # the same person, another session: the ids are not in its session
    third = TargetFactory(owner=other_user)
    assert thief.post(new_url(third), form_data(held_evidence=ids)).status_code == 302
    assert not Evidence.objects.exists()


def test_expired_held_files_are_not_attached(signed_in, target, settings):
    html = signed_in.post(new_url(target), form_data(good_faith="", evidence=[photo()])).content.decode()
    HeldEvidence.objects.update(created_at=timezone.now() - timedelta(minutes=settings.HELD_EVIDENCE_MINUTES + 1))
    signed_in.post(new_url(target), form_data(held_evidence=held_ids(html)))
    assert Report.objects.count() == 1 and not Evidence.objects.exists()
