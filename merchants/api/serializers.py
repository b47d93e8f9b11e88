"""Input and output serializers of the merchants API (separate, uniquely named).

Input serializers list exactly the fields a caller may write; anything else in a body
is ignored, so amounts, statuses and owners are always the server's.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.fields import MinorUnitsField
from merchants import services
from merchants.models import (
    Bill,
    BillStatus,
    BookingOutcome,
    BookingStatus,
    ClaimDisputeStatus,
    ClaimStatus,
    ConsentScope,
    Merchant,
    MerchantCategory,
    PerkKind,
)

_CODE_HELP = (
    f"The citizen's one-time code: {services.CODE_LENGTH} characters; spaces, dashes and "
    "lower case are accepted."
)


class CodeField(serializers.CharField):
    default_error_messages = {
        **serializers.CharField.default_error_messages,
        "malformed": (
            f"A code is {services.CODE_LENGTH} characters from "
            f"{services.CODE_ALPHABET}; check it with the citizen."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", _CODE_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = services.code_normalize(super().to_internal_value(data))
        if not services.code_is_well_formed(code):
            self.fail("malformed")
        return code


# --- Shared output ---------------------------------------------------------------------


class MerchantSummaryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=MerchantCategory.choices)


class ReasonItemOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_field(ReasonItemOutputSerializer(many=True))
class StoredReasonsField(serializers.ReadOnlyField):
    """A decision's reasons as stored (``[{"code", "message"}]``, written by the service
    from the rules' outcome), passed through as they are. Every eligibility answer has
    them; a nested serializer would rebuild its fields for each response."""


class ClaimOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    booking_id = serializers.UUIDField()
    amount = serializers.IntegerField(help_text="Minor units.")
    paid_amount = serializers.IntegerField(help_text="Collected so far, minor units.")
    unpaid_amount = serializers.IntegerField()
    refunded_amount = serializers.IntegerField(help_text="Refunded after an upheld dispute.")
    currency = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=ClaimStatus.choices)
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


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
    hold_amount = serializers.IntegerField(help_text="Held on the guest's wallet.")
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    claim = serializers.SerializerMethodField()

    @extend_schema_field(ClaimOutputSerializer(allow_null=True))
    def get_claim(self, booking: Any) -> dict[str, Any] | None:
        claim = getattr(booking, "claim", None)
        return ClaimOutputSerializer(claim).data if claim is not None else None


# --- Merchant side ---------------------------------------------------------------------


class CodeRedeemInputSerializer(serializers.Serializer):
    code = CodeField()


class MerchantConsentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class EligibilityInputSerializer(serializers.Serializer):
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


class DecisionOutputSerializer(serializers.Serializer):
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


class CompleteInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=BookingOutcome.choices)
    claim_amount = MinorUnitsField(required=False, help_text="With `damage` only.")
    description = serializers.CharField(
        max_length=500, required=False, help_text="With `damage`: what was damaged."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["outcome"] == BookingOutcome.DAMAGE:
            missing = {
                field: "Required with outcome damage."
                for field in ("claim_amount", "description")
                if field not in attrs
            }
            if missing:
                raise serializers.ValidationError(missing)
        elif "claim_amount" in attrs:
            raise serializers.ValidationError({"claim_amount": "Only with outcome damage."})
        return attrs


# --- Citizen side ----------------------------------------------------------------------


class AuthorizationCodeInputSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    merchant_id = serializers.UUIDField(
        required=False, help_text="Only this merchant may redeem the code."
    )

    def validate_merchant_id(self, value: Any) -> Merchant:
        merchant = Merchant.objects.filter(pk=value, is_active=True).first()
        if merchant is None:
            raise serializers.ValidationError("No such merchant.")
        return merchant


class AuthorizationCodeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField(help_text="Show it once; it is not stored.")
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    merchant = MerchantSummaryOutputSerializer(allow_null=True)
    expires_at = serializers.DateTimeField()
    qr_payload = serializers.CharField(help_text="Draw this as a QR code.")


class CitizenConsentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    merchant = MerchantSummaryOutputSerializer()
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    is_live = serializers.SerializerMethodField(help_text="Neither revoked nor expired.")

    def get_is_live(self, consent: Any) -> bool:
        return consent.revoked_at is None and consent.expires_at > timezone.now()


class CitizenBookingOutputSerializer(BookingOutputSerializer):
    merchant = MerchantSummaryOutputSerializer()


class ClaimDisputeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    claim_id = serializers.UUIDField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=ClaimDisputeStatus.choices)
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField()
    resolved_automatically = serializers.SerializerMethodField(
        help_text="Upheld because nobody decided it within 30 days."
    )

    @extend_schema_field(serializers.BooleanField())
    def get_resolved_automatically(self, dispute: Any) -> bool:
        return dispute.status != ClaimDisputeStatus.OPEN and dispute.resolved_by_id is None


class CitizenClaimOutputSerializer(ClaimOutputSerializer):
    merchant = MerchantSummaryOutputSerializer()
    dispute = serializers.SerializerMethodField()

    @extend_schema_field(ClaimDisputeOutputSerializer(allow_null=True))
    def get_dispute(self, claim: Any) -> dict[str, Any] | None:
        dispute = getattr(claim, "dispute", None)
        return ClaimDisputeOutputSerializer(dispute).data if dispute is not None else None


class ClaimDisputeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="What is wrong with the claim.")


class BillInputSerializer(serializers.Serializer):
    consent_id = serializers.UUIDField(help_text="A live consent of scope `billing`.")
    amount = MinorUnitsField()
    due_date = serializers.DateField(
        help_text="Paid on or before this date, the bill counts as paid on time."
    )
    description = serializers.CharField(
        max_length=500, help_text="What the bill is for, as the citizen will read it."
    )


class _BillOutputFields(serializers.Serializer):
    """What biller and citizen both read of a bill."""

    id = serializers.UUIDField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    description = serializers.CharField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=BillStatus.choices)
    issued_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    is_overdue = serializers.SerializerMethodField(help_text="Unpaid after its due date.")
    paid_on_time = serializers.SerializerMethodField(
        help_text="Whether it was paid by its due date; null while unpaid."
    )

    def get_is_overdue(self, bill: Bill) -> bool:
        return bill.status == BillStatus.OPEN and bill.due_date < timezone.localdate()

    def get_paid_on_time(self, bill: Bill) -> bool | None:
        if bill.paid_at is None:
            return None
        return timezone.localdate(bill.paid_at) <= bill.due_date


class BillOutputSerializer(_BillOutputFields):
    consent_id = serializers.UUIDField()


class CitizenBillOutputSerializer(_BillOutputFields):
    biller = MerchantSummaryOutputSerializer(source="merchant")
