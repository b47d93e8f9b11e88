"""``GET /api/v1/me/export``: everything held about the citizen, as one JSON document to
download and keep.

Each section reuses the output serializer of the endpoint that shows it elsewhere, so a
bill, an event or a booking reads the same in the export as in ``/me/bills``,
``/me/events`` or ``/me/bookings``, a top-up or a withdrawal as in ``/me/top-ups`` or
``/me/withdrawals``, a device or an identity document as in ``/me/sessions`` or
``/me/identity-documents`` (with what only the export adds: when a device ended, a
document's last digits). Sections no other citizen endpoint shows (holds, one-time
codes, decisions, the whole score history explained, phone codes) have serializers of
their own below. The whole document is declared with serializers, so the OpenAPI schema
describes the response field by field.
"""

from __future__ import annotations

from typing import Any, cast

from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.personal_data import personal_data_sections
from merchants.api.serializers import (
    CitizenConsentOutputSerializer,
    MerchantSummaryOutputSerializer,
)
from merchants.bills.api.serializers import CitizenBillOutputSerializer
from merchants.models import ConsentScope
from merchants.perks.api.serializers import (
    CitizenBookingOutputSerializer,
    CitizenClaimOutputSerializer,
    ClaimDisputeOutputSerializer,
    DecisionOutputSerializer,
)
from merchants.privacy.export import EXPORT_SCHEMA_VERSION, CitizenExport, export_for_citizen
from scoring.api.serializers import (
    AccessLogOutputSerializer,
    DisputeOutputSerializer,
    EventOutputSerializer,
    ScoreOutputSerializer,
)
from scoring.models import SnapshotTrigger
from wallet.api.account import SignInOutputSerializer
from wallet.api.citizen import request_citizen
from wallet.api.identity import IdentityDocumentOutputSerializer
from wallet.api.serializers import (
    ProfileOutputSerializer,
    TransactionOutputSerializer,
    WalletOutputSerializer,
)
from wallet.models import HoldStatus, User
from wallet.payments.api.serializers import TopUpOutputSerializer, WithdrawalOutputSerializer

# --- The document ----------------------------------------------------------------------


class ExportProfileOutputSerializer(ProfileOutputSerializer):
    """``/me`` and the rest of the account row that is about the person (never the
    password hash or staff flags)."""

    first_name = serializers.CharField(allow_blank=True)
    last_name = serializers.CharField(allow_blank=True)
    # The export has always said null for no address, where the profile says "".
    email = serializers.SerializerMethodField()  # type: ignore[assignment]
    last_login = serializers.DateTimeField(allow_null=True)

    def get_email(self, user: User) -> str | None:
        return user.email or None


class ExportHoldOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    amount = serializers.IntegerField(help_text="Minor units set aside.")
    captured_amount = serializers.IntegerField(help_text="Minor units taken from it.")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=HoldStatus.choices)
    description = serializers.CharField(allow_blank=True)
    booking_id = serializers.UUIDField(
        allow_null=True, help_text="The booking whose deposit it holds, if any."
    )
    capture_transaction_id = serializers.UUIDField(
        source="capture_transfer_id",
        allow_null=True,
        help_text="The transaction that took the captured amount, if any.",
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was captured, released or expired."
    )


class ExportTopUpOutputSerializer(TopUpOutputSerializer):
    """A top-up as ``/me/top-ups`` shows it, with the payment source it came from."""

    payment_source = serializers.CharField(
        source="payer_label",
        allow_blank=True,
        help_text="The account it was paid from, as the provider names it; empty unless "
        "it succeeded.",
    )


class ExportScoreOutputSerializer(ScoreOutputSerializer):
    """One snapshot as ``/me/score`` explains the current one, with what triggered it."""

    trigger = serializers.ChoiceField(choices=SnapshotTrigger.choices)


class ExportAuthorizationCodeOutputSerializer(serializers.Serializer):
    """A one-time code the citizen made; the code itself was shown once and not kept."""

    id = serializers.UUIDField()
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    merchant = MerchantSummaryOutputSerializer(
        allow_null=True, help_text="The only merchant that could redeem it, if limited."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    redeemed_at = serializers.DateTimeField(allow_null=True)
    redeemed_by = MerchantSummaryOutputSerializer(
        allow_null=True, help_text="The merchant that redeemed it."
    )
    consent_id = serializers.UUIDField(
        allow_null=True,
        help_text="The consent it granted or last renewed (null once a newer code renewed it).",
    )
    max_bill_amount = serializers.IntegerField(allow_null=True)
    max_monthly_amount = serializers.IntegerField(allow_null=True)
    text = serializers.CharField(help_text="The consent text shown with it.")
    text_version = serializers.CharField()
    language = serializers.CharField()


class ExportDecisionOutputSerializer(DecisionOutputSerializer):
    """What a merchant was told about the citizen, as the merchant saw it."""

    merchant = MerchantSummaryOutputSerializer()
    created_at = serializers.DateTimeField()
    booking_id = serializers.UUIDField(allow_null=True, help_text="The booking it made, if any.")


class ExportSignInOutputSerializer(SignInOutputSerializer):
    """A device as ``/me/sessions`` shows it, ended ones too, with when it ended (there is
    no request to be the current one of)."""

    current = None  # type: ignore[assignment]
    ended_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was logged out or revoked; null while signed in."
    )


class ExportPhoneVerificationOutputSerializer(serializers.Serializer):
    """A code sent by text to verify a phone number; the code itself was not kept."""

    number = serializers.CharField(help_text="The number it was sent to (E.164).")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When the right code verified the number, if it did."
    )
    attempts = serializers.IntegerField(help_text="Wrong codes tried against it.")


class ExportIdentityDocumentOutputSerializer(IdentityDocumentOutputSerializer):
    """An identity document as ``/me/identity-documents`` shows it, with the number's last
    digits staff recorded on approval. The file is not kept after the decision, and the
    reviewer is not named: staff decide."""

    number_last_digits = serializers.CharField(
        help_text="The document number's last digits, as reviewed; empty unless approved."
    )


class ExportOutputSerializer(serializers.Serializer):
    schema_version = serializers.IntegerField(
        help_text=(
            f"The shape of this document ({EXPORT_SCHEMA_VERSION} today); it changes "
            "whenever a section or field does."
        )
    )
    generated_at = serializers.DateTimeField()
    currency = serializers.CharField(help_text="The currency of every amount, in minor units.")
    profile = ExportProfileOutputSerializer()
    wallet = WalletOutputSerializer()
    transactions = TransactionOutputSerializer(many=True, help_text="Every wallet entry.")
    holds = ExportHoldOutputSerializer(many=True)
    top_ups = ExportTopUpOutputSerializer(many=True)
    withdrawals = WithdrawalOutputSerializer(many=True)
    bills = CitizenBillOutputSerializer(many=True)
    credit_events = EventOutputSerializer(many=True)
    score_history = ExportScoreOutputSerializer(many=True, help_text="Every snapshot.")
    disputes = DisputeOutputSerializer(many=True, help_text="Disputes of credit events.")
    claim_disputes = ClaimDisputeOutputSerializer(many=True)
    consents = CitizenConsentOutputSerializer(many=True)
    authorization_codes = ExportAuthorizationCodeOutputSerializer(many=True)
    access_log = AccessLogOutputSerializer(many=True)
    decisions = ExportDecisionOutputSerializer(many=True)
    bookings = CitizenBookingOutputSerializer(many=True)
    claims = CitizenClaimOutputSerializer(many=True)
    sign_ins = ExportSignInOutputSerializer(
        many=True, help_text="Every device signed in with, ended ones too."
    )
    phone_verifications = ExportPhoneVerificationOutputSerializer(many=True)
    identity_documents = ExportIdentityDocumentOutputSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        """The declared sections, then one per personal-data section of the apps above
        (``common.personal_data``), under its key: this layer may not import them, so
        their shape is theirs to state (the API's reference for the key says it)."""
        fields = super().get_fields()
        for section in personal_data_sections():
            fields[section.key] = serializers.JSONField(
                source=f"sections.{section.key}",
                allow_null=True,
                help_text=SECTION_HELP.get(
                    section.key, "Kept by another part of the service; null when nothing."
                ),
            )
        return fields


# What each personal-data section holds, in words (the sections' code is above this layer).
SECTION_HELP = {
    "monitoring": "What the citizen volunteered for the fairness audit "
    "(`/api/v1/me/monitoring`): `age_band`, `sex` (each null when not given) and "
    "`volunteered_at`; null when nothing is volunteered.",
}


# --- The view --------------------------------------------------------------------------

CONTENT_DISPOSITION = OpenApiParameter(
    "Content-Disposition",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description=(
        'attachment; filename="open-sesame-export-<username>-<YYYY-MM-DD>.json", so that '
        "browsers save the document."
    ),
)


def export_filename(*, username: str, export: CitizenExport) -> str:
    """Names the file after the citizen and the deployment's local date of the export."""
    day = timezone.localdate(export.generated_at).isoformat()
    return f"open-sesame-export-{username}-{day}.json"


@extend_schema(tags=["export"])
class ExportView(APIView):
    """Everything held about me, as one document. The citizen's own read: it writes
    nothing, not even an access-log row."""

    @extend_schema(
        operation_id="me_export",
        summary="Export everything held about me",
        parameters=[CONTENT_DISPOSITION],
        responses={
            200: OpenApiResponse(
                ExportOutputSerializer, "Everything held about the citizen, for download."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        citizen = request_citizen(request)
        export = export_for_citizen(citizen=citizen)
        body: dict[str, Any] = ExportOutputSerializer(
            export, context={"now": export.generated_at}
        ).data
        filename = export_filename(username=citizen.username, export=export)
        # Never None: that is only for an empty filename, and this one always has a name.
        disposition = cast(str, content_disposition_header(True, filename))
        return Response(body, headers={"Content-Disposition": disposition})
