from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "moderation.enforcement"
    label = "enforcement"
    verbose_name = "Enforcement"

    def ready(self) -> None:
        from moderation.enforcement.reports_hooks import ReportsHooks
        from reports import hooks

        # The reports app asks enforcement about accounts through this registration, never by import.
        hooks.register(ReportsHooks())
