from django.http import HttpRequest

from moderation.roles import role_of


def navigation(request: HttpRequest) -> dict[str, object]:
    """The signed-in user's role, for the header badge and the role-fitted navigation."""
    user = getattr(request, "user", None)
    # A platform key's caller (reports.authentication.PlatformClient, e.g. on /api/docs) is nobody's account.
    if user is None or not user.is_authenticated or not hasattr(user, "groups"):
        return {"current_role": None}
    return {"current_role": role_of(user)}
