"""Input and output serializers of the payments API."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.fields import MinorUnitsField
from common.schema import ProblemSerializer
from wallet.api.serializers import TransactionOutputSerializer, WalletOutputSerializer
from wallet.models import PayoutStatus, TopUp, TopUpStatus
from wallet.payments import services
from wallet.payments.limits import Period
from wallet.payments.providers import NotificationKind


class AmountInputSerializer(serializers.Serializer):
    amount = MinorUnitsField(help_text="Minor units (30000 is 300.00).")


class TopUpInputSerializer(AmountInputSerializer):
    def validate_amount(self, value: int) -> int:
        if (message := services.top_up_amount_refusal(value)) is not None:
            raise serializers.ValidationError(message)
        return value


class TopUpOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=TopUpStatus.choices)
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    provider = serializers.CharField()
    checkout_url = serializers.SerializerMethodField(
        help_text="Where the payer goes to pay, while `pending`; null otherwise."
    )
    failure_reason = serializers.CharField(help_text="Why it failed or expired; empty otherwise.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="A pending top-up not paid by then expires.")
    resolved_at = serializers.DateTimeField(allow_null=True)
    transaction = serializers.SerializerMethodField(
        help_text="The wallet's credit (a `/me/transactions` item) once succeeded; else null."
    )

    def get_checkout_url(self, top_up: TopUp) -> str | None:
        return top_up.checkout_url if top_up.status == TopUpStatus.PENDING else None

    @extend_schema_field(TransactionOutputSerializer(allow_null=True))
    def get_transaction(self, top_up: TopUp) -> dict[str, Any] | None:
        transfer = top_up.transfer
        if transfer is None:
            return None
        prefetched = getattr(transfer, "wallet_entries", None)  # selectors.top_ups_of
        entry = (
            prefetched[0]
            if prefetched
            else transfer.entries.select_related("transfer").get(account__user_id=top_up.user_id)
        )
        return TransactionOutputSerializer(entry).data


class TopUpCreatedOutputSerializer(TopUpOutputSerializer):
    wallet = WalletOutputSerializer(help_text="The wallet now.")


class WithdrawalOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=PayoutStatus.choices)
    amount = serializers.IntegerField(help_text="Minor units.")
    currency = serializers.CharField()
    destination = serializers.CharField(help_text="Where the money goes, as the provider names it.")
    failure_reason = serializers.CharField(help_text="Why the payout failed; empty otherwise.")
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class WithdrawalCreatedOutputSerializer(WithdrawalOutputSerializer):
    wallet = WalletOutputSerializer(help_text="The wallet now.")


class PayoutOutputSerializer(WithdrawalOutputSerializer):
    """A merchant's payout of its settlement balance."""


class LimitProblemSerializer(ProblemSerializer):
    """A refusal by a limit (`top_up_limit`, `withdrawal_limit`): which limit, over what."""

    limit = serializers.IntegerField(
        required=False, help_text="The limit, minor units (a limit's refusals only)."
    )
    period = serializers.ChoiceField(
        choices=[p.value for p in Period],
        required=False,
        help_text="What the limit is per: `day`, `month`, or `balance` (the wallet's "
        "ceiling); a limit's refusals only.",
    )


class NotificationDataSerializer(serializers.Serializer):
    reference = serializers.CharField(
        help_text="The provider's reference of the checkout or payout."
    )
    amount = serializers.IntegerField(help_text="What the provider moved, minor units.")
    currency = serializers.CharField()
    payer_label = serializers.CharField(
        required=False, help_text="Where a top-up's money came from (the payout destination)."
    )
    reason = serializers.CharField(required=False, help_text="Why it failed.")


class NotificationInputSerializer(serializers.Serializer):
    """A provider's notification as the sandbox sends it (a real provider's body is its
    own). Only its exact bytes, with a valid signature, are read."""

    type = serializers.ChoiceField(choices=[kind.value for kind in NotificationKind])
    # The body's member is named `data`, as Serializer's output property is (never used:
    # this serializer only documents the body).
    data = NotificationDataSerializer()  # type: ignore[assignment]


class WebhookOutputSerializer(serializers.Serializer):
    received = serializers.BooleanField()
