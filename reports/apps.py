from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # The account's language is put into the session at sign-in (a user_logged_in receiver).
        from config import i18n  # noqa: F401
