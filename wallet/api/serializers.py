"""Input and output serializers of the wallet API (separate, uniquely named)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from common.fields import MinorUnitsField
from wallet.models import IdentityLevel, TransferKind

User = get_user_model()


# --- Accounts --------------------------------------------------------------------------


class RegisterInputSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
    )
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    display_name = serializers.CharField(max_length=100, allow_blank=True, required=False)

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("This username is taken.", code="username_taken")
        return value

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


class TransactionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="transfer_id")
    kind = serializers.ChoiceField(source="transfer.kind", choices=TransferKind.choices)
    amount = serializers.IntegerField(help_text="Signed, for this wallet: + in, - out.")
    currency = serializers.CharField(source="transfer.currency")
    description = serializers.CharField(source="transfer.description")
    created_at = serializers.DateTimeField()


class TopUpInputSerializer(serializers.Serializer):
    amount = MinorUnitsField(help_text="Minor units (30000 is 300.00).")

    def validate_amount(self, value: int) -> int:
        if value > settings.WALLET_MAX_TOP_UP:
            raise serializers.ValidationError(
                f"A single top-up is at most {settings.WALLET_MAX_TOP_UP} minor units."
            )
        return value


class TopUpOutputSerializer(serializers.Serializer):
    transaction = TransactionOutputSerializer()
    wallet = WalletOutputSerializer()
