"""The perks API: merchants' systems (API key) ask for decisions, book and report
outcomes; citizens see their bookings and claims, pay and dispute claims. Thin:
validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.domain import InvalidRequest
from common.idempotency import idempotent
from common.schema import raises
from common.views import list_schema
from merchants import selectors as merchants_selectors
from merchants.api import docs
from merchants.api.filters import StrictFilterBackend
from merchants.api.serializers import CitizenConsentOutputSerializer
from merchants.api.views import MerchantAPIView
from merchants.errors import (
    CodeInvalid,
    CodeUsed,
    ConsentExpired,
    ConsentRevoked,
    ConsentScopeMismatch,
    NotFound,
)
from merchants.models import ApiKeyScope
from merchants.perks import selectors, services
from merchants.perks.api import docs as stay_docs
from merchants.perks.api.filters import MerchantBookingFilter
from merchants.perks.api.serializers import (
    BookingAmendInputSerializer,
    BookingInputSerializer,
    BookingOutputSerializer,
    CitizenBookingOutputSerializer,
    CitizenDecisionFilterSerializer,
    CitizenDecisionOutputSerializer,
    DecisionOutputSerializer,
    EligibilityInputSerializer,
)
from merchants.perks.errors import (
    BookingNotConfirmed,
    CheckInTooFar,
    DecisionExpired,
    DecisionUsed,
    PerkUnavailable,
    StayStarted,
    StayTooLong,
    TooEarlyToCheckIn,
    TooLateToCheckIn,
)
from merchants.perks.models import Booking, Decision
from scoring.errors import AccountInactive, NoActiveScorecard
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.errors import InsufficientFunds
from wallet.models import User


@extend_schema(tags=["merchant"])
class EligibilityView(MerchantAPIView):
    """May this guest book without a deposit, and for how much? Redeems the code (or
    uses a live consent), reads the guest's facts (logged where the guest sees it) and
    answers with reasons, never the score. The decision books once, before it expires."""

    required_scope = ApiKeyScope.ELIGIBILITY

    @property
    def throttle_fails_closed(self) -> bool:
        """A request that redeems a code fails closed when the throttle's cache is down
        (code guessing); one by a live consent goes through."""
        data: Any = self.request.data
        return not isinstance(data, dict) or bool(data.get("code"))

    @extend_schema(
        operation_id="merchant_eligibility",
        summary="Decide a guest's deposit waiver",
        description=(
            "May this guest book without a deposit, and for how much? Send the guest's "
            "one-time code (the first time) or the `consent_id` it granted (later stays). "
            "The guest's facts are read (logged where the guest sees it) and the answer "
            "gives the reasons, never the score. "
            f"{docs.CODE_LIFETIME} {docs.CONSENT_LIFETIME} {stay_docs.DECISION_LIFETIME}"
        ),
        request=EligibilityInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: DecisionOutputSerializer},
        examples=stay_docs.ELIGIBILITY_EXAMPLES,
    )
    @raises(
        CodeInvalid,
        CodeUsed,
        ConsentExpired,
        ConsentRevoked,
        ConsentScopeMismatch,
        NotFound,
        PerkUnavailable,
        AccountInactive,
        NoActiveScorecard,
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
        summary="List bookings",
        description="The merchant's bookings, newest first, each with its claim if any.",
        responses={200: BookingOutputSerializer(many=True)},
    )
)
class MerchantBookingListView(MerchantAPIView, generics.ListAPIView):
    """This merchant's bookings, newest first; filtered by ``reference``, ``status`` and
    check-in dates (``check_in_from``, ``check_in_until``, both included). A filter that
    is not one, or a value that is not valid, answers 400 naming it."""

    required_scope = ApiKeyScope.BOOKINGS

    serializer_class = BookingOutputSerializer
    filter_backends = (StrictFilterBackend,)
    filterset_class = MerchantBookingFilter

    def get_queryset(self) -> QuerySet[Booking]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Booking.objects.none()
        return selectors.bookings_for_merchant(merchant=self.merchant)

    @extend_schema(
        operation_id="merchant_booking_create",
        summary="Book a stay from a decision",
        description=(
            "Book a stay from an eligibility decision, within the perk's bounds (how far "
            "ahead, how many nights): the waived part of the deposit needs no money, the "
            f"rest is held on the guest's wallet. {stay_docs.DECISION_LIFETIME} "
            f"{stay_docs.HOLD_LIFETIME} {stay_docs.CLAIM_WINDOW}"
        ),
        request=BookingInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: BookingOutputSerializer},
        examples=stay_docs.BOOKING_CREATE_EXAMPLES,
    )
    @raises(
        InvalidRequest,
        ConsentExpired,
        ConsentRevoked,
        ConsentScopeMismatch,
        NotFound,
        DecisionExpired,
        DecisionUsed,
        CheckInTooFar,
        StayTooLong,
        InsufficientFunds,
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_create(merchant=self.merchant, **data.validated_data)
        return Response(BookingOutputSerializer(booking).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["merchant"])
class MerchantBookingDetailView(MerchantAPIView):
    required_scope = ApiKeyScope.BOOKINGS

    @extend_schema(
        operation_id="merchant_booking",
        summary="Get a booking",
        description="One of the merchant's bookings, with its claim if any.",
        responses={200: BookingOutputSerializer},
    )
    def get(self, request: Request, pk: Any) -> Response:
        booking = get_object_or_404(selectors.bookings_for_merchant(merchant=self.merchant), pk=pk)
        return Response(BookingOutputSerializer(booking).data)

    @extend_schema(
        operation_id="merchant_booking_amend",
        summary="Move a booking's dates",
        description=(
            "Move a confirmed stay's dates before it starts, within the perk's bounds "
            "counted from today. The deposit's hold follows the new dates (placed now if "
            f"its time has come). {stay_docs.HOLD_LIFETIME} {stay_docs.CLAIM_WINDOW}"
        ),
        request=BookingAmendInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: BookingOutputSerializer},
        examples=stay_docs.BOOKING_AMEND_EXAMPLES,
    )
    @raises(
        InvalidRequest,
        BookingNotConfirmed,
        StayStarted,
        CheckInTooFar,
        StayTooLong,
        InsufficientFunds,
    )
    @idempotent
    def patch(self, request: Request, pk: Any) -> Response:
        """Move a confirmed stay's dates before it starts, within the perk's bounds
        counted from today (422 ``check_in_too_far``, ``stay_too_long``); 409
        ``stay_started`` once the check-in date has come or the guest was checked in. The
        deposit's hold follows: held from two days before the new check-in (placed now if
        that has come: 422 ``insufficient_funds``, nothing changes), until the new
        check-out's claim window ends."""
        data = BookingAmendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.booking_amend(merchant=self.merchant, booking_id=pk, **data.validated_data)
        booking = selectors.bookings_for_merchant(merchant=self.merchant).get(pk=pk)
        return Response(BookingOutputSerializer(booking).data)


@extend_schema(tags=["merchant"])
class MerchantBookingCancelView(MerchantAPIView):
    """Cancel a stay before it starts (before its check-in date, the guest not checked
    in): the deposit's hold is released and nothing is recorded on the guest's score;
    the booking is ``cancelled`` (``merchant``) and ``booking.cancelled`` is sent to your
    webhooks. 409 ``stay_started`` after; 409 ``booking_not_confirmed`` once completed
    or cancelled."""

    required_scope = ApiKeyScope.BOOKINGS

    @extend_schema(
        operation_id="merchant_booking_cancel",
        summary="Cancel a booking before the stay",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: BookingOutputSerializer},
    )
    @raises(BookingNotConfirmed, StayStarted)
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        services.booking_cancel(merchant=self.merchant, booking_id=pk)
        booking = selectors.bookings_for_merchant(merchant=self.merchant).get(pk=pk)
        return Response(BookingOutputSerializer(booking).data)


@extend_schema(tags=["merchant"])
class MerchantBookingCheckInView(MerchantAPIView):
    """Check the guest in: from two days before check-in until check-out. The deposit's
    hold is placed now if it was not yet (422 ``insufficient_funds``, nothing changes);
    the stay has started from then on."""

    required_scope = ApiKeyScope.BOOKINGS

    @extend_schema(
        operation_id="merchant_booking_check_in",
        summary="Check the guest in",
        description=(
            "Check the guest in: from two days before check-in until check-out. The "
            "deposit's hold is placed now if it was not yet (422 `insufficient_funds`, "
            f"nothing changes); the stay has started from then on. {stay_docs.HOLD_LIFETIME}"
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: BookingOutputSerializer},
    )
    @raises(BookingNotConfirmed, TooEarlyToCheckIn, TooLateToCheckIn, InsufficientFunds)
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        services.booking_check_in(merchant=self.merchant, booking_id=pk)
        booking = selectors.bookings_for_merchant(merchant=self.merchant).get(pk=pk)
        return Response(BookingOutputSerializer(booking).data)


@extend_schema(tags=["bookings"])
@list_schema(
    "me_bookings",
    CitizenBookingOutputSerializer,
    summary="List my bookings",
    description="The stays merchants booked for me, newest first, each with its claim if any.",
)
class CitizenBookingListView(CitizenListView):
    model = Booking
    serializer_class = CitizenBookingOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Booking]:
        return selectors.bookings_for_citizen(citizen=user)


DECISION_IDS_PARAMETER = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    many=True,
    explode=True,
    description="Only these decisions (at most 100): ?id=…&id=….",
)


@extend_schema(tags=["bookings"])
@extend_schema_view(
    get=extend_schema(
        operation_id="me_decisions",
        summary="List the decisions made about me",
        parameters=[DECISION_IDS_PARAMETER],
        responses={200: CitizenDecisionOutputSerializer(many=True)},
    )
)
class CitizenDecisionListView(CitizenListView):
    """The decisions merchants made about the citizen, so that the access log can say
    what each look-up decided, in words, instead of an id."""

    model = Decision
    serializer_class = CitizenDecisionOutputSerializer
    domain_errors = (ValidationError,)  # a malformed ?id=

    def own_rows(self, user: User) -> QuerySet[Decision]:
        ids = None
        if "id" in self.request.query_params:
            wanted = CitizenDecisionFilterSerializer(
                data={"id": self.request.query_params.getlist("id")}
            )
            wanted.is_valid(raise_exception=True)
            ids = wanted.validated_data["id"]
        return selectors.decisions_for_citizen(citizen=user, ids=ids)


@extend_schema(tags=["consents"])
class ConsentRevokeView(APIView):
    """Revoke a consent: the merchant is refused from now on, and its bookings made under
    it whose stay has not started are cancelled, their holds released."""

    @extend_schema(
        operation_id="me_consent_revoke",
        summary="Revoke a consent",
        request=None,
        responses={200: CitizenConsentOutputSerializer},
    )
    def post(self, request: Request, pk: Any) -> Response:
        citizen = request_citizen(request)
        consent = get_object_or_404(
            merchants_selectors.consents_for_citizen(citizen=citizen), pk=pk
        )
        consent = services.consent_revoke(citizen=citizen, consent=consent)
        return Response(CitizenConsentOutputSerializer(consent).data)
