"""Input and output serializers of the wallet API (separate, uniquely named)."""

import re
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common import descriptions
from common.money import minor_unit_exponent
from wallet.models import Entry, IdentityLevel, TransferKind, User, username_normalise

# --- Accounts --------------------------------------------------------------------------


USERNAME_PATTERN = r"^[\w.@+-]+\Z"
USERNAME_MAX_LENGTH = 150


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(
        USERNAME_PATTERN,
        max_length=USERNAME_MAX_LENGTH,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
        help_text="Stored and shown in its normalised form (NFKC, case-folded): `Demo` in "
        "full-width letters is `demo`, and taken if `demo` is.",
    )
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    display_name = serializers.CharField(max_length=100, allow_blank=True, required=False)
    email = serializers.EmailField(
        max_length=254,
        allow_blank=True,
        required=False,
        help_text="Optional; unverified until the link e-mailed to it is followed. Password "
        "resets go only to a verified address.",
    )

    def validate_username(self, value: str) -> str:
        """The name as it will be stored: normalised, then checked again (normalising
        may lengthen it, as ``ß`` becomes ``ss``) and against every account's."""
        normalised = username_normalise(value)
        if len(normalised) > USERNAME_MAX_LENGTH:
            raise serializers.ValidationError(
                f"Ensure this field has no more than {USERNAME_MAX_LENGTH} characters.",
                code="max_length",
            )
        if not re.match(USERNAME_PATTERN, normalised):
            raise serializers.ValidationError("Letters, digits and @/./+/-/_ only.", code="invalid")
        if User.objects.with_username(normalised).exists():
            raise serializers.ValidationError("This username is taken.", code="username_taken")
        return normalised

    def validate(self, attrs: dict) -> dict:
        candidate = User(username=attrs["username"], display_name=attrs.get("display_name", ""))
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            # Each message keeps its validator's code (password_too_short, ...), so a
            # client can say it in the citizen's language.
            raise serializers.ValidationError(
                {
                    "password": [
                        serializers.ErrorDetail(message, code=item.code or "invalid")
                        for item in error.error_list
                        for message in item.messages
                    ]
                }
            ) from error
        return attrs


class CredentialsInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ProfileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    username = serializers.CharField()
    display_name = serializers.CharField()
    identity_level = serializers.ChoiceField(choices=IdentityLevel.choices)
    date_joined = serializers.DateTimeField()
    email = serializers.CharField(help_text="The e-mail address, or empty.")
    email_verified = serializers.BooleanField(
        help_text="The citizen followed the link sent to `email`."
    )
    phone_number = serializers.CharField(help_text="The verified phone number (E.164), or empty.")


class MeOutputSerializer(ProfileOutputSerializer):
    """The profile, and what "today" is on the server."""

    business_date = serializers.SerializerMethodField(
        help_text="Today in the server's time zone (`time_zone`): the date due dates are "
        "compared with (a bill is overdue once its `due_date` is before it)."
    )
    time_zone = serializers.SerializerMethodField(
        help_text="The IANA name of the server's time zone, e.g. `Asia/Shanghai`."
    )

    def get_business_date(self, user: Any) -> date:
        return timezone.localdate()

    def get_time_zone(self, user: Any) -> str:
        return str(timezone.get_current_timezone_name())


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class CsrfOutputSerializer(serializers.Serializer):
    csrf_token = serializers.CharField()


# --- Wallet ----------------------------------------------------------------------------


class WalletOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    balance = serializers.IntegerField(help_text="Minor units.")
    held = serializers.IntegerField(help_text="Minor units set aside by active holds.")
    available = serializers.IntegerField(help_text="balance - held; never below zero.")
    currency_decimals = serializers.SerializerMethodField(
        help_text="How many decimal places `currency`'s minor unit is (2 for CNY, 0 for "
        "JPY, 3 for KWD): 30000 with 2 is 300.00."
    )
    max_top_up = serializers.SerializerMethodField(
        help_text="The largest single top-up accepted, minor units."
    )

    top_up_limit = serializers.IntegerField(
        help_text="The most that can be topped up now, minor units: the single top-up cap, "
        "and what the day's and month's limits and the balance ceiling of the citizen's "
        "identity level leave."
    )
    withdrawal_limit = serializers.IntegerField(
        help_text="The most that can be withdrawn now: the available balance, at most what "
        "is left of today's withdrawal limit."
    )
    payout_destination = serializers.CharField(
        allow_null=True,
        help_text="Where withdrawals go (the payment source of the latest top-up), or null "
        "before the first top-up.",
    )

    def get_currency_decimals(self, wallet: Any) -> int:
        return minor_unit_exponent(wallet.currency)

    def get_max_top_up(self, wallet: Any) -> int:
        return int(settings.WALLET_MAX_TOP_UP)


class TransactionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="transfer_id")
    kind = serializers.ChoiceField(source="transfer.kind", choices=TransferKind.choices)
    amount = serializers.IntegerField(help_text="Signed, for this wallet: + in, - out.")
    currency = serializers.CharField(source="transfer.currency")
    description = serializers.CharField(source="transfer.description")
    description_code = serializers.SerializerMethodField(
        help_text="`description` as a code, with its parts in `description_params`: "
        "`bill` (merchant, what), `claim` (merchant, what), `claim_refund` (merchant), "
        "`deposit` (merchant, reference), `kind_only` (it only repeats the kind); null "
        "for free text."
    )
    description_params = serializers.SerializerMethodField(
        help_text="The parts of `description` its code names (`what` may be absent); "
        "empty when the code is null."
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(
        serializers.ChoiceField(choices=descriptions.DESCRIPTION_CODES, allow_null=True)
    )
    def get_description_code(self, entry: Entry) -> str | None:
        return _described(entry).code

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_description_params(self, entry: Entry) -> dict[str, str]:
        return _described(entry).params


_KIND_LABELS = frozenset(str(label) for label in TransferKind.labels)


def _described(entry: Entry) -> descriptions.Described:
    return descriptions.read(entry.transfer.description, kind_labels=_KIND_LABELS)
