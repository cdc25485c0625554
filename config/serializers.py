"""The project's bases for DRF serializers: each serializer's fields copied from fields built once.

DRF gives every serializer instance its own fields by deep-copying them, which re-creates each field
from its arguments; a model serializer also works its fields out from the model every time. For the
two serializers of a filing (the body it reads, the report it answers with) that was 0.22 ms of the
request's ~4.5 ms of CPU in one process (README, "Filing"). Here the fields are built once per class
and each serializer gets shallow copies, which DRF then binds to it (name, parent, source): a field
holds no per-serializer state until it is bound. A field that holds other fields (a list's child, a
nested serializer) is still deep-copied, since its inner fields are bound to it.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import fields as drf_fields
from rest_framework import relations, serializers

_HOLDS_FIELDS = (serializers.BaseSerializer, drf_fields.ListField, drf_fields.DictField, relations.ManyRelatedField)


def fresh_fields(built: dict[str, Any]) -> dict[str, Any]:
    """A serializer's own copies of `built` (never bound themselves)."""
    return {
        name: copy.deepcopy(field) if isinstance(field, _HOLDS_FIELDS) else copy.copy(field)
        for name, field in built.items()
    }


class Serializer(serializers.Serializer):
    """DRF's Serializer with its declared fields copied as above."""

    def get_fields(self) -> dict[str, Any]:
        return fresh_fields(self._declared_fields)


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer with its fields worked out from the model once per class, then copied as
    above. Its fields depend only on the class (its Meta and declared fields), never on the instance,
    the data or the context, so a subclass that builds them from those must not use this base."""

    def get_fields(self) -> dict[str, Any]:
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            # Two threads may both build it the first time: the same fields, either one kept.
            built = super().get_fields()
            cls._fields_built_once = built
        return fresh_fields(built)
