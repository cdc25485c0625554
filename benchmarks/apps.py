from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "benchmarks"
    verbose_name = "Benchmarks (baseline only)"
    default_auto_field = "django.db.models.BigAutoField"
