"""Governance's own tables: what citizens volunteer for the fairness audit, the stored
reports of audits, backtests, dry-runs and drift checks, the approvals that made a
scorecard or a perk version live (with the audit they rested on), and the notices staff
must see.

Nothing below governance reads these tables (the layering test holds the line): the
monitoring attributes can never reach a score, a rule or a merchant.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q


class AgeBand(models.TextChoices):
    """The age bands a citizen may volunteer (no birth date is ever asked)."""

    UNDER_25 = "18-24", "18 to 24"
    FROM_25 = "25-34", "25 to 34"
    FROM_35 = "35-44", "35 to 44"
    FROM_45 = "45-54", "45 to 54"
    FROM_55 = "55-64", "55 to 64"
    FROM_65 = "65+", "65 or older"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Another answer"


class MonitoringAttributes(models.Model):
    """What a citizen chose to tell us so that the audit can check the score treats
    groups fairly: an age band and a sex, each optional, and nothing else. Never a fact,
    never read by scoring, rules, merchants or their APIs; in the citizen's export;
    erased, not kept, when withdrawn (so no audit trail)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        primary_key=True,
    )
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, blank=True)
    sex = models.CharField(max_length=8, choices=Sex.choices, blank=True)
    volunteered_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "monitoring attributes"
        verbose_name_plural = "monitoring attributes"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(age_band="", sex=""), name="monitoring_attributes_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"monitoring attributes of account {self.user_id}"


class AnalysisKind(models.TextChoices):
    AUDIT = "audit", "Fairness audit"
    BACKTEST = "backtest", "Backtest"
    DRY_RUN = "dry_run", "Dry-run"
    DRIFT = "drift", "Drift check"
    FIT = "fit", "Fit from outcomes"


class AnalysisStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AnalysisRun(models.Model):
    """One audit, backtest, dry-run, drift check or fit: asked for (a row, in the asking
    transaction), run by a Celery task that reports its progress here, and stored with
    its inputs and its result. A run whose task message was lost stays ``queued`` and is
    sent again by the watcher (``governance.analysis_runs_watch``).

    The subject: a scorecard (a draft, or the active one), a perk draft (a pending
    ``PerkChange``), or, with neither, what is live (the nightly audit and drift). A fit
    has no subject when asked for; the draft it produced becomes its scorecard."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=16, choices=AnalysisKind.choices)
    status = models.CharField(
        max_length=16, choices=AnalysisStatus.choices, default=AnalysisStatus.QUEUED
    )
    scorecard = models.ForeignKey(
        "scoring.Scorecard", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    perk_change = models.ForeignKey(
        "perks.PerkChange", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject_digest = models.CharField(
        max_length=64,
        blank=True,
        help_text="common.approvals.subject_digest of the definition or terms examined; an "
        "approval needs an audit of exactly what it approves.",
    )
    inputs = models.JSONField(
        default=dict,
        help_text="What the run examined: scorecard version (or draft), perk versions, "
        "the population's date.",
    )
    population_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    progress_note = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    min_ratio = models.FloatField(
        null=True,
        blank=True,
        help_text="An audit's lowest disparate-impact ratio (lowest group rate over the "
        "highest) among the groups not suppressed.",
    )
    flagged = models.BooleanField(
        default=False, help_text="A ratio under the floor, or drift over its limit."
    )
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the task running it."
    )
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-id")
        permissions: ClassVar = [
            ("request_analysisrun", "Can run audits, backtests and dry-runs"),
        ]
        indexes: ClassVar = [
            models.Index(fields=("kind", "status", "created_at"), name="analysis_kind_status"),
            models.Index(fields=("scorecard", "kind", "-created_at"), name="analysis_scorecard"),
            models.Index(
                fields=("perk_change", "kind", "-created_at"), name="analysis_perk_change"
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(scorecard__isnull=True) | Q(perk_change__isnull=True),
                name="analysis_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="analysis_progress_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"


class ApprovalSubject(models.TextChoices):
    SCORECARD = "scorecard", "Scorecard"
    PERK = "perk", "Perk rules"


class Approval(models.Model):
    """The second pair of eyes that made a scorecard or a perk version live, with the
    audit it rested on (less than a day old, of exactly what was approved) and, when a
    ratio of that audit was under the floor, the approver's justification. Shown on the
    transparency page. Written once, never changed."""

    id = models.BigAutoField(primary_key=True)
    subject = models.CharField(max_length=16, choices=ApprovalSubject.choices)
    scorecard = models.ForeignKey(
        "scoring.Scorecard", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    perk_change = models.ForeignKey(
        "perks.PerkChange", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    audit = models.ForeignKey(AnalysisRun, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()
    min_ratio = models.FloatField(null=True, blank=True)
    justification = models.TextField(blank=True)

    class Meta:
        ordering = ("-approved_at", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    Q(subject="scorecard", scorecard__isnull=False, perk_change__isnull=True)
                    | Q(subject="perk", scorecard__isnull=True, perk_change__isnull=False)
                ),
                name="approval_subject_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"approval #{self.pk} of a {self.get_subject_display().lower()}"


class StaffNotice(models.Model):
    """Something staff must look at, shown at the top of the admin until it is resolved:
    a fairness ratio under the floor in the nightly audit, drift over its limit. One open
    notice per ``key``; raising it again updates it."""

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=100)
    message = models.CharField(max_length=500)
    run = models.ForeignKey(
        AnalysisRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-raised_at", "-id")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=("key",), condition=Q(resolved_at__isnull=True), name="notice_one_open"
            ),
        ]

    def __str__(self) -> str:
        return self.message
