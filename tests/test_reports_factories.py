"""There is a factory for every model of the project, and each builds a valid row."""

from __future__ import annotations

import factory
import pytest
from django.apps import apps

from audit import services as audit_services
from audit.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db
PROJECT_APPS = ("audit", "reports", "moderation")


def project_models() -> set[type]:
    return {model for app in PROJECT_APPS for model in apps.get_app_config(app).get_models()}


def all_factories() -> dict[type, type]:
    found = {}
    for value in vars(factories).values():
        if isinstance(value, type) and issubclass(value, factory.Factory) and value._meta.model is not None:
            found[value._meta.model] = value
    return found


def test_every_project_model_has_a_factory():
    missing = {model.__name__ for model in project_models()} - {model.__name__ for model in all_factories()}
    assert not missing, f"no factory for: {sorted(missing)}"


@pytest.mark.parametrize("model", sorted(project_models(), key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_each_factory_builds_a_valid_saved_row(model):
    instance = all_factories()[model]()
    assert instance.pk is not None
    assert model.objects.filter(pk=instance.pk).exists()
    # AuditEvent is validated by audit.record; full_clean would also flag the server-set hashes.
    if model is not AuditEvent:
        instance.full_clean()


def test_the_audit_event_factory_goes_through_the_hash_chain():
    first, second = factories.AuditEventFactory(), factories.AuditEventFactory(event_type="report.reviewed")
    assert audit_services.seal_pending() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.prev_hash == first.hash and second.event_type == "report.reviewed"
