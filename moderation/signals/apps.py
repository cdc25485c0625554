from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "moderation.signals"
    label = "signals"
    verbose_name = "Machine signals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from moderation.signals.reports_hooks import MediaCheck
        from reports import hooks

        # New snapshots and evidence files (filed in the reports app) are matched against the hash
        # bank through this registration; reports never imports moderation.
        hooks.register_media_check(MediaCheck())
