"""Merchants, their API keys, and citizens' one-time codes and consents.

Invariants:

- Secrets are never stored: an API key and a one-time code are kept as digests only.
- A one-time code is redeemed at most once (its row is locked while it is redeemed)
  and makes exactly one consent.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models


class MerchantCategory(models.TextChoices):
    HOTEL = "hotel", "Hotel"
    RENTAL = "rental", "Rental"
    BILLER = "biller", "Biller"


class Merchant(models.Model):
    """A hotel, rental or biller; money it collects lands on its settlement account,
    which is paid out to its ``payout_destination`` (daily, above a threshold, or when
    staff ask)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=MerchantCategory.choices)
    is_active = models.BooleanField(
        default=True, help_text="An inactive merchant's keys stop working."
    )
    settlement = models.OneToOneField(
        "wallet.LedgerAccount", on_delete=models.PROTECT, related_name="merchant"
    )
    payout_destination = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where its settlement balance is paid out, as the payment provider names "
        "it (a bank account). Empty: its balance is never paid out.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A merchant's API key: ``sk_live_<prefix>_<secret>``, shown once.

    Only the SHA-256 digest of the whole key is stored (the key is random enough that a
    fast digest cannot be reversed); the public ``prefix`` finds the row and lets staff
    and the merchant recognise a key without seeing it.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, help_text="What the key is for.")
    prefix = models.CharField(max_length=32, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.merchant})"


class ConsentScope(models.TextChoices):
    DEPOSIT_WAIVER = "deposit_waiver", "Deposit waiver"
    BILLING = "billing", "Billing"


class AuthorizationCode(models.Model):
    """A citizen's one-time code: redeemed by a merchant, it becomes a consent.

    ``digest`` is an HMAC of the code under the server's secret: eight characters are
    too few to survive a plain digest being guessed offline.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authorization_codes"
    )
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="If set, only this merchant may redeem the code.",
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-created_at"), name="code_citizen_created"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_scope_display()} code of {self.citizen}, {self.created_at:%Y-%m-%d %H:%M}"
        )


class Consent(models.Model):
    """A citizen lets one merchant ask about them for one purpose, until it expires or
    the citizen revokes it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="consents")
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    code = models.OneToOneField(AuthorizationCode, on_delete=models.PROTECT, related_name="consent")
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-granted_at",)
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-granted_at"), name="consent_citizen_granted"),
            models.Index(fields=("merchant", "-granted_at"), name="consent_merchant_granted"),
        ]

    def __str__(self) -> str:
        return f"{self.citizen} → {self.merchant} ({self.get_scope_display()})"
