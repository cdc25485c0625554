from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def restore_append_only_triggers(sender, using, **kwargs) -> None:
    """After every migrate: the append-only triggers are there as audit/triggers.py says, whatever
    was dropped, disabled or altered since (migrate runs as the owner, who alone can)."""
    from audit import triggers

    connection = connections[using]
    if triggers.TABLE in connection.introspection.table_names():
        triggers.install(connection)


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import checks  # noqa: F401  (registers the deployment check)

        post_migrate.connect(restore_append_only_triggers, sender=self)
