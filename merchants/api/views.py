"""The merchants API: merchants' systems (API key) redeem codes and list their payouts;
citizens make codes and see and revoke their consents. Thin: validate, call a service or
selector, serialize. ``MerchantAPIView`` is the base of every merchant endpoint, here
and in the sub-apps."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import InvalidRequest, TooManyAttempts
from common.idempotency import idempotent
from common.schema import raises
from common.throttling import fails_closed
from common.views import list_schema
from merchants import consent_texts, selectors, services
from merchants.api import attempts, docs
from merchants.api.auth import (
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    FromAllowedNetwork,
    HasScope,
    IsMerchant,
    presents_api_key,
    request_merchant,
)
from merchants.api.filters import MerchantConsentFilter, StrictFilterBackend
from merchants.api.serializers import (
    AuthorizationCodeInputSerializer,
    AuthorizationCodeOutputSerializer,
    CitizenConsentOutputSerializer,
    CodeRedeemInputSerializer,
    MerchantConsentDetailOutputSerializer,
    MerchantConsentOutputSerializer,
)
from merchants.errors import CodeInvalid, CodeUsed, InsufficientScope, NetworkNotAllowed
from merchants.models import ApiKeyScope, Consent, Merchant, MerchantCategory
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.models import Payout, User
from wallet.payments.api.serializers import PayoutOutputSerializer

# --- Merchant side ---------------------------------------------------------------------


class MerchantAPIView(APIView):
    """A merchant's system calling with its API key; it sees only its own objects.

    Guessing is limited (``merchants.api.auth``, ``CODE_ATTEMPTS_*``): a client address
    whose API keys failed too often is refused before its key is even read, and on a
    view that redeems a citizen's code (:attr:`redeems_code`) a merchant or address
    whose codes failed too often is refused before the code is tried; both answer 429
    ``too_many_attempts`` with ``Retry-After``.

    Every subclass names the key scope it needs, ``required_scope`` (an ``ApiKeyScope``
    value; a property where it depends on the merchant): a key without it is refused
    with 403 ``insufficient_scope`` naming the scope, and a key used from outside its
    ``allowed_networks`` with 403 ``network_not_allowed`` (``merchants.api.auth``)."""

    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsMerchant, FromAllowedNetwork, HasScope)
    throttle_classes = (ApiKeyRateThrottle,)
    # No ``required_scope`` here: a view that forgets its own is refused to every key
    # (500), and the scopes' access matrix (tests/merchants/api/test_scopes.py) fails.
    # Every merchant operation: a client address whose keys failed too often; a key
    # without the operation's scope, or used from outside its networks.
    domain_errors: tuple[type[Exception], ...] = (
        TooManyAttempts,
        InsufficientScope,
        NetworkNotAllowed,
    )

    @property
    def merchant(self) -> Merchant:
        return request_merchant(self.request)

    @property
    def redeems_code(self) -> bool:
        """Whether this request redeems a citizen's code: the merchant views that fail
        closed are exactly those (a code is the only guess a merchant can make;
        ``common.throttling``)."""
        return fails_closed(self)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if presents_api_key(request):
            attempts.api_key_attempts_check(request)
        super().initial(request, *args, **kwargs)
        if self.redeems_code:
            attempts.code_attempts_check(request, merchant=self.merchant)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.AuthenticationFailed) and presents_api_key(self.request):
            attempts.api_key_failed(self.request)
        elif isinstance(exc, CodeInvalid | CodeUsed):
            attempts.code_failed(self.request, merchant=self.merchant)
        return super().handle_exception(exc)

    def idempotency_scope(self, request: Request) -> str:
        return f"merchant:{request_merchant(request).pk}"


@extend_schema(tags=["merchant"])
class MerchantConsentRedeemView(MerchantAPIView):
    """Redeem a citizen's one-time code without a decision (billers use it)."""

    required_scope = ApiKeyScope.ELIGIBILITY

    # Code guessing: with the throttle's cache down, 429 rather than unlimited tries.
    throttle_fails_closed = True

    @extend_schema(
        operation_id="merchant_consent_redeem",
        summary="Redeem a citizen's code for a consent",
        description=(
            "Redeem the one-time code a citizen shows you, for the consent it grants (a "
            "biller's `billing` consent, under the limits the citizen set); no decision is "
            f"made. {docs.CODE_LIFETIME} {docs.CONSENT_LIFETIME}"
        ),
        request=CodeRedeemInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: MerchantConsentOutputSerializer},
        examples=docs.CONSENT_REDEEM_EXAMPLES,
    )
    @raises(CodeInvalid, CodeUsed)
    @idempotent
    def post(self, request: Request) -> Response:
        data = CodeRedeemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.consent_redeem(merchant=self.merchant, code=data.validated_data["code"])
        return Response(
            MerchantConsentOutputSerializer(consent).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["merchant"])
@extend_schema_view(
    get=extend_schema(
        operation_id="merchant_consents",
        summary="List consents",
        description=(
            "The consents citizens gave this merchant, newest first, each with its scope, "
            "lifetime, billing limits and `status`; filtered by `scope` and `status` "
            f"(`active`, `revoked`, `expired`). {docs.CONSENT_LIFETIME}"
        ),
        responses={200: MerchantConsentDetailOutputSerializer(many=True)},
    )
)
class MerchantConsentListView(MerchantConsentRedeemView, generics.ListAPIView):
    """GET: the consents citizens gave this merchant, newest first, each with its scope,
    lifetime (a deposit waiver's lasts 30 days from its grant or last renewal; a billing
    consent until revoked), billing limits and ``status``; filtered by ``scope`` and
    ``status`` (``active``, ``revoked``, ``expired``). POST redeems a code."""

    required_scope = ApiKeyScope.ELIGIBILITY
    serializer_class = MerchantConsentDetailOutputSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = MerchantConsentFilter

    @property
    def throttle_fails_closed(self) -> bool:  # type: ignore[override]
        """Only redeeming a code (POST) fails closed; reading consents does not."""
        return self.request.method == "POST"

    def get_queryset(self) -> QuerySet[Consent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Consent.objects.none()
        return selectors.consents_for_merchant(merchant=self.merchant)


@extend_schema(tags=["merchant"])
class MerchantConsentDetailView(MerchantAPIView):
    """One consent a citizen gave this merchant: its scope, lifetime, billing limits and
    ``status`` (404 for another merchant's)."""

    required_scope = ApiKeyScope.ELIGIBILITY

    @extend_schema(
        operation_id="merchant_consent",
        summary="Get a consent",
        description=(
            "One consent a citizen gave this merchant: its scope, lifetime, billing limits "
            f"and `status`. {docs.CONSENT_LIFETIME}"
        ),
        responses={200: MerchantConsentDetailOutputSerializer},
    )
    def get(self, request: Request, pk: Any) -> Response:
        consent = get_object_or_404(selectors.consents_for_merchant(merchant=self.merchant), pk=pk)
        return Response(MerchantConsentDetailOutputSerializer(consent).data)


@extend_schema(tags=["merchant"])
@extend_schema_view(
    get=extend_schema(
        operation_id="merchant_payouts",
        summary="List payouts",
        responses={200: PayoutOutputSerializer(many=True)},
    )
)
class MerchantPayoutListView(MerchantAPIView, generics.ListAPIView):
    """The merchant's payouts of its settlement balance, newest first: paid daily when
    the balance reaches the threshold, or when staff pay it out. Needs the scope of the
    money that lands there: ``bills`` for a biller, ``claims`` for a hotel or a rental."""

    serializer_class = PayoutOutputSerializer

    @property
    def required_scope(self) -> str:
        """A payout is the merchant's collected money leaving: what billers collect is
        bills, what hotels and rentals collect is claims. (No scope of its own: a key
        that reconciles bills or claims also reconciles their payouts.)"""
        if self.merchant.category == MerchantCategory.BILLER:
            return ApiKeyScope.BILLS
        return ApiKeyScope.CLAIMS

    def get_queryset(self) -> QuerySet[Payout]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Payout.objects.none()
        return selectors.payouts_for_merchant(merchant=self.merchant)


# --- Citizen side ----------------------------------------------------------------------


@extend_schema(tags=["consents"])
class AuthorizationCodeView(APIView):
    """A one-time code to show a merchant: valid for 10 minutes, redeemable once. A
    billing code carries the limits the citizen sets (both required); every code the
    consent text shown with it, in the citizen's language. Redeemed by a merchant the
    citizen already consented to for that scope, it renews that consent."""

    @extend_schema(
        operation_id="me_authorization_code_create",
        summary="Make a one-time code for a merchant",
        description=(
            "A one-time code to show a merchant; a billing code carries the limits the "
            "citizen sets (both required), every code the consent text shown with it. "
            f"{docs.CODE_LIFETIME} {docs.CONSENT_LIFETIME}"
        ),
        request=AuthorizationCodeInputSerializer,
        responses={201: AuthorizationCodeOutputSerializer},
    )
    @raises(InvalidRequest)
    def post(self, request: Request) -> Response:
        data = AuthorizationCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row, code = services.authorization_code_create(
            citizen=request_citizen(request),
            scope=data.validated_data["scope"],
            merchant=data.validated_data.get("merchant_id"),
            max_bill_amount=data.validated_data.get("max_bill_amount"),
            max_monthly_amount=data.validated_data.get("max_monthly_amount"),
            language=consent_texts.language_choose(
                requested=data.validated_data.get("language"),
                accept_language=request.headers.get("Accept-Language", ""),
            ),
        )
        body = {
            "id": row.pk,
            "code": code,
            "scope": row.scope,
            "merchant": row.merchant,
            "expires_at": row.expires_at,
            "qr_payload": services.code_qr_payload(code, row.scope),
            "consent_text": row.text,
            "text_version": row.text_version,
            "language": row.language,
            "max_bill_amount": row.max_bill_amount,
            "max_monthly_amount": row.max_monthly_amount,
            "currency": settings.WALLET_CURRENCY,
        }
        return Response(
            AuthorizationCodeOutputSerializer(body).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["consents"])
@list_schema(
    "me_consents",
    CitizenConsentOutputSerializer,
    summary="List my consents",
    description=f"Who may ask about me, for what, until when. {docs.CONSENT_LIFETIME}",
)
class ConsentListView(CitizenListView):
    """Who may ask about me, for what, until when."""

    model = Consent
    serializer_class = CitizenConsentOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Consent]:
        return selectors.consents_for_citizen(citizen=user)
