"""moderation.auth.RoleAwareBackend: ModelBackend's answers and the role, from one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from moderation.auth import RoleAwareBackend
from moderation.roles import ROLE_PERMISSIONS, role_of
from tests.factories import UserFactory


@pytest.mark.parametrize("role", [None, "moderator", "compliance", "admin"])
def test_permissions_and_role_come_from_one_query(db, role, django_assert_num_queries):
    account = UserFactory(role=role) if role else UserFactory()
    # A permission granted to the account itself, outside any role.
    account.user_permissions.add(Permission.objects.get(codename="view_user", content_type__app_label="auth"))
    expected = ModelBackend().get_all_permissions(UserFactory._meta.model.objects.get(pk=account.pk))

    fresh = UserFactory._meta.model.objects.get(pk=account.pk)
    with django_assert_num_queries(1):
        found = RoleAwareBackend().get_all_permissions(fresh)
        assert role_of(fresh) == role
        assert fresh.has_perm("reports.view_queue") == (role is not None)
    assert found == expected
    assert (ROLE_PERMISSIONS[role] if role else set()) <= found
    assert RoleAwareBackend().get_user_permissions(fresh) == {"auth.view_user"}


def test_inactive_accounts_have_no_permissions(db):
    account = UserFactory(role="admin", is_active=False)
    assert RoleAwareBackend().get_all_permissions(account) == set()
    assert not account.has_perm("reports.view_queue")
