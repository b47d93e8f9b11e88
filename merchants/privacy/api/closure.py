"""``POST /api/v1/me/close``: the citizen closes their account (see
``merchants.privacy.closure`` for what is refused, erased and kept)."""

from __future__ import annotations

from django.contrib.auth import logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import InvalidRequest
from common.errors import PROBLEM_CONTENT_TYPE
from common.schema import ProblemSerializer, raises
from common.throttling import ScopedRateThrottle
from merchants.privacy import closure
from merchants.privacy.closure import AccountHasObligations
from wallet.api.citizen import request_citizen


class AccountCloseInputSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AccountClosedOutputSerializer(serializers.Serializer):
    closed_at = serializers.DateTimeField()


class ObligationOutputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(closure.OBLIGATION_MESSAGES))
    message = serializers.CharField()


class ObligationsProblemSerializer(ProblemSerializer):
    """The problem of a refused closure, with what must be settled first."""

    obligations = ObligationOutputSerializer(many=True)


@extend_schema(tags=["me"])
class AccountCloseView(APIView):
    """Close the account. The password confirms it is the citizen; the session or token
    that asked ends with every other."""

    # A stolen session must not become a way to guess the password.
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        operation_id="me_close",
        summary="Close my account",
        request=AccountCloseInputSerializer,
        responses={
            200: AccountClosedOutputSerializer,
            (409, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ObligationsProblemSerializer,
                "What remains is listed in `obligations`: `balance`, `hold`, `claim`, "
                "`bill`, `dispute`, `top_up`, `withdrawal`, `booking`.",
            ),
        },
    )
    @raises(InvalidRequest, AccountHasObligations)  # a wrong password; what remains
    def post(self, request: Request) -> Response:
        data = AccountCloseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = closure.account_close(
            user=request_citizen(request), password=data.validated_data["password"]
        )
        logout(request._request)
        return Response(AccountClosedOutputSerializer(user).data)
