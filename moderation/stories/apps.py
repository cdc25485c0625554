from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoriesConfig(AppConfig):
    name = "moderation.stories"
    label = "stories"
    verbose_name = _("Video story review")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from moderation.stories.reports_hooks import PrePublicationReview
        from reports import hooks

        # POST /api/targets (the reports app) holds a video story for review through this
        # registration; reports never imports moderation.
        hooks.register_pre_publication_review(PrePublicationReview())
