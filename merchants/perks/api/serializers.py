"""Input and output serializers of the perks API: eligibility, bookings, claims and
their disputes (separate, uniquely named).

Input serializers list exactly the fields a caller may write; anything else in a body
is ignored, so amounts, statuses and owners are always the server's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.fields import MinorUnitsField, PlainFieldsSerializer
from merchants.api.serializers import CodeField, MerchantSummaryOutputSerializer
from merchants.perks.models import (
    BookingOutcome,
    BookingStatus,
    CancelReason,
    ClaimStatus,
    EvidenceParty,
    PerkKind,
)
from scoring.api.serializers import DisputeBaseOutputSerializer


class ReasonItemOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_field(ReasonItemOutputSerializer(many=True))
class StoredReasonsField(serializers.ReadOnlyField):
    """A decision's reasons as stored (``[{"code", "message"}]``, written by the service
    from the rules' outcome), passed through as they are. Every eligibility answer has
    them; a nested serializer would rebuild its fields for each response."""


class ClaimLineOutputSerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units.")
    description = serializers.CharField()


class ClaimEvidenceOutputSerializer(serializers.Serializer):
    """A file backing a claim; ``url`` downloads it (with the caller's credentials)."""

    # The URL name each audience downloads evidence from.
    url_name = "merchant-claim-evidence"

    id = serializers.UUIDField()
    name = serializers.CharField(help_text="The file's name as uploaded.")
    party = serializers.ChoiceField(choices=EvidenceParty.choices)
    content_type = serializers.CharField(help_text="As its content shows (never as declared).")
    size = serializers.IntegerField(help_text="Bytes.")
    uploaded_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, evidence: Any) -> str:
        return reverse(
            f"v1:{self.url_name}", kwargs={"pk": evidence.claim_id, "evidence_id": evidence.pk}
        )


class CitizenClaimEvidenceOutputSerializer(ClaimEvidenceOutputSerializer):
    url_name = "me-claim-evidence"


class ClaimDisputeOutputSerializer(DisputeBaseOutputSerializer):
    """The guest's dispute of a claim: their reason, and staff's decision once made."""

    claim_id = serializers.UUIDField()


class ClaimOutputSerializer(serializers.Serializer):
    """A damage claim as its merchant sees it: its lines and evidence, the guest's
    deadline to answer, what was collected, and the guest's dispute if any."""

    evidence_serializer: ClassVar[type[ClaimEvidenceOutputSerializer]] = (
        ClaimEvidenceOutputSerializer
    )

    id = serializers.UUIDField()
    booking_id = serializers.UUIDField()
    amount = serializers.IntegerField(help_text="Minor units: the sum of the lines.")
    paid_amount = serializers.IntegerField(help_text="Collected so far, minor units.")
    unpaid_amount = serializers.IntegerField()
    refunded_amount = serializers.IntegerField(help_text="Refunded after an upheld dispute.")
    currency = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(
        choices=ClaimStatus.choices,
        help_text="`awaiting_guest` → `paid` | `unpaid` (accepted, or unanswered by "
        "respond_by) | `disputed` → `upheld` (nothing owed) | `rejected` (charged as "
        "accepted).",
    )
    respond_by = serializers.DateTimeField(
        allow_null=True,
        help_text="Until when the guest may accept or dispute; unanswered, it is charged then.",
    )
    lines = ClaimLineOutputSerializer(many=True)
    evidence = serializers.SerializerMethodField()
    dispute = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    charged_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ClaimEvidenceOutputSerializer(many=True))
    def get_evidence(self, claim: Any) -> list[dict[str, Any]]:
        return self.evidence_serializer(claim.evidence.all(), many=True).data  # type: ignore[return-value]

    @extend_schema_field(ClaimDisputeOutputSerializer(allow_null=True))
    def get_dispute(self, claim: Any) -> dict[str, Any] | None:
        dispute = getattr(claim, "dispute", None)
        return ClaimDisputeOutputSerializer(dispute).data if dispute is not None else None


class CitizenClaimOutputSerializer(ClaimOutputSerializer):
    evidence_serializer = CitizenClaimEvidenceOutputSerializer

    merchant = MerchantSummaryOutputSerializer()

    @extend_schema_field(CitizenClaimEvidenceOutputSerializer(many=True))
    def get_evidence(self, claim: Any) -> list[dict[str, Any]]:
        return super().get_evidence(claim)


class BookingOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    decision_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=BookingStatus.choices)
    outcome = serializers.ChoiceField(
        choices=BookingOutcome.choices, allow_blank=True, help_text="Empty until completed."
    )
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    deposit_amount = serializers.IntegerField()
    waived_amount = serializers.IntegerField()
    hold_amount = serializers.IntegerField(
        help_text="Held on the guest's wallet from two days before check-in (at once when "
        "booked or checked in later than that)."
    )
    hold_placed = serializers.BooleanField(help_text="Whether the hold has been placed.")
    hold_due_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the hold will be placed; null once placed, or when nothing is held.",
    )
    currency = serializers.CharField()
    cancel_reason = serializers.ChoiceField(
        choices=CancelReason.choices, allow_blank=True, help_text="Empty unless cancelled."
    )
    created_at = serializers.DateTimeField()
    checked_in_at = serializers.DateTimeField(
        allow_null=True, help_text="When the merchant checked the guest in, if it did."
    )
    cancelled_at = serializers.DateTimeField(allow_null=True, help_text="Null unless cancelled.")
    completed_at = serializers.DateTimeField(allow_null=True)
    claim = serializers.SerializerMethodField()

    claim_serializer: ClassVar[type[ClaimOutputSerializer]] = ClaimOutputSerializer

    @extend_schema_field(ClaimOutputSerializer(allow_null=True))
    def get_claim(self, booking: Any) -> dict[str, Any] | None:
        claim = getattr(booking, "claim", None)
        return self.claim_serializer(claim).data if claim is not None else None


class EligibilityInputSerializer(PlainFieldsSerializer):
    code = CodeField(required=False)
    consent_id = serializers.UUIDField(required=False, help_text="A consent already granted.")
    perk = serializers.ChoiceField(choices=PerkKind.choices)
    amount = MinorUnitsField(help_text="The deposit asked for, in minor units.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("code" in attrs) == ("consent_id" in attrs):
            raise serializers.ValidationError(
                {"code": "Send either a code or a consent_id (exactly one)."}
            )
        return attrs


class DecisionOutputSerializer(PlainFieldsSerializer):
    decision_id = serializers.UUIDField(source="id")
    consent_id = serializers.UUIDField()
    perk = serializers.CharField(source="perk.kind")
    amount = serializers.IntegerField(source="requested_amount")
    eligible = serializers.BooleanField()
    waived_amount = serializers.IntegerField()
    held_amount = serializers.IntegerField()
    currency = serializers.CharField()
    reasons = StoredReasonsField()
    expires_at = serializers.DateTimeField(help_text="Book before this; a decision books once.")


class CitizenDecisionFilterSerializer(serializers.Serializer):
    id = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=100,
        help_text="Only these decisions (repeat the parameter: ?id=…&id=…).",
    )


class CitizenDecisionOutputSerializer(PlainFieldsSerializer):
    """A decision a merchant made about the citizen: who, for what, and what it decided
    (the citizen's own view; the reasons are the merchant's and stay in the export)."""

    id = serializers.UUIDField()
    merchant = MerchantSummaryOutputSerializer()
    perk = serializers.CharField(source="perk.kind")
    amount = serializers.IntegerField(source="requested_amount", help_text="The deposit asked.")
    eligible = serializers.BooleanField()
    waived_amount = serializers.IntegerField()
    held_amount = serializers.IntegerField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class BookingInputSerializer(serializers.Serializer):
    decision_id = serializers.UUIDField()
    reference = serializers.CharField(max_length=100, help_text="Your own booking reference.")
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    deposit_amount = MinorUnitsField(
        help_text="At most the amount of the decision; the waived part is never held."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["check_out"] < attrs["check_in"]:
            raise serializers.ValidationError({"check_out": "On or after check_in."})
        return attrs


class BookingAmendInputSerializer(serializers.Serializer):
    check_in = serializers.DateField(
        required=False, help_text="The new check-in date (today or later); unchanged if absent."
    )
    check_out = serializers.DateField(
        required=False, help_text="The new check-out date; unchanged if absent."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                {"check_in": "Send check_in, check_out or both."}, code="required"
            )
        if "check_in" in attrs and "check_out" in attrs and attrs["check_out"] < attrs["check_in"]:
            raise serializers.ValidationError({"check_out": "On or after check_in."})
        return attrs


class CitizenBookingOutputSerializer(BookingOutputSerializer):
    claim_serializer = CitizenClaimOutputSerializer

    merchant = MerchantSummaryOutputSerializer()

    @extend_schema_field(CitizenClaimOutputSerializer(allow_null=True))
    def get_claim(self, booking: Any) -> dict[str, Any] | None:
        return super().get_claim(booking)


class ClaimDisputeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="What is wrong with the claim.")
