from django.apps import AppConfig


class HashBankConfig(AppConfig):
    name = "moderation.hashbank"
    label = "hashbank"
    verbose_name = "Hash bank"
    default_auto_field = "django.db.models.BigAutoField"
