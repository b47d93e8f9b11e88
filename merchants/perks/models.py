"""Perks and what they lead to: eligibility decisions, bookings, claims and claim
disputes.

Invariants:

- A decision books at most once (the booking's one-to-one link to it).
- A merchant has at most one active perk of each kind (a partial unique index).
- Money is never a field of its own here: holds, claims' collections and refunds are
  ledger transfers (``wallet``); amounts here say what was agreed, in minor units.

The tables kept the names they had when these models lived in ``merchants``
(``Meta.db_table``): moving the models between apps moved no data.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from merchants.models import Consent, Merchant
from merchants.perks.errors import ClaimDisputeNotOpen
from scoring.models import DisputeBase, DisputeStatus


class PerkKind(models.TextChoices):
    DEPOSIT_WAIVER = "deposit_waiver", "Deposit waiver"


class Perk(models.Model):
    """What a merchant offers, and to whom: ``rules`` is data (``merchants.perks.rules``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="perks")
    kind = models.CharField(max_length=32, choices=PerkKind.choices)
    max_amount = models.BigIntegerField(help_text="The most that may be waived, minor units.")
    rules = models.JSONField(help_text="Conditions over facts, and waiver tiers by band.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "merchants_perk"
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
        db_table = "merchants_decision"
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
        db_table = "merchants_booking"
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
        db_table = "merchants_claim"
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


# A claim dispute's states are every dispute's (the name is kept for its importers).
ClaimDisputeStatus = DisputeStatus


class ClaimDispute(DisputeBase):
    """A citizen contests a claim: while open it is not collected and its "claim unpaid"
    record does not count (a scoring dispute of that record, opened with it). Upheld, the
    claim is cancelled and what was collected refunded; rejected, it stands."""

    not_open_error: ClassVar[type[Exception]] = ClaimDisputeNotOpen

    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="dispute")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claim_disputes"
    )
    record_dispute = models.OneToOneField(
        "scoring.Dispute",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claim_dispute",
        help_text="The dispute of the claim's credit record, if it had one.",
    )

    class Meta(DisputeBase.Meta):
        db_table = "merchants_claimdispute"
        ordering = ("-opened_at",)
        indexes: ClassVar = [
            models.Index(fields=("status", "opened_at"), name="claim_dispute_status_opened"),
        ]

    def __str__(self) -> str:
        return f"Dispute of {self.claim} ({self.get_status_display()})"
