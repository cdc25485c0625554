"""config/serializers.ModelSerializer: the model's fields worked out once per class, a fresh copy
bound to each serializer, and the same output as DRF's own ModelSerializer."""

import pytest
from rest_framework import serializers

from config.serializers import ModelSerializer
from reports.models import Report
from reports.serializers import ReportSerializer
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_the_fields_are_built_once_per_class_and_each_serializer_gets_its_own_copy(monkeypatch):
    built = []
    original = serializers.ModelSerializer.get_fields

    def counting(self):
        built.append(type(self))
        return original(self)

    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", counting)

    class Probe(ModelSerializer):
        class Meta:
            model = Report
            fields = ["id", "status", "category"]

    first, second = Probe(), Probe()
    assert list(first.fields) == ["id", "status", "category"]
    assert list(second.fields) == ["id", "status", "category"]
    assert built == [Probe]  # introspected once, for the class
    assert first.fields["status"] is not second.fields["status"]
    assert first.fields["status"].parent is first and second.fields["status"].parent is second


def test_a_report_reads_the_same_as_through_drfs_own_model_serializer():
    class Plain(serializers.ModelSerializer):
        target_id = serializers.UUIDField(source="target.public_id", read_only=True)

        class Meta:
            model = Report
            fields = ReportSerializer.Meta.fields

    for report in ReportFactory.create_batch(3):
        assert ReportSerializer(report).data == Plain(report).data
