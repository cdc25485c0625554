"""How API callers prove who they are, and how fast each credential may go.

- A person: the session (with CSRF), or a personal token: ``Authorization: Token <key>``.
- The host platform's servers: a platform key: ``Authorization: Platform <key>``. The request then
  has no person behind it; ``request.user`` is a :class:`PlatformClient` with no permissions.

Only SHA-256 hashes of keys are stored. Rate limits per credential (per token, per platform key)
come from settings (API_TOKEN_RATE, PLATFORM_KEY_RATE); the per-person limit on filing is the
filing service's own (REPORTS_PER_HOUR_LIMIT), the same on the web and the API.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from audit.services import SystemActor
from config.prepared import PreparedQuery
from reports import hooks
from reports.models import ApiToken, PlatformKey
from reports.services import KEY_LOOKUP_LENGTH, hash_key

# last_used_at is a hint for the account page, not an audit record: written at most once a minute.
_TOUCH_EVERY = timedelta(minutes=1)


class PlatformClient:
    """``request.user`` for a platform key: signed in, but nobody's account and no permissions."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: PlatformKey) -> None:
        self.key = key
        self.username = f"platform:{key.name}"

    def __str__(self) -> str:
        return self.username

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    @property
    def actor(self) -> SystemActor:
        """The audit log's actor for what this key does."""
        return SystemActor(f"platform key {self.key.name}")


def _key_from_header(request: Request, keyword: bytes) -> str | None:
    parts = get_authorization_header(request).split()
    if not parts or parts[0].lower() != keyword.lower():
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(f"Invalid Authorization header: send '{keyword.decode()} <key>'.")
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed("Invalid key.") from None


def _find(model: type[PlatformKey], key: str) -> PlatformKey | None:
    digest = hash_key(key)
    for row in model.objects.filter(prefix=key[:KEY_LOOKUP_LENGTH], revoked_at__isnull=True):
        if hmac.compare_digest(row.key_hash, digest):
            return row
    return None


def _touch(row: ApiToken | PlatformKey) -> None:
    now = timezone.now()
    if row.last_used_at is None or row.last_used_at < now - _TOUCH_EVERY:
        type(row).objects.filter(pk=row.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - _TOUCH_EVERY)
        ).update(last_used_at=now)


def _token_queryset(prefix: str):
    """The token's one query: the token, its account with what filing reads of the account's standing,
    and whether a sanction keeps the account out (both asked of enforcement: reports/hooks.py), at
    the database's now() so that its SQL holds no time and is compiled once (config/prepared.py)."""
    enforcement = hooks.enforcement()
    # The profile rides along: the confirmation mail is written in the language chosen there.
    related = [f"user__{relation}" for relation in enforcement.account_relations] + ["user__profile"]
    return (
        ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)
        .select_related(*related)
        .annotate(user_blocked=enforcement.sign_in_blocked(OuterRef("user"), at=Now()))
    )


# Compiled once per thread: building and compiling it took 1.0 ms of a filing's ~8 ms of CPU, running
# its SQL through a cursor 0.1 ms (README, "Filing").
_TOKEN_QUERY = PreparedQuery(_token_queryset, markers={"prefix": "\x00token-prefix\x00"})


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <key>``: a person's own token, created on their account page."""

    keyword = b"Token"

    def authenticate(self, request: Request):
        key = _key_from_header(request, self.keyword)
        if key is None:
            return None
        # One query (_token_queryset), compiled once: the token, its account, the account's standing
        # and whether a sanction keeps the account out.
        digest = hash_key(key)
        candidates = _TOKEN_QUERY.run(prefix=key[:KEY_LOOKUP_LENGTH])
        token = next((row for row in candidates if hmac.compare_digest(row.key_hash, digest)), None)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("This account is deactivated.")
        if getattr(token, "user_blocked", False):
            raise exceptions.PermissionDenied(_("This account is suspended; it cannot use the API."))
        _touch(token)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class PlatformKeyAuthentication(BaseAuthentication):
    """``Authorization: Platform <key>``: the host platform's servers (manage.py create_platform_key)."""

    keyword = b"Platform"

    def authenticate(self, request: Request):
        key = _key_from_header(request, self.keyword)
        if key is None:
            return None
        platform_key = _find(PlatformKey, key)
        if platform_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked platform key.")
        _touch(platform_key)
        return PlatformClient(platform_key), platform_key

    def authenticate_header(self, request: Request) -> str:
        return 'Platform realm="api"'


class CredentialRateThrottle(SimpleRateThrottle):
    """Requests per personal token (API_TOKEN_RATE) and per platform key (PLATFORM_KEY_RATE).

    The rate is read from settings on every request, so it can be changed without a restart of
    the class machinery (and in tests). Sessions are limited by the filing service's per-person
    limit only. A rate of "off" turns the limit off.
    """

    def __init__(self) -> None:
        self.rate = None

    def allow_request(self, request: Request, view: Any) -> bool:
        auth = request.auth
        if isinstance(auth, ApiToken):
            self.rate = settings.API_TOKEN_RATE
        elif isinstance(auth, PlatformKey):
            self.rate = settings.PLATFORM_KEY_RATE
        else:
            return True
        if not self.rate or self.rate == "off":
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        kind = "token" if isinstance(request.auth, ApiToken) else "platform"
        return f"throttle:api:{kind}:{request.auth.pk}"


# --- how drf-spectacular documents the two schemes (defined in settings.SPECTACULAR_SETTINGS) ---------


def _scheme(name: str) -> dict[str, str]:
    return settings.SPECTACULAR_SETTINGS["APPEND_COMPONENTS"]["securitySchemes"][name]


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "reports.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return _scheme(self.name)


class PlatformKeyScheme(OpenApiAuthenticationExtension):
    target_class = "reports.authentication.PlatformKeyAuthentication"
    name = "platformKey"

    def get_security_definition(self, auto_schema):
        return _scheme(self.name)
