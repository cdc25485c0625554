"""Absolute links for mail, which has no request to build them from (see SITE_URL in settings)."""

from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, *args: object) -> str:
    return settings.SITE_URL + reverse(viewname, args=args)
