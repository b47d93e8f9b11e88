"""Admin for merchants. Keys, codes, consents, decisions, bookings, claims and claim
disputes are records: read-only here. Every write goes through ``merchants.services``:
a merchant is created with its settlement account (and a hotel's default perk), a key is
created on its own page and shown once, perks' rules are validated before they are
saved, keys are revoked by an action, and claim disputes are decided on a page that asks
for a note. The admin never writes those rows itself.

Secrets stay secret: an API key is shown on the page that created it and nowhere else
(not in a message, which may be kept in the session table), and no digest is shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Model, Q, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from common.amounts import ABSURD_AMOUNT
from common.forms import IndentedJSONField
from common.money import format_money
from merchants import rules as rules_module
from merchants import services
from merchants.errors import ClaimDisputeNotOpen
from merchants.models import (
    ApiKey,
    AuthorizationCode,
    Bill,
    BillStatus,
    Booking,
    Claim,
    ClaimDispute,
    ClaimDisputeStatus,
    Consent,
    Decision,
    Merchant,
    Perk,
    PerkKind,
)
from wallet.admin import ReadOnlyAdminMixin


def _adopt(obj: Model, saved: Model) -> None:
    """Make the admin's instance the row the service saved (its pk and every field), so
    that the admin's log entry and redirect point at it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def _money(amount: int, currency: str) -> str:
    return format_money(amount, currency)


def money_column(field: str, description: str, *, sortable: bool = True) -> Any:
    """A list or page column showing ``obj.<field>`` (dotted through a relation, e.g.
    ``claim.amount``) as money in the currency of the object that holds it."""
    *path, name = field.split(".")

    @admin.display(description=description, ordering=field.replace(".", "__") if sortable else None)
    def show(model_admin: admin.ModelAdmin, obj: Model) -> str:
        for step in path:
            obj = getattr(obj, step)
        return _money(getattr(obj, name), obj.currency)

    return show


def _change_url(obj: Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# --- Merchants and API keys ------------------------------------------------------------


class MerchantAddForm(forms.ModelForm):
    """A new merchant is a name and a category: ``services.merchant_create`` makes the
    rest (the settlement account, and a hotel's or rental's default perk)."""

    class Meta:
        model = Merchant
        fields = ("name", "category")


class MerchantChangeForm(forms.ModelForm):
    """There is no service for renaming or pausing a merchant: those two fields are
    saved as they are, and nothing else is."""

    class Meta:
        model = Merchant
        fields = ("name", "is_active")


class ApiKeyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApiKey
    fields = ("prefix", "name", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "API keys (create one with the button at the top of the page)"


class PerkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Perk
    fields = ("kind", "max_amount_display", "is_active", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="Up to")
    def max_amount_display(self, obj: Perk) -> str:
        return _money(obj.max_amount, settings.WALLET_CURRENCY)


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the key is for (“front desk”): staff and the merchant recognise a "
        "key by its name and prefix.",
    )
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=f"Optional ({settings.TIME_ZONE}). Empty: the key works until it is revoked.",
    )

    def clean_expires_at(self) -> datetime | None:
        expires_at: datetime | None = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.", code="past")
        return expires_at


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "is_active", "created_at", "settlement_balance")
    list_filter = ("category", "is_active")
    search_fields = ("name",)
    list_select_related = ("settlement",)
    date_hierarchy = "created_at"

    def get_fieldsets(self, request: HttpRequest, obj: Merchant | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("name", "category")}),)
        return (
            (None, {"fields": ("name", "category", "is_active", "created_at")}),
            ("Settlement", {"fields": ("settlement", "settlement_balance")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Merchant | None = None) -> Any:
        if obj is None:
            return ()
        return ("category", "created_at", "settlement", "settlement_balance")

    def get_form(
        self, request: HttpRequest, obj: Merchant | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        kwargs["form"] = MerchantChangeForm if obj is not None else MerchantAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Merchant | None) -> Any:
        return () if obj is None else (ApiKeyInline, PerkInline)

    def has_delete_permission(self, request: HttpRequest, obj: Merchant | None = None) -> bool:
        # Its keys, perks, bookings and ledger account refer to it: deactivate it instead.
        return False

    def save_model(
        self, request: HttpRequest, obj: Merchant, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            _adopt(
                obj,
                services.merchant_update(
                    merchant=obj,
                    name=form.cleaned_data["name"],
                    is_active=form.cleaned_data["is_active"],
                ),
            )
            return
        data = form.cleaned_data
        _adopt(obj, services.merchant_create(name=data["name"], category=data["category"]))

    @admin.display(description="Settlement balance", ordering="settlement__balance")
    def settlement_balance(self, obj: Merchant) -> str:
        return _money(obj.settlement.balance, obj.settlement.currency)

    # The "Create API key" page: a form, then the key, once.

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "<path:object_id>/api-keys/new/",
                self.admin_site.admin_view(self.api_key_create_view),
                name=f"{opts.app_label}_{opts.model_name}_api_key_create",
            ),
            *super().get_urls(),
        ]

    def api_key_create_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the form. POST: the key is created and shown on this response only.

        ``admin_view`` makes the page staff-only, CSRF-protected and never cached."""
        merchant = self.get_object(request, unquote(object_id))
        if merchant is None:
            raise Http404("No such merchant.")
        if not self.has_change_permission(request, merchant):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "merchant": merchant,
            "merchant_url": _change_url(merchant),
        }
        if form.is_valid():
            api_key, raw_key = services.api_key_create(
                merchant=merchant,
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data["expires_at"],
            )
            self.log_addition(request, api_key, [{"added": {}}])
            context.update(
                title=f"API key for {merchant}",
                api_key=api_key,
                raw_key=raw_key,
                api_key_url=_change_url(api_key),
            )
            return TemplateResponse(
                request, "admin/merchants/merchant/api_key_created.html", context
            )
        context.update(title=f"Create an API key for {merchant}", form=form)
        return TemplateResponse(request, "admin/merchants/merchant/api_key_create.html", context)


class RevokedFilter(admin.SimpleListFilter):
    title = "revoked"
    parameter_name = "revoked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> Any:
        return (("yes", "Revoked"), ("no", "Not revoked"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "yes":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(revoked_at__isnull=True)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Keys are created on their merchant's page (shown once) and revoked here. The
    digest is never shown: it is not a field of any page, list or search."""

    fields = (
        "prefix",
        "merchant",
        "name",
        "state",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = fields
    list_display = (
        "prefix",
        "merchant",
        "name",
        "state",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = ("merchant", RevokedFilter)
    search_fields = ("prefix", "name", "merchant__name")
    list_select_related = ("merchant",)
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("merchants.change_apikey")

    @admin.display(description="State")
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return "expired"
        if not obj.merchant.is_active:
            return "merchant inactive"
        return "live"

    @admin.action(description="Revoke selected keys", permissions=("revoke",))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = already = 0
        for api_key in queryset.order_by("pk"):
            if api_key.revoked_at is not None:
                already += 1
                continue
            services.api_key_revoke(api_key=api_key)
            revoked += 1
        if revoked:
            self.message_user(
                request,
                f"{revoked} API key(s) revoked: they stop working at once.",
                messages.SUCCESS,
            )
        if already:
            self.message_user(
                request,
                f"{already} API key(s) were already revoked and keep their revocation time.",
                messages.WARNING,
            )


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

    class Meta:
        model = Perk
        fields = ("merchant", "kind", "max_amount", "is_active", "rules")

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
        cleaned = super().clean()
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
    list_display = ("merchant", "kind", "max_amount_display", "is_active", "updated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("merchant__name",)
    list_select_related = ("merchant",)
    autocomplete_fields = ("merchant",)

    def get_fieldsets(self, request: HttpRequest, obj: Perk | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("merchant", "kind", "max_amount", "is_active", "rules")}),)
        return (
            (None, {"fields": ("merchant", "kind", "max_amount", "is_active")}),
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
        if change:
            saved = services.perk_update(
                perk=obj,
                max_amount=data["max_amount"],
                rules=data["rules"],
                is_active=data["is_active"],
            )
        else:
            saved = services.perk_create(
                merchant=data["merchant"],
                kind=data["kind"],
                max_amount=data["max_amount"],
                rules=data["rules"],
                is_active=data["is_active"],
            )
        _adopt(obj, saved)

    @admin.display(description="Up to", ordering="max_amount")
    def max_amount_display(self, obj: Perk) -> str:
        return _money(obj.max_amount, settings.WALLET_CURRENCY)

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


# --- Codes and consents ----------------------------------------------------------------


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The code itself is never stored; its digest is not shown either."""

    fields = ("id", "citizen", "scope", "merchant", "created_at", "expires_at", "redeemed_at")
    readonly_fields = fields
    list_display = ("created_at", "citizen", "scope", "merchant", "expires_at", "redeemed_at")
    list_filter = ("scope",)
    search_fields = ("citizen__username", "merchant__name")
    list_select_related = ("citizen", "merchant")
    date_hierarchy = "created_at"


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    fields = (
        "id",
        "citizen",
        "merchant",
        "scope",
        "code",
        "granted_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = fields
    list_display = ("granted_at", "citizen", "merchant", "scope", "expires_at", "revoked_at")
    list_filter = ("scope", "merchant")
    search_fields = ("citizen__username", "merchant__name")
    list_select_related = ("citizen", "merchant")
    date_hierarchy = "granted_at"


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
        "status",
        "outcome",
        "created_at",
        "completed_at",
    )
    readonly_fields = fields
    list_display = (
        "created_at",
        "merchant",
        "citizen",
        "reference",
        "status",
        "outcome",
        "deposit",
        "waived",
        "held",
    )
    list_filter = ("status", "outcome", "merchant")
    search_fields = ("reference", "citizen__username", "merchant__name")
    list_select_related = ("merchant", "citizen")
    date_hierarchy = "created_at"

    deposit = money_column("deposit_amount", "Deposit")
    waived = money_column("waived_amount", "Waived")
    held = money_column("hold_amount", "Held")


# --- Claims and their disputes ---------------------------------------------------------


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
        "created_at",
        "paid_at",
    )
    readonly_fields = fields
    list_display = (
        "created_at",
        "merchant",
        "citizen",
        "booking_reference",
        "claimed",
        "paid",
        "refunded",
        "status",
    )
    list_filter = ("status",)
    search_fields = ("citizen__username", "merchant__name", "booking__reference")
    list_select_related = ("merchant", "citizen", "booking")
    date_hierarchy = "created_at"

    @admin.display(description="Booking", ordering="booking__reference")
    def booking_reference(self, obj: Claim) -> str:
        return obj.booking.reference

    claimed = money_column("amount", "Claimed")
    paid = money_column("paid_amount", "Collected")
    refunded = money_column("refunded_amount", "Refunded")


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Unpaid past due"), ("no", "Not overdue")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Bill]) -> QuerySet[Bill]:
        overdue = Q(status=BillStatus.OPEN, due_date__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


@admin.register(Bill)
class BillAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bills are the biller's and the citizen's: staff read them (support, disputes)."""

    fields = (
        "id",
        "merchant",
        "citizen",
        "consent",
        "description",
        "billed",
        "due_date",
        "status",
        "issued_at",
        "paid_at",
        "payment",
        "overdue_recorded_at",
    )
    readonly_fields = fields
    list_display = ("issued_at", "merchant", "citizen", "billed", "due_date", "status", "paid_at")
    list_filter = ("status", OverdueFilter)
    search_fields = ("citizen__username", "merchant__name", "description")
    list_select_related = ("merchant", "citizen")
    date_hierarchy = "issued_at"

    billed = money_column("amount", "Amount")


class ResolutionForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Why: recorded with the decision, and the citizen can read it.",
    )


@admin.register(ClaimDispute)
class ClaimDisputeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only, except that staff uphold or reject an open dispute on a page that asks
    for a note and calls ``services.claim_dispute_resolve``."""

    fields = (
        "id",
        "claim",
        "merchant",
        "citizen",
        "claimed",
        "collected",
        "refunded",
        "claim_status",
        "reason",
        "status",
        "record_dispute",
        "opened_at",
        "upheld_automatically_on",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    )
    readonly_fields = fields
    list_display = (
        "opened_at",
        "citizen",
        "merchant",
        "claimed",
        "status",
        "upheld_automatically_on",
        "resolved_at",
        "resolved_by",
    )
    list_filter = ("status",)
    search_fields = ("citizen__username", "claim__merchant__name", "claim__booking__reference")
    list_select_related = ("citizen", "claim__merchant", "resolved_by")
    date_hierarchy = "opened_at"

    def get_ordering(self, request: HttpRequest) -> Any:
        """Open disputes first, the oldest (the nearest to being upheld automatically)
        at the top."""
        open_first = Case(When(status=ClaimDisputeStatus.OPEN, then=Value(0)), default=Value(1))
        return (open_first.asc(), "opened_at")

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("merchants.change_claimdispute")

    @admin.display(description="Merchant", ordering="claim__merchant__name")
    def merchant(self, obj: ClaimDispute) -> Merchant:
        return obj.claim.merchant

    claimed = money_column("claim.amount", "Claimed")
    collected = money_column("claim.paid_amount", "Collected", sortable=False)
    refunded = money_column("claim.refunded_amount", "Refunded", sortable=False)

    @admin.display(description="Claim status")
    def claim_status(self, obj: ClaimDispute) -> str:
        return obj.claim.get_status_display()

    @admin.display(description="Upheld automatically on", empty_value="-")
    def upheld_automatically_on(self, obj: ClaimDispute) -> str | None:
        if obj.status != ClaimDisputeStatus.OPEN:
            return None
        deadline: timedelta = services.CLAIM_DISPUTE_AUTO_UPHOLD_AFTER
        return formats.localize(timezone.localtime(obj.opened_at + deadline))

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

    def _resolve_view(self, request: HttpRequest, object_id: str, *, upheld: bool) -> HttpResponse:
        dispute = self.get_object(request, unquote(object_id))
        if dispute is None:
            raise Http404("No such claim dispute.")
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        back = HttpResponseRedirect(_change_url(dispute))
        if request.method != "POST" and dispute.status != ClaimDisputeStatus.OPEN:
            self.message_user(request, ClaimDisputeNotOpen.default_detail, messages.ERROR)
            return back
        form = ResolutionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                resolved = services.claim_dispute_resolve(
                    dispute=dispute,
                    upheld=upheld,
                    note=form.cleaned_data["note"],
                    resolved_by=request.user,
                )
            except ClaimDisputeNotOpen as exc:
                self.message_user(request, f"Nothing was changed: {exc.detail}", messages.ERROR)
                return back
            self.log_change(request, resolved, "Upheld." if upheld else "Rejected.")
            self.message_user(request, self._resolved_message(resolved), messages.SUCCESS)
            return back
        claim = Claim.objects.select_related("merchant", "booking").get(pk=dispute.claim_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Uphold the claim dispute" if upheld else "Reject the claim dispute",
            "upheld": upheld,
            "dispute": dispute,
            "claim": claim,
            "claimed": _money(claim.amount, claim.currency),
            "collected": _money(claim.paid_amount, claim.currency),
            "to_refund": _money(claim.paid_amount - claim.refunded_amount, claim.currency),
            "dispute_url": _change_url(dispute),
            "form": form,
        }
        return TemplateResponse(request, "admin/merchants/claimdispute/resolve.html", context)

    @staticmethod
    def _resolved_message(dispute: ClaimDispute) -> str:
        claim = Claim.objects.get(pk=dispute.claim_id)
        if dispute.status == ClaimDisputeStatus.UPHELD:
            return (
                f"Dispute upheld: the claim is cancelled, "
                f"{_money(claim.refunded_amount, claim.currency)} refunded to the wallet of "
                f"{dispute.citizen}, and its record removed."
            )
        return (
            f"Dispute rejected: the claim stands ({claim.get_status_display().lower()}, "
            f"{_money(claim.unpaid_amount, claim.currency)} left to pay)."
        )
