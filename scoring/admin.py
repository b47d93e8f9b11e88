"""Admin for scoring. Events, snapshots, the access log and batch runs are read-only
records; scorecards change only while they are drafts, and every change, activation and
dispute decision goes through ``scoring.services``: the admin never writes a model
itself."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Model, Q, QuerySet
from django.db.models.options import Options
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from common.admin import AuditTrailAdmin, MoneyAdminMixin, ReadOnlyAdminMixin
from common.domain import DomainError
from scoring import selectors, services
from scoring.admin_table import ScorecardDefinitionField, definition_table
from scoring.backtest import scorecard_backtest
from scoring.errors import DisputeNotEscalated, NoActiveScorecard
from scoring.facts import BAND_LABELS, EVENT_FACTS, FACTS
from scoring.models import (
    AccessLogEntry,
    BatchChunk,
    BatchChunkStatus,
    BatchRun,
    BatchRunStatus,
    CreditEvent,
    Dispute,
    RecomputeWanted,
    Scorecard,
    ScorecardStatus,
    ScoreSnapshot,
)
from scoring.purposes import NOTE_MAX_LENGTH
from scoring.scorecard import ScorecardInvalid
from wallet.models import User

# --- Scorecards ------------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    """The signed-in member of staff (the admin site serves no one else)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class ScorecardForm(forms.ModelForm):
    # The factors and bins as a table (``scoring.admin_table``), checked by
    # ``Scorecard.from_definition``: its errors are shown by factor and by row.
    definition = ScorecardDefinitionField(
        label="Factors and bins",
        help_text="Each factor scores one fact: a value gets the points of the last row "
        "whose “from” it reaches. Points never get worse as the fact gets better.",
    )

    class Meta:
        model = Scorecard
        fields = ("name", "notes", "definition")


def _adopt(obj: Scorecard, saved: Scorecard) -> None:
    """Make the admin's instance the row the service saved (its pk, version, dates), so
    that the admin's log entry and redirect point at it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


# What a page shows of something that has not happened.
NOT_YET = "\N{EN DASH}"


def when_and_who(at: datetime | None, by: User | None, *, nobody: str = "") -> str:
    """ "6 Dec 2026, 19:20 by alice"; "… by the system" when it happened without a
    member of staff (version 1, written by a migration); ``nobody`` when it did not
    happen."""
    if at is None:
        return nobody or NOT_YET
    when = date_format(timezone.localtime(at), "DATETIME_FORMAT")
    return f"{when} by {by.username if by is not None else 'the system'}"


@admin.register(Scorecard)
class ScorecardAdmin(AuditTrailAdmin):
    """Scorecards: drafts are written and changed here (the factors and bins as a
    table), submitted, copied and backtested; active and retired versions are the same
    table without inputs. Approving a draft is not here: it needs a fairness audit of
    the draft, and the governance admin (which re-registers a subclass of this admin)
    adds it to the change page through the ``governance_actions`` block of
    ``admin/scoring/scorecard/change_form.html``."""

    form = ScorecardForm
    change_form_template = "admin/scoring/scorecard/change_form.html"
    list_display = ("version", "name", "status", "created", "activated", "retired_at")
    list_display_links = ("version", "name")
    list_filter = ("status",)
    list_select_related = ("created_by", "activated_by")
    search_fields = ("name", "notes")
    readonly_fields = (
        "version",
        "status",
        "created",
        "updated",
        "submitted",
        "activated",
        "retired",
        "definition_pretty",
        "factors_table",
    )
    # Four eyes: whoever wrote, changed or submitted a draft cannot approve it; approving
    # activates it (``services.scorecard_approve``). There is no way to activate alone.
    #
    # The "Approve and activate" action that was here is gone on purpose: a draft is
    # approved only with a fairness audit of it attached (and a justification when a
    # ratio is under the floor), on the approve page the governance admin adds to the
    # draft's page (``governance_actions`` block). Do not bring an approve action back.
    actions = ("copy_as_draft", "submit", "backtest")

    def get_fieldsets(self, request: HttpRequest, obj: Scorecard | None = None) -> Any:
        if obj is None:
            return (
                (None, {"fields": ("name", "notes")}),
                ("Factors and bins", {"fields": ("definition",)}),
            )
        is_draft = obj.status == ScorecardStatus.DRAFT
        return (
            (None, {"fields": ("name", "notes")}),
            ("Version", {"fields": ("version", "status")}),
            (
                "Four eyes: who and when",
                {"fields": ("created", "updated", "submitted", "activated", "retired")},
            ),
            ("Factors and bins", {"fields": ("definition" if is_draft else "factors_table",)}),
            (
                "The definition as data",
                {"classes": ("collapse",), "fields": ("definition_pretty",)},
            ),
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new draft starts from the active version's definition."""
        initial = super().get_changeform_initial_data(request)
        if "definition" not in initial:
            with contextlib.suppress(NoActiveScorecard):
                initial["definition"] = copy.deepcopy(selectors.scorecard_active().definition)
        return initial

    def has_change_permission(self, request: HttpRequest, obj: Scorecard | None = None) -> bool:
        # Active and retired versions are history: snapshots name them.
        if obj is not None and obj.status != ScorecardStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Scorecard | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Scorecard, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        if change:
            saved = services.scorecard_draft_update(
                scorecard=obj,
                name=data["name"],
                definition=data["definition"],
                notes=data["notes"],
                by=_staff(request),
            )
        else:
            saved = services.scorecard_draft_create(
                name=data["name"],
                definition=data["definition"],
                notes=data["notes"],
                by=_staff(request),
            )
        _adopt(obj, saved)

    def has_submit_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("scoring.submit_scorecard")

    def has_approve_permission(self, request: HttpRequest) -> bool:
        """Whether the staff member may approve drafts (on the governance approve page;
        there is no approve action here)."""
        return request.user.has_perm("scoring.approve_scorecard")

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj: Scorecard) -> str:
        return when_and_who(obj.created_at, obj.created_by)

    @admin.display(description="Last changed by")
    def updated(self, obj: Scorecard) -> str:
        return obj.updated_by.username if obj.updated_by is not None else NOT_YET

    @admin.display(description="Submitted at", ordering="submitted_at")
    def submitted(self, obj: Scorecard) -> str:
        return when_and_who(obj.submitted_at, obj.submitted_by, nobody="Not submitted")

    @admin.display(description="Activated at", ordering="activated_at")
    def activated(self, obj: Scorecard) -> str:
        if obj.activated_at is None and obj.status != ScorecardStatus.DRAFT:
            # Version 1 was installed active, by a migration, before activations were
            # recorded: the system activated it when it was created.
            return f"{when_and_who(obj.created_at, None)} (installed active)"
        return when_and_who(obj.activated_at, obj.activated_by, nobody="Not activated")

    @admin.display(description="Retired at", ordering="retired_at")
    def retired(self, obj: Scorecard) -> str:
        if obj.retired_at is None:
            return NOT_YET
        return date_format(timezone.localtime(obj.retired_at), "DATETIME_FORMAT")

    @admin.display(description="Definition")
    def definition_pretty(self, obj: Scorecard) -> SafeString:
        text = json.dumps(obj.definition, indent=2, ensure_ascii=False)
        return format_html("<pre style='font-size: 0.9em; white-space: pre-wrap'>{}</pre>", text)

    @admin.display(description="Factors and bins")
    def factors_table(self, obj: Scorecard) -> SafeString:
        return definition_table(obj.definition)

    @admin.action(description="Copy as a new draft", permissions=("add",))
    def copy_as_draft(self, request: HttpRequest, queryset: QuerySet[Scorecard]) -> None:
        for scorecard in queryset.order_by("version"):
            try:
                draft = services.scorecard_draft_create(
                    name=f"{scorecard.name} (copy)"[:100],
                    definition=copy.deepcopy(scorecard.definition),
                    notes=f"Copied from version {scorecard.version}.",
                    by=_staff(request),
                )
            except ScorecardInvalid as exc:
                self.message_user(
                    request, f"v{scorecard.version} was not copied: {exc}", messages.ERROR
                )
                continue
            self.message_user(
                request,
                f"Draft v{draft.version} created as a copy of v{scorecard.version}.",
                messages.SUCCESS,
            )

    @admin.action(description="Submit for approval", permissions=("submit",))
    def submit(self, request: HttpRequest, queryset: QuerySet[Scorecard]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one draft to submit.", messages.WARNING)
            return
        scorecard = queryset.get()
        try:
            services.scorecard_submit(scorecard=scorecard, by=_staff(request))
        except (DomainError, ScorecardInvalid) as exc:
            self.message_user(
                request, f"v{scorecard.version} was not submitted: {exc}", messages.ERROR
            )
            return
        self.message_user(
            request,
            f"v{scorecard.version} “{scorecard.name}” is submitted: another member of staff "
            "who did not write it approves it to make it active.",
            messages.SUCCESS,
        )

    @admin.action(description="Backtest against the active scorecard")
    def backtest(
        self, request: HttpRequest, queryset: QuerySet[Scorecard]
    ) -> TemplateResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one scorecard to backtest.", messages.WARNING
            )
            return None
        candidate = queryset.get()
        try:
            result = scorecard_backtest(candidate=candidate)
        except NoActiveScorecard:
            self.message_user(request, "No scorecard is active to compare with.", messages.ERROR)
            return None
        except ScorecardInvalid as exc:
            self.message_user(request, f"v{candidate.version} is not valid: {exc}", messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Backtest of v{candidate.version} “{candidate.name}”",
            "scorecard": candidate,
            "backtest": result,
        }
        return TemplateResponse(request, "admin/scoring/scorecard/backtest.html", context)


# --- Records ---------------------------------------------------------------------------
#
# A citizen's records are theirs: staff lists show who and when, never a score or an
# amount of money, and cannot be filtered by them; opening one record asks the staff
# member why, and writes one row to the citizen's access log per opening
# (``services.staff_read_record``).

# How long a reason given for one citizen is used for their other records.
PURPOSE_REMEMBERED = timedelta(minutes=15)
_PURPOSES_SESSION_KEY = "staff_read_purposes"


class StaffReadPurposeForm(forms.Form):
    staff_read_purpose = forms.CharField(
        label="Why are you opening it",
        max_length=NOTE_MAX_LENGTH,
        help_text="The citizen reads this in their access log (e.g. “Answering their "
        "complaint of 3 May”).",
        widget=forms.TextInput(attrs={"size": 64, "autofocus": True}),
    )


def _purposes(request: HttpRequest) -> dict[str, dict[str, str]]:
    """The reasons given in this session, by citizen id, with those expired dropped."""
    now = timezone.now()
    stored = request.session.get(_PURPOSES_SESSION_KEY, {})
    return {
        citizen: entry
        for citizen, entry in stored.items()
        if isinstance(entry, dict) and datetime.fromisoformat(entry["until"]) > now
    }


def staff_read_purpose(request: HttpRequest, citizen_id: int) -> str | None:
    """The reason this staff member gave for reading this citizen's records, if they
    gave one less than :data:`PURPOSE_REMEMBERED` ago."""
    entry = _purposes(request).get(str(citizen_id))
    return entry["purpose"] if entry is not None else None


def _purpose_remember(request: HttpRequest, citizen_id: int, purpose: str) -> None:
    purposes = _purposes(request)
    until = timezone.now() + PURPOSE_REMEMBERED
    purposes[str(citizen_id)] = {"purpose": purpose, "until": until.isoformat()}
    request.session[_PURPOSES_SESSION_KEY] = purposes


class StaffReadAdminMixin:
    """The change page of one citizen's record: first a form asking why (the reason,
    required, is remembered in the session for that citizen for 15 minutes), then the
    page, each opening logged through ``services.staff_read_record``.

    The admin says whose record an object is (``staff_read_citizen_field``), which facts
    it shows (:meth:`staff_read_facts`) and, for a snapshot, which one
    (:meth:`staff_read_snapshot`). Filtering its list by a field that is not a lookup of
    the list's own filters (``?score__gte=900``) is refused: a list must not become a way
    to read scores or amounts without opening a record."""

    # Set by the ModelAdmin this is mixed into.
    admin_site: admin.AdminSite
    opts: Options[Any]
    staff_read_citizen_field: ClassVar[str] = "citizen"
    staff_read_template = "admin/staff_read_purpose.html"
    # Fields a list may not be filtered by (scores and money), whatever Django allows.
    staff_read_unfilterable: ClassVar[tuple[str, ...]] = ()

    def staff_read_facts(self, obj: Any) -> Sequence[str]:
        raise NotImplementedError

    def staff_read_snapshot(self, obj: Any) -> ScoreSnapshot | None:
        return None

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        field = lookup.split("__")[0]
        if field in self.staff_read_unfilterable:
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        shown = super().change_view  # type: ignore[misc]
        model_admin: Any = self
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None or not model_admin.has_view_or_change_permission(request, obj):
            # Django's answers: no such object, or not allowed.
            return shown(request, object_id, form_url, extra_context)
        citizen_id = getattr(obj, f"{self.staff_read_citizen_field}_id")
        if request.method == "POST":
            if "staff_read_purpose" not in request.POST:
                # A record's page has no form: Django refuses the post.
                return shown(request, object_id, form_url, extra_context)
            form = StaffReadPurposeForm(request.POST)
            if not form.is_valid():
                return self._purpose_page(request, obj, form)
            _purpose_remember(request, citizen_id, form.cleaned_data["staff_read_purpose"])
            return HttpResponseRedirect(request.get_full_path())
        purpose = staff_read_purpose(request, citizen_id)
        if purpose is None:
            return self._purpose_page(request, obj, StaffReadPurposeForm())
        services.staff_read_record(
            staff=_staff(request),
            citizen_id=citizen_id,
            reason=purpose,
            fact_keys=self.staff_read_facts(obj),
            snapshot=self.staff_read_snapshot(obj),
        )
        return shown(request, object_id, form_url, extra_context)

    def _purpose_page(
        self, request: HttpRequest, obj: Model, form: StaffReadPurposeForm
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Why open this {self.opts.verbose_name}?",
            "citizen": getattr(obj, self.staff_read_citizen_field),
            "form": form,
            "remembered_minutes": int(PURPOSE_REMEMBERED.total_seconds() // 60),
        }
        return TemplateResponse(request, self.staff_read_template, context)


@admin.register(CreditEvent)
class CreditEventAdmin(StaffReadAdminMixin, MoneyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The list names the citizen, the kind of record and its dates, never its amount;
    the amount is on the record's page (a logged read)."""

    list_display = ("kind", "account", "occurred_at", "status", "counts_until")
    list_filter = ("kind", "status")
    search_fields = ("account__username", "source")
    list_select_related = ("account",)
    raw_id_fields = ("account",)
    date_hierarchy = "occurred_at"
    staff_read_citizen_field = "account"
    staff_read_unfilterable = ("amount",)
    money_fields: ClassVar = {"amount": "currency"}

    def staff_read_facts(self, obj: CreditEvent) -> Sequence[str]:
        return EVENT_FACTS[obj.kind]


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(StaffReadAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The list says whose snapshot, when and why it was computed, never the score or
    band, and cannot be filtered or sorted by them; the snapshot's page shows them (a
    logged read of every fact)."""

    list_display = ("account", "scorecard_version", "trigger", "computed_at")
    list_filter = ("trigger", "scorecard")
    search_fields = ("account__username",)
    list_select_related = ("account", "scorecard")
    raw_id_fields = ("account",)
    date_hierarchy = "computed_at"
    staff_read_citizen_field = "account"
    staff_read_unfilterable = ("score", "band", "points", "reasons", "features", "fingerprint")
    # The band by its label ("Very good"), never its code.
    fields = (
        "account",
        "scorecard",
        "score",
        "band_label",
        "points",
        "reasons",
        "features",
        "fingerprint",
        "trigger",
        "computed_at",
    )
    readonly_fields = ("band_label",)

    @admin.display(description="Band")
    def band_label(self, obj: ScoreSnapshot) -> str:
        return BAND_LABELS.get(obj.band, obj.band)

    def staff_read_facts(self, obj: ScoreSnapshot) -> Sequence[str]:
        return list(FACTS)

    def staff_read_snapshot(self, obj: ScoreSnapshot) -> ScoreSnapshot | None:
        return obj

    @admin.display(description="Scorecard", ordering="scorecard__version")
    def scorecard_version(self, obj: ScoreSnapshot) -> str:
        return f"v{obj.scorecard.version}"


@admin.register(RecomputeWanted)
class RecomputeWantedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The recompute outbox, as the relay sees it: rows that stay long mean no relay
    runs (beat or the workers are down)."""

    list_display = ("account", "first_wanted_at", "wanted_at", "version", "claimed_until")
    search_fields = ("account__username",)
    list_select_related = ("account",)
    ordering = ("first_wanted_at",)


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "citizen",
        "accessor_name",
        "accessor_kind",
        "purpose",
        "decision_id",
    )
    list_filter = ("accessor_kind", "purpose_code")
    search_fields = ("citizen__username", "accessor_name")
    list_select_related = ("citizen",)
    raw_id_fields = ("citizen", "snapshot")
    date_hierarchy = "created_at"


# --- Disputes --------------------------------------------------------------------------


class ResolutionForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why: recorded with the decision, and the citizen can read it.",
    )


class DisputeResolveAdminMixin:
    """The one page on which staff uphold or reject disputes of any kind, with a note.

    The admin that uses it says what the page shows about each dispute's subject
    (``resolve_subject_headings`` and :meth:`resolve_subject_cells`), what the decision
    does (:meth:`resolve_consequence`) and which service decides
    (:meth:`resolve_with`); the page and the loop that calls the service, skipping a
    dispute that staff can no longer decide (:meth:`resolve_decidable`, refused with
    :meth:`resolve_refusal`), are here.
    """

    # Set by the ModelAdmin this is mixed into.
    admin_site: admin.AdminSite
    opts: Options[Any]

    resolve_template = "admin/dispute_resolve.html"
    resolve_subject_headings: tuple[str, ...] = ()
    # The state in which staff decide a dispute, as the page names it.
    resolve_decidable_label = "open"

    def resolve_decidable(self, dispute: Any) -> bool:
        """Whether staff can decide the dispute now; the others are skipped."""
        return bool(dispute.is_open)

    def resolve_refusal(self, dispute: Any) -> type[Exception]:
        """What the service raises for a dispute staff can no longer decide."""
        refusal: type[Exception] = dispute.not_open_error
        return refusal

    def resolve_subject_cells(self, dispute: Any) -> list[object]:
        """What the page shows about the dispute's subject, one cell per heading."""
        return []

    def resolve_consequence(self, disputes: list[Any], *, upheld: bool) -> str:
        """What upholding or rejecting these disputes does, in a sentence or two."""
        raise NotImplementedError

    def resolve_with(self, dispute: Any, *, upheld: bool, note: str, staff: User) -> Any:
        """Decide one dispute through its service; returns it as the service left it."""
        raise NotImplementedError

    def resolve_page(
        self,
        request: HttpRequest,
        disputes: list[Any],
        *,
        upheld: bool,
        form: ResolutionForm,
        title: str,
        back_url: str,
        dispute_url: str = "",
        action: str = "",
    ) -> TemplateResponse:
        """The page asking for the note. With ``action`` it posts back to the
        changelist's action with the selected disputes; without, to its own URL."""
        admin_site = self.admin_site
        rows = [
            {
                "dispute": dispute,
                "subject": self.resolve_subject_cells(dispute),
                "skipped": not self.resolve_decidable(dispute),
            }
            for dispute in disputes
        ]
        context = {
            **admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "upheld": upheld,
            "consequence": self.resolve_consequence(disputes, upheld=upheld),
            "subject_headings": self.resolve_subject_headings,
            "rows": rows,
            "form": form,
            "back_url": back_url,
            "dispute_url": dispute_url,
            "dispute_label": str(disputes[0]) if dispute_url else "",
            "action": action,
            "decidable_label": self.resolve_decidable_label,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.resolve_template, context)

    def resolve_each(
        self, request: HttpRequest, disputes: list[Any], *, upheld: bool, note: str
    ) -> tuple[list[Any], int]:
        """Decide each dispute as the signed-in staff member; returns those decided and
        how many were skipped because staff could no longer decide them."""
        staff = request.user
        if not isinstance(staff, User):  # the admin site serves only signed-in staff
            raise PermissionDenied
        resolved, skipped = [], 0
        for dispute in disputes:
            try:
                resolved.append(self.resolve_with(dispute, upheld=upheld, note=note, staff=staff))
            except self.resolve_refusal(dispute):
                skipped += 1
        return resolved, skipped


@admin.register(Dispute)
class DisputeAdmin(
    StaffReadAdminMixin, DisputeResolveAdminMixin, ReadOnlyAdminMixin, AuditTrailAdmin
):
    """Read-only. The record's furnisher answers an open dispute (through the merchant
    API); staff decide escalated ones (a verified record the citizen escalated, or a
    record nobody furnished) through two actions, each asking for a note on the
    disputes' resolve page, with both sides shown: the citizen's reasons and the
    furnisher's answer."""

    list_display = (
        "opened_at",
        "citizen",
        "event_kind",
        "status",
        "respond_by",
        "answered_at",
        "escalated_at",
        "resolution",
        "resolved_at",
        "resolved_by",
    )
    list_filter = ("status", "resolution")
    search_fields = ("citizen__username", "event__source", "=furnisher_id")
    list_select_related = ("citizen", "event", "resolved_by")
    raw_id_fields = ("citizen", "event", "resolved_by")
    date_hierarchy = "opened_at"
    fieldsets = (
        ("The dispute", {"fields": ("citizen", "event", "reason", "status", "opened_at")}),
        (
            "The furnisher's answer",
            {"fields": ("furnisher_id", "respond_by", "answer_note", "answered_at")},
        ),
        ("Escalation", {"fields": ("escalated_at", "escalation_reason")}),
        (
            "Staff's decision",
            {"fields": ("resolution", "resolved_at", "resolution_note", "resolved_by")},
        ),
    )
    actions = ("uphold", "reject")
    resolve_subject_headings = ("Record", "The furnisher's answer", "Why escalated")
    resolve_decidable_label = "escalated"

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("scoring.change_dispute")

    def staff_read_facts(self, obj: Dispute) -> Sequence[str]:
        return [*EVENT_FACTS[obj.event.kind], "open_disputes"]

    def resolve_decidable(self, dispute: Dispute) -> bool:
        return dispute.awaiting_staff

    def resolve_refusal(self, dispute: Dispute) -> type[Exception]:
        return DisputeNotEscalated

    @admin.display(description="Event", ordering="event__kind")
    def event_kind(self, obj: Dispute) -> str:
        return obj.event.get_kind_display()

    @admin.action(description="Uphold: remove the record", permissions=("resolve",))
    def uphold(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> TemplateResponse | None:
        return self._resolve(request, queryset, upheld=True)

    @admin.action(description="Reject: the record stands", permissions=("resolve",))
    def reject(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> TemplateResponse | None:
        return self._resolve(request, queryset, upheld=False)

    def resolve_subject_cells(self, dispute: Dispute) -> list[object]:
        answer = dispute.answer_note or (
            "(no furnisher: nobody answered)" if dispute.furnisher_id is None else ""
        )
        return [dispute.event, answer, dispute.escalation_reason]

    def resolve_consequence(self, disputes: list[Dispute], *, upheld: bool) -> str:
        effect = (
            "Upholding a dispute removes its record for good: it no longer counts towards "
            "the score."
            if upheld
            else "Rejecting a dispute keeps its record: it goes on counting towards the score."
        )
        return (
            f"{effect} The score of each citizen is recomputed. Only escalated disputes are "
            "decided here; the others are skipped."
        )

    def resolve_with(self, dispute: Dispute, *, upheld: bool, note: str, staff: User) -> Dispute:
        return services.dispute_resolve(
            dispute=dispute, upheld=upheld, note=note, resolved_by=staff
        )

    def _resolve(
        self, request: HttpRequest, queryset: QuerySet[Dispute], *, upheld: bool
    ) -> TemplateResponse | None:
        disputes = list(queryset.select_related("citizen", "event").order_by("opened_at"))
        if not any(dispute.awaiting_staff for dispute in disputes):
            self.message_user(
                request,
                "None of the selected disputes is escalated to staff: nothing to do.",
                messages.WARNING,
            )
            return None
        form = ResolutionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._apply(request, disputes, upheld=upheld, note=form.cleaned_data["note"])
            return None
        return self.resolve_page(
            request,
            disputes,
            upheld=upheld,
            form=form,
            title="Uphold disputes" if upheld else "Reject disputes",
            back_url=reverse("admin:scoring_dispute_changelist"),
            action="uphold" if upheld else "reject",
        )

    def _apply(
        self, request: HttpRequest, disputes: list[Dispute], *, upheld: bool, note: str
    ) -> None:
        resolved, skipped = self.resolve_each(request, disputes, upheld=upheld, note=note)
        if resolved:
            outcome = (
                "upheld: the records no longer count" if upheld else "rejected: the records stand"
            )
            self.message_user(
                request,
                f"{len(resolved)} dispute(s) {outcome}; the scores are being recomputed.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} dispute(s) skipped: not escalated to staff, or already decided.",
                messages.WARNING,
            )


# --- Batch runs ------------------------------------------------------------------------


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Admin messages last one request; an overdue or failed run stays listed here."""

    title = "attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("needed", "Needs attention (overdue or failed)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[BatchRun]) -> QuerySet[BatchRun]:
        if self.value() == "needed":
            return queryset & selectors.batch_runs_needing_attention()
        return queryset


_STATUS_COLOURS = {"complete": "#2e7d32", "running": "#1565c0", "overdue": "#c62828"}


@admin.register(BatchRun)
class BatchRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "at",
        "trigger",
        "state",
        "chunks_done",
        "accounts",
        "snapshots_written",
        "deadline",
        "resumes",
        "completed_at",
    )
    list_filter = (NeedsAttentionFilter, "status", "trigger")
    list_select_related = ("scorecard",)
    date_hierarchy = "created_at"
    readonly_fields = ("state",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BatchRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                chunk_count=Count("chunks"),
                chunks_finished=Count("chunks", filter=Q(chunks__status=BatchChunkStatus.DONE)),
            )
        )

    @admin.display(description="Status", ordering="status")
    def state(self, obj: BatchRun) -> SafeString:
        """Red when the run needs someone: overdue (it is being resumed) or failed."""
        if obj.status == BatchRunStatus.RUNNING and obj.deadline < timezone.now():
            label, colour = "Overdue: incomplete, resumed", _STATUS_COLOURS["overdue"]
        elif obj.status == BatchRunStatus.FAILED:
            label, colour = obj.get_status_display(), _STATUS_COLOURS["overdue"]
        else:
            label, colour = obj.get_status_display(), _STATUS_COLOURS[obj.status]
        return format_html("<strong style='color: {}'>{}</strong>", colour, label)

    @admin.display(description="Chunks done")
    def chunks_done(self, obj: BatchRun) -> str:
        return f"{obj.chunks_finished} / {obj.chunk_count}"  # type: ignore[attr-defined]

    @admin.display(description="Accounts seen / expected")
    def accounts(self, obj: BatchRun) -> str:
        return f"{obj.accounts_seen} / {obj.accounts_expected}"


@admin.register(BatchChunk)
class BatchChunkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "run",
        "first_id",
        "last_id",
        "status",
        "accounts_in_range",
        "accounts_seen",
        "snapshots_written",
        "attempts",
        "finished_at",
    )
    list_filter = ("status",)
    list_select_related = ("run",)
    raw_id_fields = ("run",)
    search_fields = ("=run__id",)
