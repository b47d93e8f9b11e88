"""The merchants API: merchants' systems (API key) and citizens (their own consents,
codes, bookings and claims). Thin: validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.idempotency import idempotent
from common.schema import PAGE_NOT_FOUND, problem_responses
from common.views import CitizenListView, list_schema
from merchants import selectors, services
from merchants.api.auth import ApiKeyAuthentication, ApiKeyRateThrottle, IsMerchant
from merchants.api.filters import BillFilter
from merchants.api.serializers import (
    AuthorizationCodeInputSerializer,
    AuthorizationCodeOutputSerializer,
    BillInputSerializer,
    BillOutputSerializer,
    BookingInputSerializer,
    BookingOutputSerializer,
    CitizenBillOutputSerializer,
    CitizenBookingOutputSerializer,
    CitizenClaimOutputSerializer,
    CitizenConsentOutputSerializer,
    ClaimDisputeInputSerializer,
    ClaimDisputeOutputSerializer,
    CodeRedeemInputSerializer,
    CompleteInputSerializer,
    DecisionOutputSerializer,
    EligibilityInputSerializer,
    MerchantConsentOutputSerializer,
)
from merchants.models import Bill, Booking, Claim, Consent, Merchant
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.models import User

# --- Merchant side ---------------------------------------------------------------------


class MerchantAPIView(APIView):
    """A merchant's system calling with its API key; it sees only its own objects."""

    authentication_classes = (ApiKeyAuthentication,)
    permission_classes = (IsMerchant,)
    throttle_classes = (ApiKeyRateThrottle,)

    @property
    def merchant(self) -> Merchant:
        return self.request.user.merchant

    def idempotency_scope(self, request: Request) -> str:
        return f"merchant:{request.user.merchant.pk}"


@extend_schema(tags=["merchant"])
class MerchantConsentRedeemView(MerchantAPIView):
    """Redeem a citizen's one-time code without a decision (billers use it)."""

    @extend_schema(
        operation_id="merchant_consent_redeem",
        request=CodeRedeemInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: MerchantConsentOutputSerializer,
            **problem_responses(400, 401, 409, 422, 429),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = CodeRedeemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.consent_redeem(merchant=self.merchant, code=data.validated_data["code"])
        return Response(
            MerchantConsentOutputSerializer(consent).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["merchant"])
class EligibilityView(MerchantAPIView):
    """May this guest book without a deposit, and for how much? Redeems the code (or
    uses a live consent), reads the guest's facts (logged where the guest sees it) and
    answers with reasons, never the score. The decision books once, before it expires."""

    @extend_schema(
        operation_id="merchant_eligibility",
        request=EligibilityInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: DecisionOutputSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = EligibilityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.eligibility_decide(
            merchant=self.merchant,
            perk_kind=data.validated_data["perk"],
            amount=data.validated_data["amount"],
            code=data.validated_data.get("code"),
            consent_id=data.validated_data.get("consent_id"),
        )
        return Response(DecisionOutputSerializer(decision).data)


@extend_schema(tags=["merchant"])
@extend_schema_view(
    get=extend_schema(
        operation_id="merchant_bookings",
        responses={
            200: BookingOutputSerializer(many=True),
            **problem_responses(401, 404, 429, descriptions={404: PAGE_NOT_FOUND}),
        },
    )
)
class MerchantBookingListView(MerchantAPIView, generics.ListAPIView):
    serializer_class = BookingOutputSerializer

    def get_queryset(self) -> QuerySet[Booking]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Booking.objects.none()
        return selectors.bookings_for_merchant(merchant=self.merchant)

    @extend_schema(
        operation_id="merchant_booking_create",
        request=BookingInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: BookingOutputSerializer,
            **problem_responses(400, 401, 403, 404, 409, 422, 429),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_create(merchant=self.merchant, **data.validated_data)
        return Response(BookingOutputSerializer(booking).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["merchant"])
class MerchantBookingDetailView(MerchantAPIView):
    @extend_schema(
        operation_id="merchant_booking",
        responses={200: BookingOutputSerializer, **problem_responses(401, 404, 429)},
    )
    def get(self, request: Request, pk: Any) -> Response:
        booking = get_object_or_404(selectors.bookings_for_merchant(merchant=self.merchant), pk=pk)
        return Response(BookingOutputSerializer(booking).data)


@extend_schema(tags=["merchant"])
class MerchantBookingCompleteView(MerchantAPIView):
    """Close a stay: ``ok``, ``no_show``, or ``damage`` with a claim, collected from the
    hold, then from the guest's wallet; the rest is left for the guest to pay."""

    @extend_schema(
        operation_id="merchant_booking_complete",
        request=CompleteInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: BookingOutputSerializer,
            **problem_responses(400, 401, 404, 409, 429),
        },
    )
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        data = CompleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_complete(
            merchant=self.merchant,
            booking_id=pk,
            outcome=data.validated_data["outcome"],
            claim_amount=data.validated_data.get("claim_amount"),
            description=data.validated_data.get("description", ""),
        )
        booking = selectors.bookings_for_merchant(merchant=self.merchant).get(pk=booking.pk)
        return Response(BookingOutputSerializer(booking).data)


@extend_schema(tags=["merchant"])
@extend_schema_view(
    get=extend_schema(
        operation_id="merchant_bills",
        responses={
            200: BillOutputSerializer(many=True),
            **problem_responses(401, 404, 429, descriptions={404: PAGE_NOT_FOUND}),
        },
    )
)
class MerchantBillListView(MerchantAPIView, generics.ListAPIView):
    """A biller's bills; issuing one needs the citizen's live ``billing`` consent."""

    serializer_class = BillOutputSerializer

    def get_queryset(self) -> QuerySet[Bill]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Bill.objects.none()
        return selectors.bills_for_merchant(merchant=self.merchant)

    @extend_schema(
        operation_id="merchant_bill_create",
        request=BillInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: BillOutputSerializer,
            **problem_responses(400, 401, 403, 404, 409, 429),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = BillInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        bill = services.bill_issue(merchant=self.merchant, **data.validated_data)
        return Response(BillOutputSerializer(bill).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["merchant"])
class MerchantBillDetailView(MerchantAPIView):
    @extend_schema(
        operation_id="merchant_bill",
        responses={200: BillOutputSerializer, **problem_responses(401, 404, 429)},
    )
    def get(self, request: Request, pk: Any) -> Response:
        bill = get_object_or_404(selectors.bills_for_merchant(merchant=self.merchant), pk=pk)
        return Response(BillOutputSerializer(bill).data)


# --- Citizen side ----------------------------------------------------------------------


@extend_schema(tags=["consents"])
class AuthorizationCodeView(APIView):
    """A one-time code to show a merchant: valid for 10 minutes, redeemable once."""

    @extend_schema(
        operation_id="me_authorization_code_create",
        request=AuthorizationCodeInputSerializer,
        responses={201: AuthorizationCodeOutputSerializer, **problem_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = AuthorizationCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row, code = services.authorization_code_create(
            citizen=request.user,
            scope=data.validated_data["scope"],
            merchant=data.validated_data.get("merchant_id"),
        )
        body = {
            "id": row.pk,
            "code": code,
            "scope": row.scope,
            "merchant": row.merchant,
            "expires_at": row.expires_at,
            "qr_payload": services.code_qr_payload(code, row.scope),
        }
        return Response(
            AuthorizationCodeOutputSerializer(body).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["consents"])
@list_schema("me_consents", CitizenConsentOutputSerializer)
class ConsentListView(CitizenListView):
    """Who may ask about me, for what, until when."""

    model = Consent
    serializer_class = CitizenConsentOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Consent]:
        return selectors.consents_for_citizen(citizen=user)


@extend_schema(tags=["consents"])
class ConsentRevokeView(APIView):
    @extend_schema(
        operation_id="me_consent_revoke",
        request=None,
        responses={200: CitizenConsentOutputSerializer, **problem_responses(401, 404)},
    )
    def post(self, request: Request, pk: Any) -> Response:
        consent = get_object_or_404(selectors.consents_for_citizen(citizen=request.user), pk=pk)
        consent = services.consent_revoke(citizen=request.user, consent=consent)
        return Response(CitizenConsentOutputSerializer(consent).data)


@extend_schema(tags=["bookings"])
@list_schema("me_bookings", CitizenBookingOutputSerializer)
class CitizenBookingListView(CitizenListView):
    model = Booking
    serializer_class = CitizenBookingOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Booking]:
        return selectors.bookings_for_citizen(citizen=user)


@extend_schema(tags=["bookings"])
@list_schema("me_claims", CitizenClaimOutputSerializer)
class CitizenClaimListView(CitizenListView):
    model = Claim
    serializer_class = CitizenClaimOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Claim]:
        return selectors.claims_for_citizen(citizen=user)


@extend_schema(tags=["bookings"])
class ClaimPayView(APIView):
    """Pay what is left of a claim from the wallet, all of it."""

    @extend_schema(
        operation_id="me_claim_pay",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: CitizenClaimOutputSerializer,
            **problem_responses(400, 401, 404, 409, 422),
        },
    )
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        claim = get_object_or_404(selectors.claims_for_citizen(citizen=request.user), pk=pk)
        services.claim_pay(citizen=request.user, claim=claim)
        claim = selectors.claims_for_citizen(citizen=request.user).get(pk=pk)
        return Response(CitizenClaimOutputSerializer(claim).data)


@extend_schema(tags=["bookings"])
class ClaimDisputeView(APIView):
    """Contest a claim: it is not collected further and its record stops counting until
    staff resolve it (upheld after 30 days if nobody does)."""

    @extend_schema(
        operation_id="me_claim_dispute",
        request=ClaimDisputeInputSerializer,
        responses={
            201: ClaimDisputeOutputSerializer,
            **problem_responses(400, 401, 404, 409),
        },
    )
    def post(self, request: Request, pk: Any) -> Response:
        data = ClaimDisputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = get_object_or_404(selectors.claims_for_citizen(citizen=request.user), pk=pk)
        dispute = services.claim_dispute_open(
            citizen=request.user, claim=claim, reason=data.validated_data["reason"]
        )
        return Response(ClaimDisputeOutputSerializer(dispute).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["bills"])
@extend_schema_view(
    get=extend_schema(
        operation_id="me_bills",
        responses={
            200: CitizenBillOutputSerializer(many=True),
            **problem_responses(400, 401, 404, descriptions={404: PAGE_NOT_FOUND}),
        },
    )
)
class CitizenBillListView(CitizenListView):
    """My bills, newest first; ``status`` filters open or paid ones."""

    model = Bill
    serializer_class = CitizenBillOutputSerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = BillFilter

    def own_rows(self, user: User) -> QuerySet[Bill]:
        return selectors.bills_for_citizen(citizen=user)


@extend_schema(tags=["bills"])
class BillPayView(APIView):
    """Pay a bill from the wallet, all of it: on or before the due date it counts as
    paid on time."""

    @extend_schema(
        operation_id="me_bill_pay",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            200: CitizenBillOutputSerializer,
            **problem_responses(400, 401, 404, 409, 422),
        },
    )
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        services.bill_pay(citizen=request.user, bill_id=pk)
        bill = selectors.bills_for_citizen(citizen=request.user).get(pk=pk)
        return Response(CitizenBillOutputSerializer(bill).data)
