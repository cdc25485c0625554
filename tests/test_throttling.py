"""Sign-in attempts and anonymous complaints are throttled by their source; a success resets the sign-in count."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from reports import services
from reports.models import Report
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sign_in_is_locked_for_that_name_from_that_address_after_repeated_failures(client, user, settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    for _ in range(2):
        response = sign_in(client, user.username, "wrong")
        assert response.status_code == 200 and "Too many" not in response.content.decode()
    # The third failure reaches the limit; from then on even the right password waits, on our page.
    assert sign_in(client, user.username, "wrong").status_code == 429
    response = sign_in(client, user.username, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in page and 'name="password"' in page
    assert "_auth_user_id" not in client.session


def test_the_right_password_from_another_address_still_signs_in(client, user, settings):
    """The lockout is the attacker's (name, address), never the account's: its owner elsewhere is not locked out."""
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    for _ in range(5):
        sign_in(client, user.username, "wrong", address="203.0.113.9")
    assert sign_in(client, user.username, PASSWORD, address="203.0.113.9").status_code == 429
    assert sign_in(client, user.username, PASSWORD, address="198.51.100.4").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_successful_sign_in_resets_the_count(client, user, settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 3
    for _ in range(2):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_window(client, user, settings):
    settings.LOGIN_ATTEMPTS_LIMIT = 2
    for _ in range(2):
        sign_in(client, user.username, "wrong")
    assert sign_in(client, user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(seconds=settings.LOGIN_ATTEMPTS_WINDOW_SECONDS + 1)
    )
    assert sign_in(client, user.username, PASSWORD).status_code == 302


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
        assert client.post(reverse("reports:complaint"), form).status_code == 302  # to its thank-you page
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
    """Password spraying: a few tries at many names from one address. Ours, not axes' (one limit only)."""
    settings.LOGIN_ATTEMPTS_PER_ADDRESS = 4
    for n in range(4):
        sign_in(client, f"guess{n}", "wrong")
    response = sign_in(client, user.username, PASSWORD)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert sign_in(client, user.username, PASSWORD, address="198.51.100.4").status_code == 302
