"""Serializers of enforcement's API: an account's restrictions."""

from __future__ import annotations

from rest_framework import serializers

from config.serializers import ModelSerializer
from moderation.enforcement.actions import ACTION_RULES
from moderation.enforcement.models import Sanction


class RestrictionSerializer(ModelSerializer):
    sanction_id = serializers.UUIDField(source="id", read_only=True)
    blocks_sign_in = serializers.SerializerMethodField()

    class Meta:
        model = Sanction
        fields = ["sanction_id", "kind", "starts_at", "ends_at", "blocks_sign_in"]
        read_only_fields = fields

    def get_blocks_sign_in(self, sanction: Sanction) -> bool:
        return ACTION_RULES[sanction.kind].blocks_sign_in


class AccountRestrictionsSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    sign_in_blocked = serializers.BooleanField(help_text="True while a suspension or termination is in force.")
    restrictions = RestrictionSerializer(many=True, help_text="What limits the account now (never who reported it).")
