"""Merchants, their API keys and perks, citizens' consents, eligibility decisions,
bookings and claims.

Invariants:

- Secrets are never stored: an API key and a one-time code are kept as digests only.
- A one-time code is redeemed at most once (its row is locked while it is redeemed)
  and makes exactly one consent.
- A decision books at most once (the booking's one-to-one link to it).
- A merchant has at most one active perk of each kind (a partial unique index).
- Money is never a field of its own here: holds, claims' collections and refunds are
  ledger transfers (``wallet``); amounts here say what was agreed, in minor units.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class MerchantCategory(models.TextChoices):
    HOTEL = "hotel", "Hotel"
    RENTAL = "rental", "Rental"
    BILLER = "biller", "Biller"


class Merchant(models.Model):
    """A hotel, rental or biller; money it collects lands on its settlement account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=MerchantCategory.choices)
    is_active = models.BooleanField(
        default=True, help_text="An inactive merchant's keys stop working."
    )
    settlement = models.OneToOneField(
        "wallet.LedgerAccount", on_delete=models.PROTECT, related_name="merchant"
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


class PerkKind(models.TextChoices):
    DEPOSIT_WAIVER = "deposit_waiver", "Deposit waiver"


class Perk(models.Model):
    """What a merchant offers, and to whom: ``rules`` is data (``merchants.rules``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="perks")
    kind = models.CharField(max_length=32, choices=PerkKind.choices)
    max_amount = models.BigIntegerField(help_text="The most that may be waived, minor units.")
    rules = models.JSONField(help_text="Conditions over facts, and waiver tiers by band.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("merchant__name", "kind")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("merchant", "kind"),
                condition=Q(is_active=True),
                name="perk_one_active_per_kind",
            ),
            models.CheckConstraint(condition=Q(max_amount__gte=0), name="perk_max_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.merchant}"


class Decision(models.Model):
    """An eligibility decision: what a merchant was told, from which snapshot. Valid for
    a few minutes; books at most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="decisions")
    perk = models.ForeignKey(Perk, on_delete=models.PROTECT, related_name="decisions")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="decisions")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.ForeignKey(
        "scoring.ScoreSnapshot", on_delete=models.PROTECT, related_name="+"
    )
    requested_amount = models.BigIntegerField()
    eligible = models.BooleanField()
    waived_amount = models.BigIntegerField()
    held_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reasons = models.JSONField(help_text="[{code, message}] as the merchant saw them.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(waived_amount__gte=0)
                & Q(held_amount__gte=0)
                & Q(requested_amount=F("waived_amount") + F("held_amount")),
                name="decision_amounts_add_up",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("merchant", "-created_at"), name="decision_merchant_created"),
        ]

    def __str__(self) -> str:
        return f"Decision {self.id} ({'eligible' if self.eligible else 'not eligible'})"


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    COMPLETED = "completed", "Completed"


class BookingOutcome(models.TextChoices):
    OK = "ok", "Completed without a problem"
    DAMAGE = "damage", "Damage claimed"
    NO_SHOW = "no_show", "No-show"


class Booking(models.Model):
    """A stay booked from a decision: the waived part of the deposit needs no money, the
    rest is a hold on the citizen's wallet until the stay is completed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="bookings")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="booking")
    reference = models.CharField(max_length=100, help_text="The merchant's own reference.")
    check_in = models.DateField()
    check_out = models.DateField()
    deposit_amount = models.BigIntegerField()
    waived_amount = models.BigIntegerField()
    hold_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    hold = models.OneToOneField(
        "wallet.Hold", on_delete=models.PROTECT, null=True, blank=True, related_name="booking"
    )
    status = models.CharField(
        max_length=16, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED
    )
    outcome = models.CharField(max_length=16, choices=BookingOutcome.choices, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(waived_amount__gte=0)
                & Q(hold_amount__gte=0)
                & Q(deposit_amount=F("waived_amount") + F("hold_amount")),
                name="booking_amounts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(check_out__gte=F("check_in")), name="booking_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(status=BookingStatus.CONFIRMED, outcome="")
                | (Q(status=BookingStatus.COMPLETED) & ~Q(outcome="")),
                name="booking_outcome_when_completed",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("merchant", "-created_at"), name="booking_merchant_created"),
            models.Index(fields=("citizen", "-created_at"), name="booking_citizen_created"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} booking {self.reference}"


class ClaimStatus(models.TextChoices):
    PAID = "paid", "Paid"
    UNPAID = "unpaid", "Unpaid"
    DISPUTED = "disputed", "Disputed (not collected until resolved)"
    CANCELLED = "cancelled", "Cancelled (dispute upheld, refunded)"


class Claim(models.Model):
    """A merchant's damage claim after a stay: collected from the hold, then from the
    wallet; what could not be collected stays unpaid until the citizen pays it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="claim")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="claims")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims"
    )
    amount = models.BigIntegerField()
    paid_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500)
    status = models.CharField(max_length=16, choices=ClaimStatus.choices)
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(amount__gt=0)
                & Q(paid_amount__gte=0)
                & Q(paid_amount__lte=F("amount"))
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("paid_amount")),
                name="claim_amounts_within",
            ),
            models.CheckConstraint(
                condition=~Q(status=ClaimStatus.PAID) | Q(paid_amount=F("amount")),
                name="claim_paid_in_full",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-created_at"), name="claim_citizen_created"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.amount} on {self.booking}"

    @property
    def unpaid_amount(self) -> int:
        return self.amount - self.paid_amount


class ClaimDisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    UPHELD = "upheld", "Upheld (claim cancelled, collected money refunded)"
    REJECTED = "rejected", "Rejected (claim stands)"


class ClaimDispute(models.Model):
    """A citizen contests a claim: while open it is not collected and its "claim unpaid"
    record does not count (a scoring dispute of that record, opened with it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="dispute")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claim_disputes"
    )
    reason = models.TextField(max_length=2000)
    status = models.CharField(
        max_length=16, choices=ClaimDisputeStatus.choices, default=ClaimDisputeStatus.OPEN
    )
    record_dispute = models.OneToOneField(
        "scoring.Dispute",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claim_dispute",
        help_text="The dispute of the claim's credit record, if it had one.",
    )
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when upheld automatically after 30 days.",
    )

    class Meta:
        ordering = ("-opened_at",)
        indexes: ClassVar = [
            models.Index(fields=("status", "opened_at"), name="claim_dispute_status_opened"),
        ]

    def __str__(self) -> str:
        return f"Dispute of {self.claim} ({self.get_status_display()})"


class BillStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"


class Bill(models.Model):
    """A bill a biller issued to a citizen under a billing consent: paid from the wallet
    to the biller's settlement account. Paid by its due date it is a kept commitment;
    left unpaid past it, a daily task records it overdue once (``overdue_recorded_at``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="bills")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bills"
    )
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="bills")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=500)
    due_date = models.DateField()
    status = models.CharField(max_length=8, choices=BillStatus.choices, default=BillStatus.OPEN)
    issued_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.OneToOneField(
        "wallet.Transfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bill",
        help_text="The ledger transfer that paid the bill.",
    )
    overdue_recorded_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text='When the "bill overdue" record was written (once, the day after the due date).',
    )

    class Meta:
        ordering = ("-issued_at",)
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="bill_amount_positive"),
            models.CheckConstraint(
                condition=(
                    Q(status=BillStatus.OPEN, paid_at__isnull=True, payment__isnull=True)
                    | Q(status=BillStatus.PAID, paid_at__isnull=False, payment__isnull=False)
                ),
                name="bill_paid_with_payment",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("citizen", "-issued_at"), name="bill_citizen_issued"),
            models.Index(fields=("merchant", "-issued_at"), name="bill_merchant_issued"),
            models.Index(
                fields=("due_date",),
                condition=Q(status=BillStatus.OPEN, overdue_recorded_at__isnull=True),
                name="bill_open_not_overdue_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Bill {self.amount} {self.currency} by {self.merchant} due {self.due_date}"
