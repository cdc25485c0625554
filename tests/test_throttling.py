"""Sign-in attempts and anonymous complaints are throttled; a success resets the sign-in count."""

import pytest
from django.urls import reverse

from reports import services
from reports.models import Report
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_is_throttled_after_repeated_failures(client, user, settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    for _ in range(3):
        response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
        assert "Too many" not in response.content.decode()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200 and "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password waits


def test_a_successful_sign_in_resets_the_count(client, user, settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    for _ in range(2):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    client.logout()
    for _ in range(2):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302


COMPLAINT = {
    "name": "Ann",
    "email": "ann@example.test",
    "content_kind": "message",
    "location": "#lobby",
    "category": "spam",
    "description": "Bot spam",
}


def test_anonymous_complaints_are_limited_per_address(client, settings):
    settings.COMPLAINTS_PER_HOUR_PER_ADDRESS = 2
    form = {**COMPLAINT, "good_faith": "on"}
    for _ in range(2):
        assert client.post(reverse("reports:complaint"), form).status_code == 200
    response = client.post(reverse("reports:complaint"), form)
    assert response.status_code == 429 and "Too many complaints" in response.content.decode()
    assert Report.objects.count() == 2


def test_the_complaint_limit_is_the_filing_services_per_address(db, settings):
    settings.COMPLAINTS_PER_HOUR_PER_ADDRESS = 1
    complaint = {**COMPLAINT, "good_faith": True}
    services.complaint_file(**complaint, client_address="198.51.100.7")
    with pytest.raises(services.RateLimitExceeded) as refused:
        services.complaint_file(**complaint, client_address="198.51.100.7")
    assert 0 < refused.value.retry_after <= services.COMPLAINT_WINDOW_SECONDS
    services.complaint_file(**complaint, client_address="203.0.113.9")  # another address has its own count
    assert Report.objects.count() == 2


def test_many_usernames_from_one_address_are_throttled(client, user, settings):
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = 4
    for n in range(4):
        client.post(reverse("login"), {"username": f"guess{n}", "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert "Too many failed sign-in attempts" in response.content.decode()
