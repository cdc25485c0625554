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


def test_a_plain_serializers_fields_are_its_own_and_a_list_of_nested_items_still_validates():
    """config/serializers.Serializer: shallow copies of the declared fields, bound to each serializer;
    a field holding other fields (a list of a nested serializer) is deep-copied, so its inner fields
    are bound to the copy and errors still name the item."""
    from config.serializers import Serializer

    class Item(Serializer):
        name = serializers.CharField(max_length=5)

    class Body(Serializer):
        title = serializers.CharField(max_length=10)
        items = Item(many=True)
        tags = serializers.ListField(child=serializers.CharField(max_length=3))

    first, second = Body(), Body()
    assert first.fields["title"] is not second.fields["title"] and first.fields["title"].parent is first
    assert first.fields["items"] is not second.fields["items"]
    assert first.fields["tags"].child is not Body._declared_fields["tags"].child
    good = Body(data={"title": "hello", "items": [{"name": "ab"}], "tags": ["x"]})
    assert good.is_valid(), good.errors
    assert good.validated_data["items"] == [{"name": "ab"}]
    bad = Body(data={"title": "a" * 11, "items": [{"name": "toolong"}], "tags": ["long"]})
    assert not bad.is_valid()
    assert set(bad.errors) == {"title", "items", "tags"} and "name" in bad.errors["items"][0]
    # The class's own fields were never bound: each serializer binds only its copies.
    assert Body._declared_fields["title"].parent is None and Body._declared_fields["title"].field_name is None
