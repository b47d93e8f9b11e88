"""Input and output serializers of the merchants API (separate, uniquely named).

Input serializers list exactly the fields a caller may write; anything else in a body
is ignored, so amounts, statuses and owners are always the server's.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from merchants import services
from merchants.models import ConsentScope, Merchant, MerchantCategory

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


# --- Merchant side ---------------------------------------------------------------------


class CodeRedeemInputSerializer(serializers.Serializer):
    code = CodeField()


class MerchantConsentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


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
