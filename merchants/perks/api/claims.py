"""The claims API: a merchant closes a stay (and files a damage claim) and backs its
claim with evidence; the guest reads their claims, accepts or disputes one while it
awaits them, and pays what is left. Evidence is downloaded only here, by the claim's
merchant or its guest, never from a public media URL. Thin: validate, call a service
or selector, serialize."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.fields import MinorUnitsField
from common.idempotency import idempotent
from common.schema import raises
from common.views import list_schema
from merchants.api.views import MerchantAPIView
from merchants.models import ApiKeyScope
from merchants.perks import claims, selectors
from merchants.perks.api import docs
from merchants.perks.api.serializers import (
    BookingOutputSerializer,
    CitizenClaimOutputSerializer,
    ClaimDisputeInputSerializer,
    ClaimDisputeOutputSerializer,
    ClaimEvidenceOutputSerializer,
)
from merchants.perks.errors import (
    BookingNotConfirmed,
    ClaimAlreadyDisputed,
    ClaimDisputed,
    ClaimExceedsDeposit,
    ClaimNotAwaitingGuest,
    ClaimNotPayable,
    EvidenceInvalid,
    ReportWindowClosed,
    StayNotStarted,
)
from merchants.perks.models import BookingOutcome, Claim, ClaimEvidence
from wallet.api.citizen import CitizenListView, request_citizen
from wallet.api.views import IDEMPOTENCY_PARAMETER
from wallet.errors import InsufficientFunds
from wallet.models import User


class ClaimLineInputSerializer(serializers.Serializer):
    amount = MinorUnitsField(help_text="Minor units, more than 0.")
    description = serializers.CharField(
        max_length=claims.CLAIM_LINE_DESCRIPTION_MAX, help_text="What was damaged."
    )


class CompleteInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=BookingOutcome.choices)
    lines = ClaimLineInputSerializer(
        many=True,
        required=False,
        help_text="With `damage`: the claim's items (or claim_amount and description).",
    )
    claim_amount = MinorUnitsField(required=False, help_text="With `damage`, one line.")
    description = serializers.CharField(
        max_length=claims.CLAIM_LINE_DESCRIPTION_MAX,
        required=False,
        help_text="With `damage` and claim_amount: what was damaged.",
    )

    def validate_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not 1 <= len(lines) <= claims.CLAIM_LINES_MAX:
            raise serializers.ValidationError(f"From 1 to {claims.CLAIM_LINES_MAX} lines.")
        return lines

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["outcome"] == BookingOutcome.DAMAGE:
            if "lines" in attrs:
                if "claim_amount" in attrs:
                    raise serializers.ValidationError(
                        {"claim_amount": "Send lines or claim_amount, not both."}
                    )
                return attrs
            missing = {
                field: "Required with outcome damage (or send lines)."
                for field in ("claim_amount", "description")
                if field not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
        else:
            for field in ("lines", "claim_amount"):
                if field in attrs:
                    raise serializers.ValidationError({field: "Only with outcome damage."})
        return attrs

    def claim_lines(self) -> list[claims.ClaimLineInput] | None:
        lines = self.validated_data.get("lines")
        if lines is None:
            return None
        return [claims.ClaimLineInput(line["amount"], line["description"]) for line in lines]


@extend_schema(tags=["merchant"])
class MerchantBookingCompleteView(MerchantAPIView):
    """Close a stay, within the perk's window after check-out: ``ok``, ``no_show``, or
    ``damage`` with a claim (its lines, at most the deposit agreed at booking). The
    claim awaits the guest's answer until ``respond_by``; nothing beyond the hold is
    taken until they accept, or do not answer in time.

    Closing a stay ``ok`` or ``no_show`` needs the ``bookings`` scope; with ``damage`` it
    files a claim, which needs ``claims``."""

    @property
    def required_scope(self) -> str:
        data = self.request.data
        outcome = data.get("outcome") if hasattr(data, "get") else None
        if outcome == BookingOutcome.DAMAGE:
            return ApiKeyScope.CLAIMS
        return ApiKeyScope.BOOKINGS

    @extend_schema(
        operation_id="merchant_booking_complete",
        summary="Close a stay: ok, no-show or damage",
        description=(
            "Close a stay: `ok`, `no_show`, or `damage` with a claim (its lines, at most "
            "the deposit agreed at booking). Nothing beyond the hold is taken until the "
            f"guest accepts the claim, or does not answer in time. {docs.CLAIM_WINDOW} "
            f"{docs.GUEST_ANSWER} {docs.HOLD_LIFETIME}"
        ),
        request=CompleteInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: BookingOutputSerializer},
        examples=docs.COMPLETE_EXAMPLES,
    )
    @raises(BookingNotConfirmed, StayNotStarted, ReportWindowClosed, ClaimExceedsDeposit)
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        data = CompleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = claims.booking_complete(
            merchant=self.merchant,
            booking_id=pk,
            outcome=data.validated_data["outcome"],
            lines=data.claim_lines(),
            claim_amount=data.validated_data.get("claim_amount"),
            description=data.validated_data.get("description", ""),
        )
        booking = selectors.bookings_for_merchant(merchant=self.merchant).get(pk=booking.pk)
        return Response(BookingOutputSerializer(booking).data)


class EvidenceInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A JPEG, PNG or WebP image or a PDF (by its content), at most 5 MB."
    )


def evidence_download(evidence: ClaimEvidence) -> FileResponse:
    """The file as an attachment, with the type its content showed when uploaded, never
    sniffed or cached elsewhere: the one way evidence is served (the API and the admin)."""
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# The file, as an attachment, in the type its content showed when it was uploaded.
_DOWNLOAD_RESPONSES: dict[Any, Any] = {
    **{
        (200, content_type): OpenApiResponse(
            OpenApiTypes.BINARY, description="The file, as an attachment."
        )
        for content_type in claims.EVIDENCE_CONTENT_TYPES
    },
}


@extend_schema(tags=["merchant"])
class MerchantClaimEvidenceView(MerchantAPIView):
    """Back a claim with a file while the guest may answer it or staff decide it."""

    required_scope = ApiKeyScope.CLAIMS

    parser_classes = (MultiPartParser,)

    @extend_schema(
        operation_id="merchant_claim_evidence_add",
        summary="Add evidence to a claim",
        request={"multipart/form-data": EvidenceInputSerializer},
        responses={201: ClaimEvidenceOutputSerializer},
    )
    @raises(EvidenceInvalid)
    def post(self, request: Request, pk: Any) -> Response:
        data = EvidenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evidence = claims.claim_evidence_add(
            merchant=self.merchant, claim_id=pk, upload=data.validated_data["file"]
        )
        return Response(
            ClaimEvidenceOutputSerializer(evidence).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["merchant"])
class MerchantClaimEvidenceDownloadView(MerchantAPIView):
    required_scope = ApiKeyScope.CLAIMS

    @extend_schema(
        operation_id="merchant_claim_evidence",
        summary="Download a claim's evidence file",
        description="One file backing the merchant's claim, as an attachment, in the type "
        "its content showed when it was uploaded.",
        responses=_DOWNLOAD_RESPONSES,
    )
    def get(self, request: Request, pk: Any, evidence_id: Any) -> FileResponse:
        evidence = selectors.claim_evidence_for_merchant(
            merchant=self.merchant, claim_id=pk, evidence_id=evidence_id
        )
        return evidence_download(evidence)


# --- The guest ---------------------------------------------------------------------------


@extend_schema(tags=["bookings"])
@list_schema(
    "me_claims",
    CitizenClaimOutputSerializer,
    summary="List my claims",
    description=f"The damage claims merchants made about my stays, newest first. "
    f"{docs.GUEST_ANSWER}",
)
class CitizenClaimListView(CitizenListView):
    model = Claim
    serializer_class = CitizenClaimOutputSerializer

    def own_rows(self, user: User) -> QuerySet[Claim]:
        return selectors.claims_shown_to_citizen(citizen=user)


def _own_claim(request: Request, pk: Any) -> Response:
    claim = get_object_or_404(
        selectors.claims_shown_to_citizen(citizen=request_citizen(request)), pk=pk
    )
    return Response(CitizenClaimOutputSerializer(claim).data)


@extend_schema(tags=["bookings"])
class CitizenClaimDetailView(APIView):
    """One of the citizen's claims: its lines, evidence, deadline and dispute."""

    @extend_schema(
        operation_id="me_claim",
        summary="Get one of my claims",
        responses={200: CitizenClaimOutputSerializer},
    )
    def get(self, request: Request, pk: Any) -> Response:
        return _own_claim(request, pk)


@extend_schema(tags=["bookings"])
class ClaimAcceptView(APIView):
    """Accept a claim awaiting the answer: it is charged now, from the deposit's hold
    first, then the wallet, never more than the claim."""

    @extend_schema(
        operation_id="me_claim_accept",
        summary="Accept a claim",
        description=(
            "Accept a claim awaiting the answer: it is charged now, from the deposit's "
            f"hold first, then the wallet, never more than the claim. {docs.GUEST_ANSWER}"
        ),
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CitizenClaimOutputSerializer},
    )
    @raises(ClaimNotAwaitingGuest)
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        claims.claim_accept(citizen=request_citizen(request), claim_id=pk)
        return _own_claim(request, pk)


@extend_schema(tags=["bookings"])
class ClaimDisputeView(APIView):
    """Dispute a claim awaiting the answer: nothing is charged, the deposit's hold waits
    while staff decide with both sides' evidence."""

    @extend_schema(
        operation_id="me_claim_dispute",
        summary="Dispute a claim",
        description=(
            "Dispute a claim awaiting the answer: nothing is charged, the deposit's hold "
            f"waits while staff decide with both sides' evidence. {docs.GUEST_ANSWER}"
        ),
        request=ClaimDisputeInputSerializer,
        responses={201: ClaimDisputeOutputSerializer},
    )
    @raises(ClaimNotAwaitingGuest, ClaimAlreadyDisputed)
    def post(self, request: Request, pk: Any) -> Response:
        data = ClaimDisputeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = claims.claim_dispute_open(
            citizen=request_citizen(request), claim_id=pk, reason=data.validated_data["reason"]
        )
        return Response(ClaimDisputeOutputSerializer(dispute).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["bookings"])
class ClaimPayView(APIView):
    """Pay what is left of an unpaid (or rejected) claim from the wallet, all of it."""

    @extend_schema(
        operation_id="me_claim_pay",
        summary="Pay what is left of a claim",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CitizenClaimOutputSerializer},
    )
    @raises(ClaimNotPayable, ClaimDisputed, InsufficientFunds)
    @idempotent
    def post(self, request: Request, pk: Any) -> Response:
        claims.claim_pay(citizen=request_citizen(request), claim_id=pk)
        return _own_claim(request, pk)


@extend_schema(tags=["bookings"])
class CitizenClaimEvidenceDownloadView(APIView):
    @extend_schema(
        operation_id="me_claim_evidence",
        summary="Download a claim's evidence file",
        description="One file backing a claim about my stay, as an attachment, in the type "
        "its content showed when it was uploaded.",
        responses=_DOWNLOAD_RESPONSES,
    )
    def get(self, request: Request, pk: Any, evidence_id: Any) -> FileResponse:
        evidence = selectors.claim_evidence_for_citizen(
            citizen=request_citizen(request), claim_id=pk, evidence_id=evidence_id
        )
        return evidence_download(evidence)
