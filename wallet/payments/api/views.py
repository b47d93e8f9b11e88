"""Top-ups, withdrawals and the providers' webhook. Thin: validate, call a service or a
selector, serialize."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import idempotent
from common.schema import raises
from common.views import list_schema
from wallet import selectors as wallet_selectors
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.serializers import WalletOutputSerializer
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.errors import InsufficientFunds, InvalidAmount
from wallet.models import Payout, TopUp, User
from wallet.payments import selectors, services
from wallet.payments.api.serializers import (
    AmountInputSerializer,
    LimitProblemSerializer,
    NotificationInputSerializer,
    TopUpCreatedOutputSerializer,
    TopUpInputSerializer,
    TopUpOutputSerializer,
    WebhookOutputSerializer,
    WithdrawalCreatedOutputSerializer,
    WithdrawalOutputSerializer,
)
from wallet.payments.limits import TopUpLimit, WithdrawalLimit
from wallet.payments.providers import (
    InvalidSignature,
    ProviderUnavailable,
    SignedNotification,
    UnknownProvider,
)
from wallet.payments.services import NoPayoutDestination


def _refused(description: str) -> dict[Any, OpenApiResponse]:
    return {(422, "application/problem+json"): OpenApiResponse(LimitProblemSerializer, description)}


TOP_UP_CREATED = OpenApiResponse(
    TopUpCreatedOutputSerializer,
    "Opened. `pending` with `checkout_url`: the payer goes there to pay, comes back to "
    "`/app/#/wallet?top_up=<id>`, and the wallet is credited when the provider confirms. "
    "`succeeded` with `transaction` when the provider confirmed at once (the sandbox with "
    "auto-confirm). `wallet` is the wallet now.",
)
WITHDRAWAL_CREATED = OpenApiResponse(
    WithdrawalCreatedOutputSerializer,
    "Requested: the amount has left the wallet's balance (`wallet`), and is `pending` until "
    "the provider pays it (`paid`) or fails to (`failed`: the amount comes back).",
)


def _with_wallet(body: dict[str, Any], user: User) -> dict[str, Any]:
    return {
        **body,
        "wallet": WalletOutputSerializer(wallet_selectors.wallet_summary(user=user)).data,
    }


@extend_schema(tags=["wallet"])
@list_schema(
    "me_top_ups",
    TopUpOutputSerializer,
    summary="List my top-ups",
    description="The citizen's top-ups, newest first, pending ones included.",
)
class TopUpListCreateView(CitizenListView):
    """The citizen's top-ups (GET), and a new one through the payment provider (POST)."""

    model = TopUp
    serializer_class = TopUpOutputSerializer

    def own_rows(self, user: User) -> QuerySet[TopUp]:
        return selectors.top_ups_of(user=user)

    @extend_schema(
        operation_id="me_top_up",
        summary="Top up the wallet",
        description=(
            "Add money through the payment provider, within what the citizen's identity "
            "level allows. A top-up the payer has not completed in "
            f"{int(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER.total_seconds() // 60)} minutes "
            "expires."
        ),
        request=TopUpInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: TOP_UP_CREATED,
            **_refused(
                "A limit's refusal carries `limit` (minor units) and `period` (`day`, "
                "`month`, `balance`)."
            ),
        },
    )
    @raises(InvalidAmount, TopUpLimit, ProviderUnavailable)
    @idempotent
    def post(self, request: Request) -> Response:
        data = TopUpInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = request_citizen(request)
        top_up = services.top_up_start(user=citizen, amount=data.validated_data["amount"])
        body = _with_wallet(TopUpOutputSerializer(top_up).data, citizen)
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["wallet"])
class TopUpDetailView(APIView):
    @extend_schema(
        operation_id="me_top_up_detail",
        summary="Get one of my top-ups",
        description="One top-up: pending until the provider confirms it (or it expires).",
        responses={200: TopUpOutputSerializer},
    )
    def get(self, request: Request, top_up_id: str) -> Response:
        top_up = selectors.top_up_of(user=request_citizen(request), top_up_id=top_up_id)
        return Response(TopUpOutputSerializer(top_up).data)


@extend_schema(tags=["wallet"])
@list_schema(
    "me_withdrawals",
    WithdrawalOutputSerializer,
    summary="List my withdrawals",
    description="The citizen's withdrawals to their registered destination, newest first.",
)
class WithdrawalListCreateView(CitizenListView):
    """The citizen's withdrawals (GET), and a new one to their registered destination."""

    model = Payout
    serializer_class = WithdrawalOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Payout]:
        return selectors.withdrawals_of(user=user)

    @extend_schema(
        operation_id="me_withdraw",
        summary="Withdraw to my registered destination",
        description=(
            "Move money out of the wallet to the destination the first top-up registered "
            "(none before a top-up), within the available balance and the daily limit of "
            "the citizen's identity level."
        ),
        request=AmountInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: WITHDRAWAL_CREATED,
            **_refused("A limit's refusal carries `limit` (minor units) and `period` (`day`)."),
        },
    )
    @raises(InvalidAmount, InsufficientFunds, NoPayoutDestination, WithdrawalLimit)
    @idempotent
    def post(self, request: Request) -> Response:
        data = AmountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        citizen = request_citizen(request)
        payout = services.withdrawal_create(user=citizen, amount=data.validated_data["amount"])
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
        summary="Receive a payment provider's notification",
        request=NotificationInputSerializer,
        examples=[
            OpenApiExample(
                "A top-up paid",
                request_only=True,
                value={
                    "type": "top_up.succeeded",
                    "data": {
                        "reference": "cs_3f2b9c1e5d7a4b8c9e0f1a2b3c4d5e6f",
                        "amount": 30000,
                        "currency": "CNY",
                        "payer_label": "Sandbox account ···4821",
                    },
                },
            ),
            OpenApiExample(
                "A payout failed",
                request_only=True,
                value={
                    "type": "payout.failed",
                    "data": {
                        "reference": "po_8d1c2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                        "amount": 20000,
                        "currency": "CNY",
                        "reason": "The destination account refused the payment.",
                    },
                },
            ),
        ],
        parameters=[
            OpenApiParameter(
                "provider",
                str,
                OpenApiParameter.PATH,
                enum=sorted(settings.PAYMENTS_PROVIDERS),
                description="The provider's name, as the settings list it "
                "(`PAYMENTS_PROVIDERS`); any other answers 404.",
            ),
            *(
                OpenApiParameter(
                    header,
                    str,
                    OpenApiParameter.HEADER,
                    required=True,
                    description=description + " (Standard Webhooks).",
                )
                for header, description in (
                    ("webhook-id", "The provider's event id, unique at the provider"),
                    ("webhook-timestamp", "When it was signed, seconds since the epoch"),
                    ("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of id, time and body"),
                )
            ),
        ],
        responses={
            200: OpenApiResponse(
                WebhookOutputSerializer,
                "Received: acted on, or nothing to do (a replay, a top-up already credited, "
                "one we refuse and log).",
            ),
        },
    )
    @raises(InvalidSignature, UnknownProvider)
    def post(self, request: Request, provider: str) -> Response:
        signed = SignedNotification(headers=dict(request.headers), body=request.body)
        services.notification_receive(provider_name=provider, signed=signed)
        return Response({"received": True})
