"""API credentials: personal tokens (services, the account page), platform keys (the command), and
how each is checked: hashed at rest, refused once revoked, refused for suspended accounts."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from moderation.enforcement.actions import ActionKind
from moderation.enforcement.models import SanctionStatus
from reports import services
from reports.models import ApiToken, PlatformKey
from tests.factories import SanctionFactory, UserFactory, api_token_key

pytestmark = pytest.mark.django_db

MINE = "/api/reports/mine"


def as_token(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


# --- tokens: services ------------------------------------------------------------------------------


def test_token_is_stored_hashed_and_audited(user):
    token, key = services.api_token_create(actor=user, name="  phone app ")
    assert key.startswith("rdt_") and len(key) > 40
    token.refresh_from_db()
    assert token.name == "phone app" and token.user == user
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12]
    assert not ApiToken.objects.filter(key_hash=key).exists()
    event = AuditEvent.objects.get(event_type="api_token.created")
    assert event.actor == user and event.object_id == str(token.pk)
    assert key not in str(event.after) and key not in str(event.data)


def test_token_name_is_required_and_tokens_are_limited(user):
    with pytest.raises(services.ValidationError):
        services.api_token_create(actor=user, name="  ")
    for n in range(services.API_TOKENS_PER_USER):
        services.api_token_create(actor=user, name=f"t{n}")
    with pytest.raises(services.ValidationError):
        services.api_token_create(actor=user, name="one too many")


def test_revoke_is_audited_and_only_for_ones_own_tokens(user, other_user):
    token, _ = services.api_token_create(actor=user, name="script")
    with pytest.raises(ApiToken.DoesNotExist):
        services.api_token_revoke(actor=other_user, token_id=token.pk)
    services.api_token_revoke(actor=user, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(event_type="api_token.revoked", object_id=str(token.pk)).count() == 1
    services.api_token_revoke(actor=user, token_id=token.pk)  # again: nothing more happens
    assert AuditEvent.objects.filter(event_type="api_token.revoked").count() == 1


# --- tokens: authentication ------------------------------------------------------------------------


def test_a_token_acts_as_its_user_and_records_its_use(client, user):
    token, key = services.api_token_create(actor=user, name="script")
    assert token.last_used_at is None
    assert client.get(MINE, headers=as_token(key)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["Token", "Token rdt_wrong", "Token a b", "Token ünïcode", "Bearer x", "Platform rdt_x", "Basic dXNlcjpwYXNz"],
)
def test_bad_credentials_are_401(client, user, header):
    api_token_key(user)
    response = client.get(MINE, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_revoked_token_is_401(client, user):
    token, key = services.api_token_create(actor=user, name="script")
    services.api_token_revoke(actor=user, token_id=token.pk)
    assert client.get(MINE, headers=as_token(key)).status_code == 401


def test_a_deactivated_account_cannot_use_its_token(client, user):
    key = api_token_key(user)
    user.is_active = False
    user.save()
    assert client.get(MINE, headers=as_token(key)).status_code == 401


def test_a_suspended_account_cannot_use_its_token(client, user):
    key = api_token_key(user)
    SanctionFactory(
        account=user,
        kind=ActionKind.SUSPENSION,
        status=SanctionStatus.ACTIVE,
        ends_at=timezone.now() + timedelta(days=2),
    )
    response = client.get(MINE, headers=as_token(key))
    assert response.status_code == 403
    assert "suspended" in response.json()["detail"]


# --- platform keys -----------------------------------------------------------------------------------


def test_create_platform_key_prints_the_key_once_and_stores_its_hash(client):
    out = StringIO()
    call_command("create_platform_key", "chat-backend", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("rdp_")
    stored = PlatformKey.objects.get(name="chat-backend")
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {stored.prefix, stored.key_hash}
    event = AuditEvent.objects.get(event_type="platform_key.created")
    assert event.actor_label == "system" and key not in str(event.after)
    body = {"kind": "message", "external_id": "m-1"}
    response = client.post(
        "/api/targets", data=body, content_type="application/json", headers={"Authorization": f"Platform {key}"}
    )
    assert response.status_code == 201


def test_create_platform_key_refuses_a_duplicate_name():
    call_command("create_platform_key", "chat-backend", stdout=StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_platform_key", "chat-backend", stdout=StringIO())


def test_a_revoked_platform_key_is_401(client):
    platform_key, key = services.platform_key_create(actor=services.audit.SYSTEM, name="old")
    PlatformKey.objects.filter(pk=platform_key.pk).update(revoked_at=timezone.now())
    response = client.post(
        "/api/targets", data={}, content_type="application/json", headers={"Authorization": f"Platform {key}"}
    )
    assert response.status_code == 401


def test_a_personal_token_is_not_a_platform_key(client, user):
    key = api_token_key(user)
    assert client.get(MINE, headers={"Authorization": f"Platform {key}"}).status_code == 401


# --- the account page ---------------------------------------------------------------------------------


def test_account_page_needs_sign_in(client):
    response = client.get("/account/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_account_page_shows_role_and_tokens_without_their_keys(client, user):
    moderator = UserFactory(username="pagemod", role="moderator")
    token, key = services.api_token_create(actor=moderator, name="queue script")
    client.force_login(moderator)
    response = client.get("/account/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Moderator" in html and "queue script" in html and token.prefix in html
    assert key not in html
    assert response["Cache-Control"] == "no-store"
    assert 'href="/account/"' in html and 'aria-current="page">Account' in html


def test_creating_a_token_shows_the_key_once(client, user):
    client.force_login(user)
    response = client.post("/account/tokens/", {"name": "my script"})
    assert response.status_code == 201
    token = ApiToken.objects.get(user=user)
    html = response.content.decode()
    start = html.index('id="new-token-key">') + len('id="new-token-key">')
    key = html[start : html.index("</code>", start)]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert response["Cache-Control"] == "no-store"
    assert key not in client.get("/account/").content.decode()
    assert client.get(MINE, headers=as_token(key)).status_code == 200


def test_creating_a_token_without_a_name_is_refused(client, user):
    client.force_login(user)
    response = client.post("/account/tokens/", {"name": ""})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_revoking_from_the_page(client, user, other_user):
    token, key = services.api_token_create(actor=user, name="old script")
    theirs, _ = services.api_token_create(actor=other_user, name="theirs")
    client.force_login(user)
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    response = client.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert response.status_code == 200
    assert "revoked" in response.content.decode()
    assert client.get(MINE, headers=as_token(key)).status_code == 401
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405


def test_the_page_is_csrf_protected(user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post("/account/tokens/", {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()
