"""Top-ups, withdrawals and the providers' webhook. Thin: validate, call a service or a
selector, serialize."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import idempotent
from common.schema import problem_responses
from common.views import list_schema
from wallet import selectors as wallet_selectors
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.serializers import WalletOutputSerializer
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.models import Payout, TopUp, User
from wallet.payments import selectors, services
from wallet.payments.api.serializers import (
    AmountInputSerializer,
    LimitProblemSerializer,
    TopUpCreatedOutputSerializer,
    TopUpOutputSerializer,
    WebhookOutputSerializer,
    WithdrawalCreatedOutputSerializer,
    WithdrawalOutputSerializer,
)
from wallet.payments.providers import SignedNotification

LIMIT_RESPONSE = {
    (422, "application/problem+json"): OpenApiResponse(
        LimitProblemSerializer,
        "Refused: `top_up_limit` or `withdrawal_limit` (with `limit` and `period`), "
        "`insufficient_funds`, `no_payout_destination`.",
    )
}


def _with_wallet(body: dict[str, Any], user: User) -> dict[str, Any]:

    return {
        **body,
        "wallet": WalletOutputSerializer(wallet_selectors.wallet_summary(user=user)).data,
    }


@extend_schema(tags=["wallet"])
@list_schema("me_top_ups", TopUpOutputSerializer)
class TopUpListCreateView(CitizenListView):
    """The citizen's top-ups (GET), and a new one through the payment provider (POST)."""

    model = TopUp
    serializer_class = TopUpOutputSerializer

    def own_rows(self, user: User) -> QuerySet[TopUp]:
        return selectors.top_ups_of(user=user)

    @extend_schema(
        operation_id="me_top_up",
        request=AmountInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: TopUpCreatedOutputSerializer,
            **problem_responses(400, 401, 409, 503),
            **LIMIT_RESPONSE,
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = AmountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = request_citizen(request)
        top_up = services.top_up_start(user=citizen, amount=data.validated_data["amount"])
        body = _with_wallet(TopUpOutputSerializer(top_up).data, citizen)
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["wallet"])
class TopUpDetailView(APIView):
    @extend_schema(
        operation_id="me_top_up_detail",
        responses={200: TopUpOutputSerializer, **problem_responses(401, 404)},
    )
    def get(self, request: Request, top_up_id: str) -> Response:
        top_up = selectors.top_up_of(user=request_citizen(request), top_up_id=top_up_id)
        return Response(TopUpOutputSerializer(top_up).data)


@extend_schema(tags=["wallet"])
@list_schema("me_withdrawals", WithdrawalOutputSerializer)
class WithdrawalListCreateView(CitizenListView):
    """The citizen's withdrawals (GET), and a new one to their registered destination."""

    model = Payout
    serializer_class = WithdrawalOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Payout]:
        return selectors.withdrawals_of(user=user)

    @extend_schema(
        operation_id="me_withdraw",
        request=AmountInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: WithdrawalCreatedOutputSerializer,
            **problem_responses(400, 401, 409),
            **LIMIT_RESPONSE,
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = AmountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = request_citizen(request)
        payout = services.withdrawal_create(user=citizen, amount=data.validated_data["amount"])
        payout.refresh_from_db()
        body = _with_wallet(WithdrawalOutputSerializer(payout).data, citizen)
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["payments"])
class WebhookView(APIView):
    """A payment provider's signed notification. The signature is checked against the
    exact bytes received; a replay of an event already received answers 200 and changes
    nothing."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="payments_webhook",
        request={"application/json": {"type": "object"}},
        responses={200: WebhookOutputSerializer, **problem_responses(400, 404)},
    )
    def post(self, request: Request, provider: str) -> Response:
        signed = SignedNotification(headers=dict(request.headers), body=request.body)
        services.notification_receive(provider_name=provider, signed=signed)
        return Response({"received": True})
