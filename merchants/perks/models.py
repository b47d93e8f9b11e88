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
from datetime import date, datetime, time, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from common.audit import audit_trail
from merchants.models import Consent, Merchant
from merchants.perks.errors import ClaimDisputeNotOpen
from scoring.models import DisputeBase, DisputeStatus


class PerkKind(models.TextChoices):
    DEPOSIT_WAIVER = "deposit_waiver", "Deposit waiver"


# The range each of a perk's stay bounds may take (days ahead, nights, claim window days):
# what staff may set (the admin's form, ``services.perk_create``/``perk_update``), as the
# database's check ``perk_bounds_within`` states it (a test keeps the two the same).
PERK_BOUND_RANGES: dict[str, tuple[int, int]] = {
    "booking_max_days_ahead": (1, 730),
    "booking_max_nights": (1, 365),
    "claim_window_days": (1, 60),
}


class Perk(models.Model):
    """What a merchant offers, and to whom: ``rules`` is data (``merchants.perks.rules``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="perks")
    kind = models.CharField(max_length=32, choices=PerkKind.choices)
    max_amount = models.BigIntegerField(help_text="The most that may be waived, minor units.")
    rules = models.JSONField(help_text="Conditions over facts, and waiver tiers by band.")
    is_active = models.BooleanField(default=True)
    booking_max_days_ahead = models.PositiveSmallIntegerField(
        default=90, help_text="A stay starts at most this many days after it is booked."
    )
    booking_max_nights = models.PositiveSmallIntegerField(
        default=30, help_text="A stay lasts at most this many nights."
    )
    claim_window_days = models.PositiveSmallIntegerField(
        default=14,
        help_text="A stay's outcome (and any damage claim) is reported at most this many "
        "days after check-out.",
    )
    version_number = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="The number of the perk's active version (its terms as they went live).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The version number is recorded by the versions themselves (``PerkVersion``).
    history = audit_trail(excluded_fields=["updated_at", "version_number"])

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
            models.CheckConstraint(
                condition=Q(booking_max_days_ahead__gte=1, booking_max_days_ahead__lte=730)
                & Q(booking_max_nights__gte=1, booking_max_nights__lte=365)
                & Q(claim_window_days__gte=1, claim_window_days__lte=60),
                name="perk_bounds_within",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.merchant}"


class PerkChangeStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPLIED = "applied", "Approved and applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PerkChange(models.Model):
    """A proposed change of what a perk decides (its rules, the most it waives, its
    bounds, whether it is active). It goes live only when a second member of staff
    approves it (``merchants.perks.services.perk_change_approve``); the one who proposed
    it cannot. ``perk`` is empty for a new perk, created on approval."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    perk = models.ForeignKey(
        Perk, on_delete=models.PROTECT, null=True, blank=True, related_name="changes"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, choices=PerkKind.choices)
    rules = models.JSONField()
    max_amount = models.BigIntegerField()
    is_active = models.BooleanField()
    booking_max_days_ahead = models.PositiveSmallIntegerField()
    booking_max_nights = models.PositiveSmallIntegerField()
    claim_window_days = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True, help_text="Why: what the change is for.")
    status = models.CharField(
        max_length=16, choices=PerkChangeStatus.choices, default=PerkChangeStatus.PENDING
    )
    # What the perk looked like when the change was proposed: a change proposed against
    # an older state is refused on approval, never applied over someone else's change.
    base_updated_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ("-proposed_at",)
        permissions: ClassVar = [
            ("approve_perkchange", "Can approve a perk change someone else proposed"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="perk_change_decided_once",
            ),
            models.CheckConstraint(
                condition=~Q(status="applied") | ~Q(decided_by=F("proposed_by")),
                name="perk_change_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"Change of {self.get_kind_display()} at {self.merchant} ({self.status})"


class PerkVersion(models.Model):
    """A perk's terms as they went live: version 1 when the perk was created, the next
    each time an approved change (or the system) made new terms live. Immutable: the
    terms are never changed, only ``retired_at`` is set, once, when the next version
    goes live (on PostgreSQL a trigger refuses anything else, and every DELETE). One
    version of a perk is unretired: its active one, whose number ``Perk.version_number``
    repeats. Every eligibility decision names the version it was made under, so it can
    be explained with those rules after they changed."""

    id = models.BigAutoField(primary_key=True)
    perk = models.ForeignKey(Perk, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    rules = models.JSONField(help_text="Conditions over facts, and waiver tiers by band.")
    max_amount = models.BigIntegerField(help_text="The most that may be waived, minor units.")
    is_active = models.BooleanField()
    booking_max_days_ahead = models.PositiveSmallIntegerField()
    booking_max_nights = models.PositiveSmallIntegerField()
    claim_window_days = models.PositiveSmallIntegerField()
    change = models.ForeignKey(
        PerkChange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="versions",
        help_text="The approved change that made these terms live (empty when the system "
        "did, or for terms older than versions).",
    )
    activated_at = models.DateTimeField()
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who approved it (empty when the system made it live).",
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("perk", "-version")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("perk", "version"), name="perk_version_once"),
            models.UniqueConstraint(
                fields=("perk",),
                condition=Q(retired_at__isnull=True),
                name="perk_version_one_active",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="perk_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.perk} v{self.version}"


class Decision(models.Model):
    """An eligibility decision: what a merchant was told, from which snapshot. Valid for
    a few minutes; books at most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="decisions")
    perk = models.ForeignKey(Perk, on_delete=models.PROTECT, related_name="decisions")
    perk_version = models.ForeignKey(
        PerkVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        help_text="The perk's terms the decision was made under (empty only for decisions "
        "older than perk versions).",
    )
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
    HOLD_FAILED = "hold_failed", "Hold failed (the deposit could not be held)"
    CANCELLED = "cancelled", "Cancelled"


class CancelReason(models.TextChoices):
    CONSENT_REVOKED = "consent_revoked", "The guest revoked the consent before check-in"
    MERCHANT = "merchant", "The merchant cancelled it before check-in"


class BookingOutcome(models.TextChoices):
    OK = "ok", "Completed without a problem"
    DAMAGE = "damage", "Damage claimed"
    NO_SHOW = "no_show", "No-show"


# A booking's deposit is held from this many days before check-in (local dates), not
# from the day it is booked: a stay booked months ahead locks no money for months.
HOLD_LEAD_DAYS = 2


def hold_due_on(check_in: date) -> date:
    """The local day from which a stay's deposit is held (the one statement of the rule:
    the booking, the periodic task and the check-in all read it)."""
    return check_in - timedelta(days=HOLD_LEAD_DAYS)


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
    cancel_reason = models.CharField(
        max_length=32, choices=CancelReason.choices, blank=True, db_default=""
    )
    created_at = models.DateTimeField()
    checked_in_at = models.DateTimeField(
        null=True, blank=True, help_text="When the merchant checked the guest in, if it did."
    )
    hold_failed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
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
                condition=Q(
                    status__in=[
                        BookingStatus.CONFIRMED,
                        BookingStatus.HOLD_FAILED,
                        BookingStatus.CANCELLED,
                    ],
                    outcome="",
                )
                | (Q(status=BookingStatus.COMPLETED) & ~Q(outcome="")),
                name="booking_outcome_when_completed",
            ),
            models.CheckConstraint(
                condition=Q(status=BookingStatus.CANCELLED, cancelled_at__isnull=False)
                & ~Q(cancel_reason="")
                | (
                    ~Q(status=BookingStatus.CANCELLED)
                    & Q(cancelled_at__isnull=True, cancel_reason="")
                ),
                name="booking_cancelled_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=BookingStatus.HOLD_FAILED, hold_failed_at__isnull=False)
                | (~Q(status=BookingStatus.HOLD_FAILED) & Q(hold_failed_at__isnull=True)),
                name="booking_hold_failed_when",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("merchant", "-created_at"), name="booking_merchant_created"),
            models.Index(fields=("citizen", "-created_at"), name="booking_citizen_created"),
            # The bookings whose deposit is still to be held (placed near check-in).
            models.Index(
                fields=("check_in",),
                condition=Q(status="confirmed", hold__isnull=True, hold_amount__gt=0),
                name="booking_hold_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} booking {self.reference}"

    @property
    def hold_placed(self) -> bool:
        """Whether the deposit's hold was placed (it may have ended since)."""
        return self.hold_id is not None

    @property
    def hold_due_at(self) -> datetime | None:
        """When the deposit's hold is to be placed (the start of :func:`hold_due_on`,
        local): None once it was placed, when nothing is to be held, or when the booking
        is no longer confirmed."""
        if self.hold_id is not None or self.hold_amount <= 0:
            return None
        if self.status != BookingStatus.CONFIRMED:
            return None
        return datetime.combine(
            hold_due_on(self.check_in), time.min, tzinfo=timezone.get_current_timezone()
        )


class ClaimStatus(models.TextChoices):
    AWAITING_GUEST = "awaiting_guest", "Awaiting the guest's answer"
    PAID = "paid", "Paid"
    UNPAID = "unpaid", "Unpaid"
    DISPUTED = "disputed", "Disputed (staff decide; only the hold waits)"
    UPHELD = "upheld", "Dispute upheld (nothing owed)"
    REJECTED = "rejected", "Dispute rejected (charged as accepted)"
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
    respond_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Until when the guest may accept or dispute it; unanswered by then, it "
        "is charged. Empty for claims made before guests had a say.",
    )
    accepted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the guest accepted it, if they did."
    )
    charged_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was charged (accepted, unanswered or rejected)."
    )
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
            models.Index(
                fields=("respond_by",),
                condition=Q(status="awaiting_guest"),
                name="claim_awaiting_respond_by",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.amount} on {self.booking}"

    @property
    def unpaid_amount(self) -> int:
        return self.amount - self.paid_amount


class ClaimLine(models.Model):
    """One item of a damage claim: what was damaged and what it costs. A claim's amount
    is the sum of its lines."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField()
    description = models.CharField(max_length=500)

    class Meta:
        ordering = ("claim", "position")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("claim", "position"), name="claim_line_position_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="claim_line_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.amount})"


class EvidenceParty(models.TextChoices):
    MERCHANT = "merchant", "The merchant"
    GUEST = "guest", "The guest"


def evidence_upload_to(instance: ClaimEvidence, filename: str) -> str:
    """Stored under a name of our own (the claim and a random id): the uploader's file
    name is kept in ``name`` for display only, never used as a path."""
    return f"claims/{instance.claim_id}/{uuid.uuid4().hex}"


class ClaimEvidence(models.Model):
    """A file backing a claim (a photo, an invoice): stored with Django's storage API,
    served only to the claim's merchant, its guest and staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="evidence")
    party = models.CharField(
        max_length=16, choices=EvidenceParty.choices, default=EvidenceParty.MERCHANT
    )
    file = models.FileField(upload_to=evidence_upload_to, max_length=200)
    name = models.CharField(max_length=200, help_text="The file's name as uploaded.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ("claim", "uploaded_at")
        verbose_name_plural = "claim evidence"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_party_display()})"


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

    history = audit_trail(excluded_fields=["reason"])

    class Meta(DisputeBase.Meta):
        db_table = "merchants_claimdispute"
        ordering = ("-opened_at",)
        indexes: ClassVar = [
            models.Index(fields=("status", "opened_at"), name="claim_dispute_status_opened"),
        ]

    def __str__(self) -> str:
        return f"Dispute of {self.claim} ({self.get_status_display()})"
