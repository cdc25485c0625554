"""What every page tells a signed-in person about their own account: the banner of base.html."""

from __future__ import annotations

from django.http import HttpRequest

from moderation.enforcement.selectors import account_banner


def account_standing(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    # A platform key's caller (reports.authentication.PlatformClient, e.g. on /api/docs) is nobody's account.
    if user is None or not user.is_authenticated or not hasattr(user, "groups"):
        return {}
    return {"account_banner": account_banner(account=user)}
