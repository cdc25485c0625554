from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoriesConfig(AppConfig):
    name = "moderation.stories"
    label = "stories"
    verbose_name = _("Video story review")
    default_auto_field = "django.db.models.BigAutoField"
