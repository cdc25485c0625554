from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "benchmarks"
    verbose_name = "Benchmarks and drills (outside production)"
    default_auto_field = "django.db.models.BigAutoField"
