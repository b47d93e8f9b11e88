"""Input and output serializers of the merchants API (separate, uniquely named).

Input serializers list exactly the fields a caller may write; anything else in a body
is ignored, so amounts, statuses and owners are always the server's.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.fields import MinorUnitsField
from merchants import consent_texts, selectors, services
from merchants.models import ConsentScope, Merchant, MerchantCategory
from merchants.selectors import ConsentStatus

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


class ConsentTermsOutputFields(serializers.Serializer):
    """What the citizen agreed to, as merchant and citizen both read it: the billing
    limits (null for other scopes) and the exact consent text shown."""

    max_bill_amount = serializers.IntegerField(
        allow_null=True, help_text="Billing: the largest single bill, in minor units."
    )
    max_monthly_amount = serializers.IntegerField(
        allow_null=True,
        help_text="Billing: the most billed in one calendar month (the server's time zone).",
    )
    currency = serializers.SerializerMethodField(help_text="The currency of the limits.")
    text = serializers.CharField(
        help_text="The consent text the citizen was shown (empty: made before texts were kept)."
    )
    text_version = serializers.CharField()
    language = serializers.CharField(help_text="`en`, `es` or `zh` (empty with no text).")
    renewed_at = serializers.DateTimeField(
        allow_null=True, help_text="When a new code last renewed it."
    )

    def get_currency(self, consent: Any) -> str:
        return str(settings.WALLET_CURRENCY)


class MerchantConsentOutputSerializer(ConsentTermsOutputFields):
    id = serializers.UUIDField()
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Null: until the citizen revokes it (billing)."
    )


class MerchantConsentDetailOutputSerializer(MerchantConsentOutputSerializer):
    """A consent as its merchant reads it: its terms, lifetime and where it stands.
    Nothing about the citizen (no score, no name)."""

    status = serializers.SerializerMethodField(
        help_text="`active` (neither revoked nor expired), `revoked` or `expired`."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=ConsentStatus.choices))
    def get_status(self, consent: Any) -> str:
        return selectors.consent_status(consent)


# --- Citizen side ----------------------------------------------------------------------


class AuthorizationCodeInputSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    merchant_id = serializers.UUIDField(
        required=False, help_text="Only this merchant may redeem the code."
    )
    max_bill_amount = MinorUnitsField(
        required=False,
        help_text="Billing (required): the largest single bill the merchant may issue, in "
        "minor units. The app proposes `BILLING_DEFAULT_MAX_BILL`.",
    )
    max_monthly_amount = MinorUnitsField(
        required=False,
        help_text="Billing (required): the most it may bill in one calendar month, at least "
        "`max_bill_amount`. The app proposes `BILLING_DEFAULT_MAX_MONTHLY`.",
    )
    language = serializers.ChoiceField(
        choices=consent_texts.LANGUAGES,
        required=False,
        help_text="The language of the consent text; by default the request's "
        "(`Accept-Language`), else English.",
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
    consent_text = serializers.CharField(help_text="The consent text to show with the code.")
    text_version = serializers.CharField()
    language = serializers.CharField()
    max_bill_amount = serializers.IntegerField(allow_null=True)
    max_monthly_amount = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()


class CitizenConsentOutputSerializer(ConsentTermsOutputFields):
    id = serializers.UUIDField()
    merchant = MerchantSummaryOutputSerializer()
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    granted_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Null: until revoked (billing)."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    is_live = serializers.SerializerMethodField(help_text="Neither revoked nor expired.")

    def get_is_live(self, consent: Any) -> bool:
        return consent.revoked_at is None and (
            consent.expires_at is None or consent.expires_at > timezone.now()
        )
