"""Admin for perks, decisions, bookings, claims and claim disputes, and the perks part
of a merchant's page. Decisions, bookings, claims and claim disputes are records:
read-only here. Every write goes through ``merchants.perks.services`` (and
``merchants.perks.claims``): perks' rules are
validated before they are saved, a new merchant gets a hotel's default perk, and claim
disputes are decided on a page that asks for a note. The admin never writes those rows
itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from common.admin import ReadOnlyAdminMixin
from common.amounts import ABSURD_AMOUNT
from common.forms import IndentedJSONField
from merchants.admin import MerchantAdmin, adopt, change_url, money, money_column
from merchants.models import Merchant
from merchants.perks import claims, services
from merchants.perks import rules as rules_module
from merchants.perks.api.claims import evidence_download
from merchants.perks.errors import ClaimDisputeNotOpen
from merchants.perks.models import (
    PERK_BOUND_RANGES,
    Booking,
    Claim,
    ClaimDispute,
    ClaimDisputeStatus,
    ClaimEvidence,
    Decision,
    Perk,
    PerkKind,
)
from scoring.admin import (
    DisputeResolveAdminMixin,
    ResolutionForm,
    StaffReadAdminMixin,
    staff_read_purpose,
)
from scoring.facts import EVENT_FACTS, EventKinds
from wallet.models import User

# --- Merchants, with their perks -----------------------------------------------------


class PerkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Perk
    fields = ("kind", "max_amount_display", "is_active", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="Up to")
    def max_amount_display(self, obj: Perk) -> str:
        return money(obj.max_amount, settings.WALLET_CURRENCY)


class MerchantWithPerksAdmin(MerchantAdmin):
    """The merchants app's ``MerchantAdmin`` with what perks add to it: the merchant's
    perks inline, and a new merchant taken on by ``services.merchant_onboard`` (a hotel
    or rental gets its default perk).

    Registered here in place of the core registration: ``merchants`` sits below
    ``merchants.perks`` and may not import it, so the layer that knows both merchants
    and perks puts the two together, in plain sight (no signal, no hook registry).
    Importing ``merchants.admin`` above guarantees the core registration happened
    before it is replaced, whatever the order of INSTALLED_APPS. The core admin keeps
    working alone, so the merchants app stays usable without perks."""

    def get_inlines(self, request: HttpRequest, obj: Merchant | None) -> Any:
        return () if obj is None else (*super().get_inlines(request, obj), PerkInline)

    def merchant_create(self, *, name: str, category: str) -> Merchant:
        return services.merchant_onboard(name=name, category=category)


admin.site.unregister(Merchant)
admin.site.register(Merchant, MerchantWithPerksAdmin)


# --- Perks -----------------------------------------------------------------------------


class PerkForm(forms.ModelForm):
    max_amount = forms.IntegerField(
        min_value=0,
        max_value=ABSURD_AMOUNT,
        help_text="The most that may be waived, in minor units (50000 is 500.00), whatever "
        "the tiers say.",
    )
    rules = IndentedJSONField(
        widget=forms.Textarea(
            attrs={
                "rows": 28,
                "cols": 100,
                "spellcheck": "false",
                "style": "font-family: monospace; font-size: 0.9em; width: 100%;",
            }
        ),
        # The admin renders help texts as HTML: the operators need escaping.
        help_text=escape(
            "conditions [{fact, op, value, message, code?}], all of which must hold, and "
            "tiers [{band, max_amount}]. Facts: "
            f"{', '.join(rules_module.FACTS)}. Operators: {', '.join(rules_module.OPERATORS)}."
        ),
    )

    booking_max_days_ahead = forms.IntegerField(
        min_value=PERK_BOUND_RANGES["booking_max_days_ahead"][0],
        max_value=PERK_BOUND_RANGES["booking_max_days_ahead"][1],
        initial=90,
        help_text="A stay starts at most this many days after it is booked.",
    )
    booking_max_nights = forms.IntegerField(
        min_value=PERK_BOUND_RANGES["booking_max_nights"][0],
        max_value=PERK_BOUND_RANGES["booking_max_nights"][1],
        initial=30,
        help_text="A stay lasts at most this many nights.",
    )
    claim_window_days = forms.IntegerField(
        min_value=PERK_BOUND_RANGES["claim_window_days"][0],
        max_value=PERK_BOUND_RANGES["claim_window_days"][1],
        initial=14,
        help_text="A stay's outcome (and any damage claim) is reported at most this many days "
        "after check-out; the deposit's hold ends 3 days after that.",
    )

    class Meta:
        model = Perk
        fields = (
            "merchant",
            "kind",
            "max_amount",
            "is_active",
            "rules",
            *PERK_BOUND_RANGES,
        )

    def clean_rules(self) -> dict[str, Any]:
        """Every problem becomes an error of this field; valid rules are stored with every
        condition's code written out, so a default code stays what it was."""
        data = self.cleaned_data["rules"]
        errors = rules_module.rules_errors(data)
        if errors:
            raise forms.ValidationError(
                [forms.ValidationError(error, code="invalid_rules") for error in errors]
            )
        return rules_module.Rules.from_data(data).as_data()

    def clean(self) -> dict[str, Any]:
        """One active perk of a kind per merchant (a partial unique index): say so here,
        rather than let the database refuse the save."""
        # ModelForm.clean returns its cleaned_data; the stubs keep Form.clean's "or None".
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]
        merchant = cleaned.get("merchant") if "merchant" in self.fields else None
        if merchant is None and self.instance.merchant_id is not None:
            merchant = self.instance.merchant
        kind = cleaned.get("kind") if "kind" in self.fields else self.instance.kind
        if cleaned.get("is_active") and merchant is not None and kind:
            others = Perk.objects.filter(merchant=merchant, kind=kind, is_active=True).exclude(
                pk=self.instance.pk
            )
            if others.exists():
                label = PerkKind(kind).label.lower()
                self.add_error(
                    "is_active",
                    forms.ValidationError(
                        f"{merchant} already has an active {label} perk: deactivate that one "
                        "first, or save this one inactive.",
                        code="one_active_per_kind",
                    ),
                )
        return cleaned


@admin.register(Perk)
class PerkAdmin(admin.ModelAdmin):
    form = PerkForm
    list_display = (
        "merchant",
        "kind",
        "max_amount_display",
        "booking_max_days_ahead",
        "booking_max_nights",
        "claim_window_days",
        "is_active",
        "updated_at",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("merchant__name",)
    list_select_related = ("merchant",)
    autocomplete_fields = ("merchant",)

    def get_fieldsets(self, request: HttpRequest, obj: Perk | None = None) -> Any:
        stays = ("Stays", {"fields": tuple(PERK_BOUND_RANGES)})
        if obj is None:
            return (
                (None, {"fields": ("merchant", "kind", "max_amount", "is_active", "rules")}),
                stays,
            )
        return (
            (None, {"fields": ("merchant", "kind", "max_amount", "is_active")}),
            stays,
            ("Rules", {"fields": ("rules", "requirements_preview")}),
            ("History", {"fields": ("created_at", "updated_at")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Perk | None = None) -> Any:
        if obj is None:
            return ()
        return ("merchant", "kind", "requirements_preview", "created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: Perk | None = None) -> bool:
        # Decisions name the perk they were made under: deactivate it instead.
        return False

    def save_model(
        self, request: HttpRequest, obj: Perk, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        bounds = services.StayBounds(**{name: data[name] for name in PERK_BOUND_RANGES})
        if change:
            saved = services.perk_update(
                perk=obj,
                max_amount=data["max_amount"],
                rules=data["rules"],
                is_active=data["is_active"],
                bounds=bounds,
            )
        else:
            saved = services.perk_create(
                merchant=data["merchant"],
                kind=data["kind"],
                max_amount=data["max_amount"],
                rules=data["rules"],
                is_active=data["is_active"],
                bounds=bounds,
            )
        adopt(obj, saved)

    @admin.display(description="Up to", ordering="max_amount")
    def max_amount_display(self, obj: Perk) -> str:
        return money(obj.max_amount, settings.WALLET_CURRENCY)

    @admin.display(description="What the citizen reads before consenting")
    def requirements_preview(self, obj: Perk) -> SafeString:
        try:
            compiled = rules_module.Rules.from_data(obj.rules)
        except rules_module.RulesInvalid as exc:
            return format_html("<p>The saved rules are not valid: {}</p>", "; ".join(exc.errors))
        lines = rules_module.requirements(
            compiled, max_amount=obj.max_amount, currency=settings.WALLET_CURRENCY
        )
        items = format_html_join("", "<li>{}</li>", ((line.text,) for line in lines))
        return format_html('<ul class="perk-requirements">{}</ul>', items)


# --- Decisions and bookings ------------------------------------------------------------


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the merchant was told. The snapshot is named by id only: its page shows the
    score, and opening it is logged as a read of the citizen's file."""

    fields = (
        "id",
        "merchant",
        "citizen",
        "perk",
        "consent",
        "eligible",
        "requested",
        "waived",
        "held",
        "reasons_list",
        "snapshot_ref",
        "created_at",
        "expires_at",
    )
    readonly_fields = fields
    list_display = (
        "created_at",
        "merchant",
        "citizen",
        "perk_kind",
        "eligible",
        "requested",
        "waived",
        "held",
        "expires_at",
    )
    list_filter = ("eligible", "merchant")
    search_fields = ("citizen__username", "merchant__name")
    list_select_related = ("merchant", "citizen", "perk")
    date_hierarchy = "created_at"

    @admin.display(description="Perk", ordering="perk__kind")
    def perk_kind(self, obj: Decision) -> str:
        return obj.perk.get_kind_display()

    requested = money_column("requested_amount", "Requested")
    waived = money_column("waived_amount", "Waived")
    held = money_column("held_amount", "Held")

    @admin.display(description="Reasons")
    def reasons_list(self, obj: Decision) -> SafeString:
        items = format_html_join(
            "",
            "<li>{} <code>{}</code></li>",
            ((reason.get("message", ""), reason.get("code", "")) for reason in obj.reasons),
        )
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="Score snapshot id")
    def snapshot_ref(self, obj: Decision) -> str:
        return str(obj.snapshot_id)


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    fields = (
        "id",
        "merchant",
        "citizen",
        "reference",
        "decision",
        "check_in",
        "check_out",
        "deposit",
        "waived",
        "held",
        "hold",
        "hold_due_at",
        "status",
        "outcome",
        "cancel_reason",
        "created_at",
        "checked_in_at",
        "hold_failed_at",
        "cancelled_at",
        "completed_at",
    )
    readonly_fields = fields
    list_display = (
        "created_at",
        "merchant",
        "citizen",
        "reference",
        "check_in",
        "status",
        "outcome",
        "deposit",
        "waived",
        "held",
        "hold_placed",
    )
    list_filter = ("status", "outcome", "cancel_reason", "merchant")
    search_fields = ("reference", "citizen__username", "merchant__name")
    list_select_related = ("merchant", "citizen")
    date_hierarchy = "created_at"

    deposit = money_column("deposit_amount", "Deposit")
    waived = money_column("waived_amount", "Waived")
    held = money_column("hold_amount", "Held")

    @admin.display(description="Hold placed", boolean=True)
    def hold_placed(self, obj: Booking) -> bool:
        return obj.hold_placed

    @admin.display(description="Hold to be placed")
    def hold_due_at(self, obj: Booking) -> str:
        due = obj.hold_due_at
        return formats.localize(timezone.localtime(due)) if due is not None else "-"


# --- Claims and their disputes ---------------------------------------------------------


# What a claim tells whoever opens it: whether the citizen leaves claims unpaid.
_CLAIM_FACTS = EVENT_FACTS[EventKinds.CLAIM_UNPAID]


@admin.register(Claim)
class ClaimAdmin(StaffReadAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The list shows no amount; opening a claim (and downloading its evidence) asks why
    and is logged in the citizen's access log."""

    fields = (
        "id",
        "merchant",
        "citizen",
        "booking",
        "description",
        "claimed",
        "paid",
        "refunded",
        "status",
        "claim_lines",
        "claim_evidence",
        "created_at",
        "respond_by",
        "accepted_at",
        "charged_at",
        "paid_at",
    )
    readonly_fields = fields
    list_display = (
        "created_at",
        "merchant",
        "citizen",
        "booking_reference",
        "status",
    )
    list_filter = ("status",)
    search_fields = ("citizen__username", "merchant__name", "booking__reference")
    list_select_related = ("merchant", "citizen", "booking")
    date_hierarchy = "created_at"

    @admin.display(description="Booking", ordering="booking__reference")
    def booking_reference(self, obj: Claim) -> str:
        return obj.booking.reference

    staff_read_unfilterable = ("amount", "paid_amount", "refunded_amount")

    claimed = money_column("amount", "Claimed")
    paid = money_column("paid_amount", "Collected")
    refunded = money_column("refunded_amount", "Refunded")

    def staff_read_facts(self, obj: Claim) -> Sequence[str]:
        return _CLAIM_FACTS

    @admin.display(description="Lines")
    def claim_lines(self, obj: Claim) -> SafeString:
        return claim_lines_html(obj)

    @admin.display(description="Evidence")
    def claim_evidence(self, obj: Claim) -> SafeString:
        return claim_evidence_html(obj)

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "<path:object_id>/evidence/<uuid:evidence_id>/",
                self.admin_site.admin_view(self.evidence_view),
                name=f"{opts.app_label}_{opts.model_name}_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_view(
        self, request: HttpRequest, object_id: str, evidence_id: Any
    ) -> FileResponse | HttpResponseRedirect:
        """Staff download a claim's evidence (the only place besides the claim's merchant
        and guest; never a public media URL)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        evidence = (
            ClaimEvidence.objects.select_related("claim")
            .filter(pk=evidence_id, claim_id=unquote(object_id))
            .first()
        )
        if evidence is None:
            raise Http404("No such evidence.")
        if staff_read_purpose(request, evidence.claim.citizen_id) is None:
            # Evidence is read from the claim's page, after saying why (a logged read).
            return HttpResponseRedirect(change_url(evidence.claim))
        return evidence_download(evidence)


def claim_lines_html(claim: Claim) -> SafeString:
    """A claim's lines, one a row: amount and what it is for."""
    return format_html(
        "<ol>{}</ol>",
        format_html_join(
            "",
            "<li>{}: {}</li>",
            ((money(line.amount, claim.currency), line.description) for line in claim.lines.all()),
        ),
    )


def claim_evidence_html(claim: Claim) -> SafeString:
    """A claim's evidence, each a link to download it here (staff only)."""
    items = list(claim.evidence.all())
    if not items:
        return format_html("{}", "None")
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            '<li><a href="{}">{}</a> ({}, {} bytes, from {})</li>',
            (
                (
                    reverse("admin:perks_claim_evidence", args=[claim.pk, item.pk]),
                    item.name,
                    item.content_type,
                    item.size,
                    item.get_party_display().lower(),
                )
                for item in items
            ),
        ),
    )


@admin.register(ClaimDispute)
class ClaimDisputeAdmin(
    StaffReadAdminMixin, DisputeResolveAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    """Read-only, except that staff uphold or reject an open dispute on the disputes'
    resolve page, which asks for a note and calls ``claims.claim_dispute_resolve``. Staff
    see both sides: the claim's lines and evidence, and the guest's reason. Nothing
    decides a claim dispute but staff."""

    fields = (
        "id",
        "claim",
        "merchant",
        "citizen",
        "claimed",
        "collected",
        "refunded",
        "claim_status",
        "claim_lines",
        "claim_evidence",
        "reason",
        "status",
        "record_dispute",
        "opened_at",
        "resolution",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    )
    readonly_fields = fields
    list_display = (
        "opened_at",
        "citizen",
        "merchant",
        "status",
        "resolution",
        "resolved_at",
        "resolved_by",
    )
    list_filter = ("status", "resolution")
    search_fields = ("citizen__username", "claim__merchant__name", "claim__booking__reference")
    list_select_related = ("citizen", "claim__merchant", "resolved_by")
    date_hierarchy = "opened_at"

    def get_ordering(self, request: HttpRequest) -> Any:
        """Open disputes first, the oldest (waiting longest for staff) at the top."""
        open_first = Case(When(status=ClaimDisputeStatus.OPEN, then=Value(0)), default=Value(1))
        return (open_first.asc(), "opened_at")

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("perks.change_claimdispute")

    def staff_read_facts(self, obj: ClaimDispute) -> Sequence[str]:
        return [*_CLAIM_FACTS, "open_disputes"]

    @admin.display(description="Merchant", ordering="claim__merchant__name")
    def merchant(self, obj: ClaimDispute) -> Merchant:
        return obj.claim.merchant

    claimed = money_column("claim.amount", "Claimed")
    collected = money_column("claim.paid_amount", "Collected", sortable=False)
    refunded = money_column("claim.refunded_amount", "Refunded", sortable=False)

    @admin.display(description="Claim status")
    def claim_status(self, obj: ClaimDispute) -> str:
        return obj.claim.get_status_display()

    @admin.display(description="Claim lines")
    def claim_lines(self, obj: ClaimDispute) -> SafeString:
        return claim_lines_html(obj.claim)

    @admin.display(description="Claim evidence")
    def claim_evidence(self, obj: ClaimDispute) -> SafeString:
        return claim_evidence_html(obj.claim)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "can_resolve": self.has_resolve_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "<path:object_id>/uphold/",
                self.admin_site.admin_view(self.uphold_view),
                name=f"{opts.app_label}_{opts.model_name}_uphold",
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name=f"{opts.app_label}_{opts.model_name}_reject",
            ),
            *super().get_urls(),
        ]

    def uphold_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._resolve_view(request, object_id, upheld=True)

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._resolve_view(request, object_id, upheld=False)

    resolve_subject_headings = ("Merchant", "Booking", "Claim", "Evidence", "Guest's reason")

    def resolve_subject_cells(self, dispute: ClaimDispute) -> list[object]:
        claim = dispute.claim
        return [
            claim.merchant,
            claim.booking.reference,
            format_html("{} {}", money(claim.amount, claim.currency), claim_lines_html(claim)),
            claim_evidence_html(claim),
            dispute.reason,
        ]

    def resolve_consequence(self, disputes: list[ClaimDispute], *, upheld: bool) -> str:
        (dispute,) = disputes
        claim = dispute.claim
        if not upheld:
            return (
                f"Rejecting charges the claim ({money(claim.amount, claim.currency)}) as if "
                "the guest had accepted it: from the deposit's hold if it is still held, then "
                "from the wallet's available balance; what cannot be collected is left "
                "unpaid and recorded."
            )
        to_refund = claim.paid_amount - claim.refunded_amount
        refund = (
            f" {money(to_refund, claim.currency)} collected for it goes back from "
            f"{claim.merchant}'s settlement account to the citizen's wallet."
            if to_refund
            else ""
        )
        return (
            "Upholding means nothing is owed: the claim is closed and the deposit's hold "
            f"released.{refund}"
        )

    def resolve_with(
        self, dispute: ClaimDispute, *, upheld: bool, note: str, staff: User
    ) -> ClaimDispute:
        return claims.claim_dispute_resolve(
            dispute=dispute, upheld=upheld, note=note, resolved_by=staff
        )

    def _resolve_view(self, request: HttpRequest, object_id: str, *, upheld: bool) -> HttpResponse:
        dispute = self.get_object(request, unquote(object_id))
        if dispute is None:
            raise Http404("No such claim dispute.")
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        back = HttpResponseRedirect(change_url(dispute))
        if request.method != "POST" and not dispute.is_open:
            self.message_user(request, ClaimDisputeNotOpen.default_detail, messages.ERROR)
            return back
        form = ResolutionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            resolved, _ = self.resolve_each(
                request, [dispute], upheld=upheld, note=form.cleaned_data["note"]
            )
            if not resolved:
                detail = ClaimDisputeNotOpen.default_detail
                self.message_user(request, f"Nothing was changed: {detail}", messages.ERROR)
                return back
            self.log_change(request, resolved[0], "Upheld." if upheld else "Rejected.")
            self.message_user(request, self._resolved_message(resolved[0]), messages.SUCCESS)
            return back
        dispute.claim = (
            Claim.objects.select_related("merchant", "booking")
            .prefetch_related("lines", "evidence")
            .get(pk=dispute.claim_id)
        )
        return self.resolve_page(
            request,
            [dispute],
            upheld=upheld,
            form=form,
            title="Uphold the claim dispute" if upheld else "Reject the claim dispute",
            back_url=change_url(dispute),
            dispute_url=change_url(dispute),
        )

    @staticmethod
    def _resolved_message(dispute: ClaimDispute) -> str:
        claim = Claim.objects.get(pk=dispute.claim_id)
        if dispute.status == ClaimDisputeStatus.UPHELD:
            refunded = (
                f", {money(claim.refunded_amount, claim.currency)} refunded"
                if claim.refunded_amount
                else ""
            )
            return (
                f"Dispute upheld: {dispute.citizen} owes nothing, the deposit's hold is "
                f"released{refunded}."
            )
        return (
            f"Dispute rejected: the claim was charged "
            f"({money(claim.paid_amount, claim.currency)} collected, "
            f"{money(claim.unpaid_amount, claim.currency)} left to pay)."
        )
