import pytest

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD


@pytest.mark.django_db(transaction=True)
def test_sign_in_shows_the_role_and_the_users_navigation(page, user):
    sign_in(page, user.username, PASSWORD)
    assert page.locator(".user-name").inner_text() == user.username
    assert page.locator(".role-badge").inner_text().strip().lower() == "user"
    assert page.locator(".main-nav a", has_text="My reports").count() == 1
    assert page.locator(".main-nav a", has_text="Queue").count() == 0
