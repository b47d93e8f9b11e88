"""Credit events, scorecards, score snapshots, disputes and the access log.

Invariants:

- A credit event is recorded once per (account, source): the source reference makes
  recording idempotent. It counts while it is ``active`` or ``disputed`` (a dispute does
  not stop a record counting: only its furnisher's correction, its furnisher's silence
  or staff remove it), not settled, and before ``counts_until``.
- Exactly one scorecard is active (a partial unique index); only drafts change.
- Snapshots and access-log rows are append-only (on PostgreSQL a trigger refuses
  UPDATE and DELETE; Python refuses them too).
- An event has at most one dispute, ever.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common.audit import audit_trail
from scoring import facts
from scoring.errors import DisputeNotOpen
from scoring.purposes import WITH_AMOUNT, AccessPurpose, Purpose
from wallet.models import ImmutableModel


class EventKind(models.TextChoices):
    BILL_PAID_ON_TIME = facts.EventKinds.BILL_PAID_ON_TIME, "Bill paid on time"
    BILL_PAID_LATE = facts.EventKinds.BILL_PAID_LATE, "Bill paid late"
    BILL_OVERDUE = facts.EventKinds.BILL_OVERDUE, "Bill overdue"
    BOOKING_COMPLETED = facts.EventKinds.BOOKING_COMPLETED, "Booking completed"
    NO_SHOW = facts.EventKinds.NO_SHOW, "No-show"
    CLAIM_PAID = facts.EventKinds.CLAIM_PAID, "Claim paid"
    CLAIM_UNPAID = facts.EventKinds.CLAIM_UNPAID, "Claim unpaid"


class EventStatus(models.TextChoices):
    ACTIVE = "active", "Counts"
    DISPUTED = "disputed", "Disputed (still counts until the dispute is answered)"
    REMOVED = "removed", "Removed (corrected, unanswered or upheld)"


# The statuses of events that count towards the score (within their window, unsettled).
COUNTING_EVENT_STATUSES = (EventStatus.ACTIVE, EventStatus.DISPUTED)


class CreditEvent(models.Model):
    """Something a citizen did about a commitment, the only input of scores."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the unique (account, source) constraint.
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="credit_events",
        db_index=False,
    )
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units, if any.")
    currency = models.CharField(max_length=3, blank=True)
    source = models.CharField(
        max_length=200, help_text="The reference that makes recording idempotent."
    )
    subject = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the event is about (e.g. a claim); a later event about the same "
        "subject may settle it.",
    )
    description = models.CharField(max_length=200, blank=True)
    furnisher_id = models.UUIDField(
        null=True,
        blank=True,
        help_text="The merchant that furnished the record (its id: scoring sits below "
        "merchants and names them by id only); a dispute of the record goes to it.",
    )
    counts_until = models.DateTimeField(help_text="The moment it stops counting.")
    status = models.CharField(
        max_length=16, choices=EventStatus.choices, default=EventStatus.ACTIVE
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-occurred_at",)
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("account", "source"), name="event_source_once"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="event_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(counts_until__gt=F("occurred_at")), name="event_window_positive"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("account", "subject"), name="event_account_subject"),
            # Covers the features query (on PostgreSQL, index-only scans).
            models.Index(
                fields=("account",),
                include=("kind", "status", "occurred_at", "counts_until", "settled_at"),
                name="event_features",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.occurred_at:%Y-%m-%d}"


class ScorecardStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Scorecard(models.Model):
    """A version of the scoring rules, as data (see ``scoring.scorecard``)."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=100)
    status = models.CharField(
        max_length=16, choices=ScorecardStatus.choices, default=ScorecardStatus.DRAFT
    )
    definition = models.JSONField(help_text="base_points and factors; see the README.")
    notes = models.TextField(blank=True, help_text="Why this version: what it changes.")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Four eyes: a draft goes live only when someone who neither wrote nor submitted it
    # approves it (``scoring.services.scorecard_approve``).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who last changed the draft's definition.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who asked for approval; empty while the draft is being written.",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The second member of staff, who approved and activated it.",
    )
    history = audit_trail()

    class Meta:
        ordering = ("-version",)
        permissions: ClassVar = [
            ("submit_scorecard", "Can submit a scorecard draft for approval"),
            ("approve_scorecard", "Can approve and activate a scorecard someone else wrote"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("status",),
                condition=Q(status=ScorecardStatus.ACTIVE),
                name="scorecard_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name} ({self.get_status_display()})"


class SnapshotTrigger(models.TextChoices):
    EVENT = "event", "A credit event"
    BATCH = "batch", "Nightly batch"
    MANUAL = "manual", "Recomputed by staff"
    SCORECARD_ACTIVATION = "scorecard_activation", "A new scorecard version"
    INITIAL = "initial", "First look at the score"


class ScoreSnapshot(ImmutableModel):
    """A score as computed at ``computed_at`` (the moment its features describe).

    A new snapshot is written only when something in it changed; the latest by
    ``computed_at`` is the account's current score. Reasons are stored as codes with the
    points lost; their words come from the scorecard version.
    """

    id = models.BigAutoField(primary_key=True)
    # Indexed by ``snapshot_current``. No database-level foreign keys: the nightly batch
    # writes a snapshot per account, and checking two foreign keys per row at commit
    # cost it a fifth of its time. Snapshots are written only by
    # ``scoring.services.scores_recompute``, for accounts it has just read; accounts and
    # scorecards are never deleted (PROTECT, enforced by Django; no admin deletes them).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="score_snapshots",
        db_index=False,
        db_constraint=False,
    )
    scorecard = models.ForeignKey(  # see ``account``
        Scorecard,
        on_delete=models.PROTECT,
        related_name="snapshots",
        db_index=False,
        db_constraint=False,
    )
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=16)
    points = models.JSONField(help_text="Points per factor key.")
    reasons = models.JSONField(help_text="[code, points lost], largest loss first.")
    features = models.JSONField(help_text="The features the score was computed from.")
    fingerprint = models.BigIntegerField(
        help_text="Identifies what the snapshot says, to skip writing an identical one."
    )
    trigger = models.CharField(max_length=24, choices=SnapshotTrigger.choices)
    computed_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(score__gte=350) & Q(score__lte=950), name="snapshot_score_in_range"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                F("account"), F("computed_at").desc(), F("id").desc(), name="snapshot_current"
            ),
        ]

    def __str__(self) -> str:
        band = facts.BAND_LABELS.get(self.band, self.band)
        return f"{self.score} ({band}) at {self.computed_at:%Y-%m-%d %H:%M}"


class DisputeStatus(models.TextChoices):
    """The states of a dispute decided by staff alone (a claim's): what upholding or
    rejecting does to the disputed thing is the concrete model's to say. A dispute of a
    credit event goes to its furnisher first and has states of its own
    (``RecordDisputeStatus``)."""

    OPEN = "open", "Open"
    UPHELD = "upheld", "Upheld"
    REJECTED = "rejected", "Rejected"


class DisputeResolution(models.TextChoices):
    """Who ended a dispute: staff, or the 30-day rule (which only ever upholds)."""

    STAFF = "staff", "By staff"
    AUTOMATIC = "automatic", "Automatically (30 days without a decision)"


class DisputeBase(models.Model):
    """What every dispute is: a citizen contests something, with a reason, at a moment;
    it ends once. This base's states and constraints are those of a dispute that staff
    decide (upheld or rejected); a subclass with other states (``Dispute``, answered by
    the record's furnisher) declares its own ``status``, ``resolution`` and constraints.

    The database holds the shape together (one check constraint each):

    - open ⇔ no ``resolved_at``, no ``resolution`` and no ``resolved_by``; ended ⇔ both
      ``resolved_at`` and ``resolution`` are set.
    - ``automatic`` ⇒ upheld and no ``resolved_by`` (the 30-day rule only upholds).
    - ``staff`` says nothing about ``resolved_by``: it is the staff member who decided,
      and empty if their account was deleted since (``SET_NULL``) or a service was called
      with no actor. Whether a dispute was decided by someone is the ``resolution``
      column's to say, never inferred from ``resolved_by``.

    Ending a dispute is ``scoring.services.dispute_transition``, the one implementation;
    the subclass's service applies what ending it does to its subject.
    """

    # Refused with this when a dispute that is not open is resolved again.
    not_open_error: ClassVar[type[Exception]] = DisputeNotOpen

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Each subclass declares ``citizen`` again with its own ``related_name``.
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="%(class)s_set"
    )
    reason = models.TextField(max_length=2000)
    status = models.CharField(
        max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(
        max_length=16,
        choices=DisputeResolution.choices,
        blank=True,
        default="",
        help_text="Who ended it: staff, or the 30-day rule; blank while open.",
    )
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=(
            "The staff member who decided. Empty while open, when upheld automatically "
            "after 30 days, or when their account was deleted since."
        ),
    )

    class Meta:
        abstract = True
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(
                    status=DisputeStatus.OPEN,
                    resolved_at__isnull=True,
                    resolution="",
                    resolved_by__isnull=True,
                )
                | (
                    ~Q(status=DisputeStatus.OPEN)
                    & Q(resolved_at__isnull=False)
                    & Q(resolution__in=sorted(DisputeResolution.values))
                ),
                name="%(app_label)s_%(class)s_resolved_once_ended",
            ),
            models.CheckConstraint(
                condition=~Q(resolution=DisputeResolution.AUTOMATIC)
                | Q(status=DisputeStatus.UPHELD, resolved_by__isnull=True),
                name="%(app_label)s_%(class)s_automatic_upholds_alone",
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.status == DisputeStatus.OPEN

    @property
    def resolved_automatically(self) -> bool:
        """Upheld by the 30-day rule because nobody decided it."""
        return self.resolution == DisputeResolution.AUTOMATIC


class RecordDisputeStatus(models.TextChoices):
    """The states of a dispute of a credit event (FCRA §611 style): the furnisher of the
    record answers it, or it is removed after ``respond_by``; a verified record may be
    escalated once to staff, who decide.

    ``open`` → ``verified`` | ``corrected`` | ``removed_unanswered``;
    ``verified`` → ``escalated`` → ``upheld`` | ``rejected``. A dispute of a record with
    no furnisher is ``escalated`` from the start (staff are the only ones to answer)."""

    OPEN = "open", "Open: awaiting the furnisher's answer"
    VERIFIED = "verified", "Verified by the furnisher"
    CORRECTED = "corrected", "Corrected: the furnisher withdrew the record"
    REMOVED_UNANSWERED = "removed_unanswered", "Removed: not answered in time"
    ESCALATED = "escalated", "Escalated to staff"
    UPHELD = "upheld", "Upheld by staff"
    REJECTED = "rejected", "Rejected by staff"


class RecordDisputeResolution(models.TextChoices):
    """Who ended a dispute of a record: its furnisher (corrected), the response deadline
    (removed unanswered) or staff (upheld or rejected after an escalation)."""

    FURNISHER = "furnisher", "By the furnisher"
    AUTOMATIC = "automatic", "Automatically (not answered in time)"
    STAFF = "staff", "By staff"


# What each state of a record dispute leaves its event as: open and escalated disputes
# are awaiting an answer (the record counts, marked disputed); verified and rejected
# records stand; corrected, unanswered and upheld ones are removed.
EVENT_STATUS_FOR_RECORD_DISPUTE: dict[str, str] = {
    RecordDisputeStatus.OPEN: EventStatus.DISPUTED,
    RecordDisputeStatus.ESCALATED: EventStatus.DISPUTED,
    RecordDisputeStatus.VERIFIED: EventStatus.ACTIVE,
    RecordDisputeStatus.REJECTED: EventStatus.ACTIVE,
    RecordDisputeStatus.CORRECTED: EventStatus.REMOVED,
    RecordDisputeStatus.REMOVED_UNANSWERED: EventStatus.REMOVED,
    RecordDisputeStatus.UPHELD: EventStatus.REMOVED,
}
# The furnisher has this long to answer a dispute of its record.
DISPUTE_RESPONSE_PERIOD = timedelta(days=30)

_S = RecordDisputeStatus
_R = RecordDisputeResolution


class Dispute(DisputeBase):
    """A citizen contests a credit event. The event's furnisher (``furnisher_id``, copied
    from the event) must answer by ``respond_by``: verify it (it stands; the citizen may
    escalate once to staff) or correct it (it is removed); unanswered it is removed. While
    a dispute awaits an answer the record is marked disputed and still counts.

    The database holds each state's shape (``dispute_state_shape``): which of
    ``answered_at``, ``escalated_at``, ``resolved_at``, ``resolution`` and
    ``resolved_by`` a state has. Every transition is a ``scoring.services`` function."""

    event = models.OneToOneField(CreditEvent, on_delete=models.PROTECT, related_name="dispute")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes"
    )
    status = models.CharField(
        max_length=24, choices=RecordDisputeStatus.choices, default=RecordDisputeStatus.OPEN
    )
    resolution = models.CharField(
        max_length=16,
        choices=RecordDisputeResolution.choices,
        blank=True,
        default="",
        help_text="Who ended it: the furnisher, the deadline or staff; blank until it ends.",
    )
    furnisher_id = models.UUIDField(
        null=True,
        blank=True,
        help_text="The merchant that furnished the record (copied from the event): it "
        "answers the dispute. Empty: nobody furnished it, staff decide.",
    )
    respond_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The furnisher answers by then, or the record is removed. Empty when "
        "the record has no furnisher.",
    )
    answer_note = models.TextField(blank=True, help_text="The furnisher's answer.")
    answered_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.TextField(
        blank=True, help_text="Why the citizen asked staff to decide, if they said."
    )

    history = audit_trail(excluded_fields=["reason"])

    class Meta:
        ordering = ("-opened_at",)
        indexes: ClassVar = [
            models.Index(fields=("status", "opened_at"), name="dispute_status_opened"),
            models.Index(fields=("furnisher_id", "opened_at"), name="dispute_furnisher"),
            models.Index(
                fields=("respond_by",), condition=Q(status="open"), name="dispute_open_due"
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    Q(
                        status=_S.OPEN,
                        respond_by__isnull=False,
                        answered_at__isnull=True,
                        escalated_at__isnull=True,
                        resolved_at__isnull=True,
                        resolution="",
                        resolved_by__isnull=True,
                    )
                    | Q(
                        status=_S.VERIFIED,
                        answered_at__isnull=False,
                        escalated_at__isnull=True,
                        resolved_at__isnull=True,
                        resolution="",
                        resolved_by__isnull=True,
                    )
                    | Q(
                        status=_S.ESCALATED,
                        escalated_at__isnull=False,
                        resolved_at__isnull=True,
                        resolution="",
                        resolved_by__isnull=True,
                    )
                    | Q(
                        status=_S.CORRECTED,
                        answered_at__isnull=False,
                        escalated_at__isnull=True,
                        resolved_at__isnull=False,
                        resolution=_R.FURNISHER,
                        resolved_by__isnull=True,
                    )
                    | Q(
                        status=_S.REMOVED_UNANSWERED,
                        answered_at__isnull=True,
                        escalated_at__isnull=True,
                        resolved_at__isnull=False,
                        resolution=_R.AUTOMATIC,
                        resolved_by__isnull=True,
                    )
                    | Q(
                        status__in=[_S.UPHELD, _S.REJECTED],
                        escalated_at__isnull=False,
                        resolved_at__isnull=False,
                        resolution=_R.STAFF,
                    )
                ),
                name="dispute_state_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute of {self.event} ({self.get_status_display()})"

    @property
    def awaiting_staff(self) -> bool:
        """Escalated: staff decide it (uphold or reject)."""
        return self.status == RecordDisputeStatus.ESCALATED

    @property
    def can_escalate(self) -> bool:
        """Verified by the furnisher and not escalated yet: the citizen may ask staff."""
        return self.status == RecordDisputeStatus.VERIFIED

    @property
    def resolved_automatically(self) -> bool:
        """Removed because its furnisher did not answer by ``respond_by``."""
        return self.resolution == RecordDisputeResolution.AUTOMATIC


# As plain values, sorted, so that the constraint's migration names no enum.
_WITH_AMOUNT = sorted(code.value for code in WITH_AMOUNT)


class AccessLogEntry(ImmutableModel):
    """Someone other than the citizen read their score or facts. Append-only."""

    id = models.BigAutoField(primary_key=True)
    # Indexed by ``access_log_citizen``.
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="access_log",
        db_index=False,
    )
    accessor_kind = models.CharField(max_length=16, help_text="merchant or staff")
    accessor_id = models.CharField(max_length=64)
    accessor_name = models.CharField(max_length=200)
    purpose_code = models.CharField(max_length=32, choices=AccessPurpose.choices)
    amount = models.BigIntegerField(
        null=True, blank=True, help_text="Minor units: what a deposit waiver was asked for."
    )
    currency = models.CharField(max_length=3, blank=True)
    purpose_note = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        help_text="The words of a purpose logged before purposes had codes, if none fits.",
    )
    facts = models.JSONField(help_text="The fact keys that were read.")
    snapshot = models.ForeignKey(
        ScoreSnapshot, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "access log entries"
        indexes: ClassVar = [
            models.Index(F("citizen"), F("created_at").desc(), name="access_log_citizen"),
        ]
        constraints: ClassVar = [
            # A purpose about money has its amount and currency; any other has neither.
            models.CheckConstraint(
                condition=(
                    (Q(purpose_code__in=_WITH_AMOUNT, amount__isnull=False) & ~Q(currency=""))
                    | (~Q(purpose_code__in=_WITH_AMOUNT) & Q(amount__isnull=True, currency=""))
                ),
                name="access_log_amount_with_its_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.accessor_name} read {', '.join(self.facts)} ({self.purpose})"

    @property
    def purpose_typed(self) -> Purpose:
        return Purpose(
            code=AccessPurpose(self.purpose_code),
            amount=self.amount,
            currency=self.currency,
            note=self.purpose_note,
        )

    @property
    def purpose(self) -> str:
        """Why, in English, rendered from the typed fields."""
        return self.purpose_typed.text


# --- Batch runs --------------------------------------------------------------------------


class BatchRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed: control totals disagree"


class BatchRun(models.Model):
    """One recompute of every account as of one moment ``at``, split into id-range chunks.

    Complete only when every chunk is done and each chunk saw as many accounts as its
    range held when the run was created (the control totals): a missing or partial chunk
    cannot pass for a finished batch. ``key`` makes starting a run idempotent (the id of
    the task that started it: a redelivered ``recompute_all`` resumes its run).
    """

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    at = models.DateTimeField(help_text="The moment every score of the run describes.")
    trigger = models.CharField(max_length=24, choices=SnapshotTrigger.choices)
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.PROTECT, related_name="batch_runs", null=True, blank=True
    )
    status = models.CharField(
        max_length=16, choices=BatchRunStatus.choices, default=BatchRunStatus.RUNNING
    )
    created_at = models.DateTimeField()
    deadline = models.DateTimeField(help_text="Overdue (an alert, then resumed) after this.")
    accounts_expected = models.PositiveIntegerField(
        help_text="Active accounts in the chunks' ranges when the run was created."
    )
    accounts_seen = models.PositiveIntegerField(default=0)
    snapshots_written = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    resumes = models.PositiveIntegerField(
        default=0, help_text="How many times its unfinished chunks were sent again."
    )
    resumed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar = [
            models.Index(
                fields=("deadline",),
                condition=Q(status="running"),
                name="batch_run_unfinished",
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(status="complete")
                | (Q(completed_at__isnull=False) & Q(accounts_seen=F("accounts_expected"))),
                name="batch_run_complete_totals_agree",
            ),
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} at {self.at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class BatchChunkStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed (retried or resumed)"


class BatchChunk(models.Model):
    """The accounts ``first_id..last_id`` of a run. Marked done in the same transaction as
    its snapshots, so a done chunk's scores are written and a chunk run again after it
    is done writes nothing."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    status = models.CharField(
        max_length=16, choices=BatchChunkStatus.choices, default=BatchChunkStatus.PENDING
    )
    accounts_in_range = models.PositiveIntegerField()
    accounts_seen = models.PositiveIntegerField(null=True, blank=True)
    snapshots_written = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("run_id", "first_id")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("run", "first_id"), name="batch_chunk_once"),
            models.CheckConstraint(
                condition=Q(first_id__lte=F("last_id")), name="batch_chunk_range"
            ),
            models.CheckConstraint(
                condition=~Q(status="done")
                | Q(finished_at__isnull=False, accounts_seen__isnull=False),
                name="batch_chunk_done_counted",
            ),
        ]

    def __str__(self) -> str:
        return f"accounts {self.first_id}..{self.last_id} ({self.get_status_display()})"


class RecomputeWanted(models.Model):
    """The outbox of recomputes: the account's score must be recomputed.

    Written in the same transaction as whatever changed the score (an event recorded, a
    dispute opened or ended), so that it commits or rolls back with it; one row per
    account, however many changes are waiting (they coalesce into one recompute).
    ``version`` grows with every change: a recompute deletes the row only at the version
    it read before it read the account's events, so that a change committed meanwhile
    keeps it. ``claimed_until`` is a relay's lease on it (``scoring.services``); a new
    change clears it. Written and deleted only by ``scoring.services``, in SQL.
    """

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    first_wanted_at = models.DateTimeField(help_text="The oldest change waiting.")
    wanted_at = models.DateTimeField(help_text="The newest change waiting.")
    version = models.BigIntegerField(default=1)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "recompute wanted"
        verbose_name_plural = "recomputes wanted (outbox)"
        indexes: ClassVar = [
            models.Index(fields=("first_wanted_at",), name="recompute_wanted_oldest"),
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} since {self.first_wanted_at:%Y-%m-%d %H:%M:%S}"
