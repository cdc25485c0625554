"""Template access to a user's own enforcement state, for pages of other apps (the account page)
without those apps importing moderation."""

from django import template

from moderation.enforcement_selectors import my_restrictions
from moderation.models import Notice

register = template.Library()


@register.simple_tag
def restrictions_of(user):
    return my_restrictions(user=user) if user.is_authenticated else []


@register.simple_tag
def notice_count_of(user) -> int:
    return Notice.objects.filter(recipient=user).count() if user.is_authenticated else 0
