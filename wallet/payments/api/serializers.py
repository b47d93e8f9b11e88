"""Input and output serializers of the payments API."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.fields import MinorUnitsField
from common.schema import ProblemSerializer
from wallet.api.serializers import TransactionOutputSerializer, WalletOutputSerializer
from wallet.models import PayoutStatus, TopUp, TopUpStatus
from wallet.payments.limits import Period


class AmountInputSerializer(serializers.Serializer):
    amount = MinorUnitsField(help_text="Minor units (30000 is 300.00).")


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
        if top_up.transfer_id is None:
            return None
        entry = top_up.transfer.entries.select_related("transfer").get(  # type: ignore[union-attr]
            account__user_id=top_up.user_id
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

    limit = serializers.IntegerField(help_text="The limit, minor units.")
    period = serializers.ChoiceField(
        choices=[p.value for p in Period],
        help_text="What the limit is per: `day`, `month`, or `balance` (the wallet's ceiling).",
    )


class WebhookOutputSerializer(serializers.Serializer):
    received = serializers.BooleanField()
