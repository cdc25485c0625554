"""Enforcement's API: what limits an account now, for the platform's servers (a platform key) and
moderators. Never who reported the account."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from moderation.enforcement.selectors import my_restrictions, sign_in_block
from moderation.enforcement.serializers import AccountRestrictionsSerializer
from reports.api import ANY_AUTH, CanViewQueue, IsPlatform, error_responses


class PlatformOrStaff(BasePermission):
    message = "Only the platform's servers (a platform key) and moderation staff may read restrictions."

    def has_permission(self, request: Request, view) -> bool:
        return IsPlatform().has_permission(request, view) or CanViewQueue().has_permission(request, view)


class AccountRestrictionsView(APIView):
    permission_classes = [PlatformOrStaff]

    @extend_schema(
        operation_id="account_restrictions",
        auth=ANY_AUTH,
        summary="What limits an account now (platform key or moderators)",
        description=(
            "The sanctions in force on the account (timeouts, suspensions, termination, withheld "
            "payments), so the platform can enforce them. Never who reported the account."
        ),
        parameters=[
            OpenApiParameter(
                "accountId",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The account's id (as in owner_id and reporter_id).",
                examples=[OpenApiExample("An account", value=42)],
            )
        ],
        responses={200: AccountRestrictionsSerializer, **error_responses(401, 403, 404, 429)},
        tags=["accounts"],
    )
    def get(self, request: Request, accountId: str) -> Response:
        account = None
        if accountId.isascii() and accountId.isdigit() and len(accountId) < 19:
            account = get_user_model().objects.filter(pk=int(accountId)).first()
        if account is None:
            raise exceptions.NotFound(_("No such account."))
        body = {
            "account_id": account.pk,
            "sign_in_blocked": sign_in_block(account=account) is not None,
            "restrictions": my_restrictions(user=account),
        }
        return Response(AccountRestrictionsSerializer(body).data)
