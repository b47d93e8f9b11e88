"""Admin for perks, decisions, bookings, claims and claim disputes, and the perks part
of a merchant's page. Decisions, bookings, claims and claim disputes are records:
read-only here. Every write goes through ``merchants.perks.services`` (and
``merchants.perks.claims``): perks' rules are proposed as rows of a form
(``merchants.perks.admin_forms``) and validated before they are saved, a new merchant
gets a hotel's default perk, and claim disputes are decided on a page that asks for a
note. The admin never writes those rows itself.

A proposed perk change is approved on the governance pages, never here: an approval
needs a fairness audit of exactly the proposed terms (``governance.approvals``), which
only governance, above this app, can run and attach. Amounts are shown with
``common.money.format_money``, bands by their labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from common.admin import AuditTrailAdmin, ReadOnlyAdminMixin, is_uuid
from common.domain import DomainError
from common.money import format_money
from merchants.admin import MerchantAdmin, adopt, change_url, money_column
from merchants.models import Merchant
from merchants.perks import claims, selectors, services
from merchants.perks import rules as rules_module
from merchants.perks.admin_forms import MajorAmountField, RulesRows
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
    PerkChange,
    PerkChangeStatus,
    PerkKind,
)
from scoring.admin import (
    DisputeResolveAdminMixin,
    ResolutionForm,
    StaffReadAdminMixin,
    staff_read_purpose,
)
from scoring.facts import BAND_LABELS, EVENT_FACTS, FACTS, EventKinds
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
        return format_money(obj.max_amount, settings.WALLET_CURRENCY)


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


class PerkChangeForm(forms.ModelForm):
    """A proposed change of a perk (or a new perk): what it decides, its conditions and
    tiers as rows (``rules_rows``, rendered below the fields), the maximum in major
    units; validated as a perk is (``merchants.perks.rules``, one implementation), each
    problem said on its row."""

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
        model = PerkChange
        fields = (
            "perk",
            "merchant",
            "kind",
            "max_amount",
            "is_active",
            *PERK_BOUND_RANGES,
            "note",
        )
        widgets: ClassVar = {"perk": forms.HiddenInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A change of an existing perk keeps its merchant and kind (taken from the perk).
        for name in ("merchant", "kind"):
            if name in self.fields:
                self.fields[name].required = False
        if "is_active" in self.fields:
            self.fields["is_active"].initial = True
        currency = settings.WALLET_CURRENCY
        if "max_amount" in self.fields:
            self.fields["max_amount"] = MajorAmountField(
                currency=currency,
                label="Max amount",
                help_text=f"The most that may be waived, in {currency} (e.g. 500.00), "
                "whatever the tiers say.",
            )
        # A change starts from the perk's rules; a new perk from the default ones.
        self.rules_rows = RulesRows(
            self.data if self.is_bound else None,
            rules=self.initial.get("rules") or rules_module.DEFAULT_RULES,
            currency=currency,
        )

    def clean(self) -> dict[str, Any]:
        """The merchant and kind of the perk changed, or both given for a new perk; one
        active perk of a kind per merchant (a partial unique index): say so here, rather
        than let the approval be refused."""
        # ModelForm.clean returns its cleaned_data; the stubs keep Form.clean's "or None".
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]
        rules = self.rules_rows.clean()
        if rules is None:
            for problem in self.rules_rows.errors:
                self.add_error(None, forms.ValidationError(problem, code="invalid_rules"))
            self.add_error(
                None,
                forms.ValidationError(
                    "The rules have problems: see the rows marked below.", code="invalid_rules"
                ),
            )
        else:
            cleaned["rules"] = rules
        perk: Perk | None = cleaned.get("perk")
        if perk is not None:
            cleaned["merchant"], cleaned["kind"] = perk.merchant, perk.kind
        else:
            for name in ("merchant", "kind"):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(
                        name, forms.ValidationError("Required for a new perk.", code="required")
                    )
        merchant, kind = cleaned.get("merchant"), cleaned.get("kind")
        if cleaned.get("is_active") and merchant is not None and kind:
            others = Perk.objects.filter(merchant=merchant, kind=kind, is_active=True)
            if perk is not None:
                others = others.exclude(pk=perk.pk)
            if others.exists():
                label = PerkKind(kind).label.lower()
                self.add_error(
                    "is_active",
                    forms.ValidationError(
                        f"{merchant} already has an active {label} perk: deactivate that one "
                        "first, or propose this one inactive.",
                        code="one_active_per_kind",
                    ),
                )
        return cleaned


def perk_change_add_url(perk: Perk | None = None) -> str:
    url = reverse("admin:perks_perkchange_add")
    return f"{url}?perk={perk.pk}" if perk is not None else url


def requirements_html(rules: dict[str, Any], max_amount: int) -> SafeString:
    """The rules as the citizen reads them before consenting, capped by the maximum."""
    try:
        compiled = rules_module.Rules.from_data(rules)
    except rules_module.RulesInvalid as exc:
        return format_html("<p>The saved rules are not valid: {}</p>", "; ".join(exc.errors))
    lines = rules_module.requirements(
        compiled, max_amount=max_amount, currency=settings.WALLET_CURRENCY
    )
    items = format_html_join("", "<li>{}</li>", ((line.text,) for line in lines))
    return format_html('<ul class="perk-requirements">{}</ul>', items)


_OP_SHOWN = {">=": "≥", "<=": "≤", "==": "=", ">": ">", "<": "<"}


def rules_table_html(rules: dict[str, Any], currency: str) -> SafeString:
    """Rules as staff read them: the conditions and the tiers as rows (facts and bands
    by their labels, amounts as money), never their JSON."""
    try:
        compiled = rules_module.Rules.from_data(rules)
    except rules_module.RulesInvalid as exc:
        return format_html("<p>The saved rules are not valid: {}</p>", "; ".join(exc.errors))
    conditions = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
        (
            (
                FACTS[condition.fact].label,
                _OP_SHOWN[condition.op],
                BAND_LABELS[str(condition.value)]
                if condition.fact == rules_module.BAND_FACT
                else condition.value,
                condition.message,
                condition.code,
            )
            for condition in compiled.conditions
        ),
    )
    tiers = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td></tr>",
        (
            (BAND_LABELS[tier.band], format_money(tier.max_amount, currency))
            for tier in compiled.tiers
        ),
    )
    return format_html(
        '<table class="perk-conditions"><caption>Conditions (all must hold)</caption>'
        "<thead><tr><th>Fact</th><th>Operator</th><th>Value</th><th>Message</th>"
        "<th>Code</th></tr></thead><tbody>{}</tbody></table>"
        '<table class="perk-tiers"><caption>Tiers (the most waived by band)</caption>'
        "<thead><tr><th>Band</th><th>Up to</th></tr></thead><tbody>{}</tbody></table>",
        conditions or format_html("<tr><td colspan='5'>{}</td></tr>", "None"),
        tiers,
    )


def when(moment: Any) -> str:
    return formats.localize(timezone.localtime(moment)) if moment is not None else "-"


def versions_html(perk: Perk) -> SafeString:
    """A perk's versions, newest first: each one's terms, when it went live and who
    approved it (the system's own, like a new merchant's default perk, name nobody),
    and when the next replaced it."""
    rows = []
    for version in selectors.perk_versions_of(perk=perk):
        change = (
            format_html('<a href="{}">change</a>', change_url(version.change))
            if version.change is not None
            else "-"
        )
        rows.append(
            (
                f"v{version.version}",
                "active" if version.retired_at is None else f"retired {when(version.retired_at)}",
                when(version.activated_at),
                version.activated_by.get_username() if version.activated_by else "the system",
                change,
                format_money(version.max_amount, settings.WALLET_CURRENCY),
                "yes" if version.is_active else "no",
                requirements_html(version.rules, version.max_amount),
            )
        )
    if not rows:
        return format_html("{}", "No versions recorded.")
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>",
        rows,
    )
    return format_html(
        '<table class="perk-versions"><thead><tr><th>Version</th><th>State</th>'
        "<th>Activated at</th><th>Activated by</th><th>Change</th><th>Up to</th>"
        "<th>Offered</th><th>Rules, as the citizen read them</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        body,
    )


@admin.register(Perk)
class PerkAdmin(AuditTrailAdmin):
    """Read-only: what a perk decides changes only by a proposed change that a second
    member of staff approves (``PerkChangeAdmin``)."""

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
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "merchant",
                    "kind",
                    "version_number",
                    "max_amount_display",
                    "is_active",
                    "propose",
                )
            },
        ),
        ("Stays", {"fields": tuple(PERK_BOUND_RANGES)}),
        ("Rules", {"fields": ("rules_table", "requirements_preview")}),
        ("Versions (newest first)", {"fields": ("versions",)}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = (
        "merchant",
        "kind",
        "version_number",
        "max_amount_display",
        "is_active",
        "propose",
        *PERK_BOUND_RANGES,
        "rules_table",
        "requirements_preview",
        "versions",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Perk | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Perk | None = None) -> bool:
        # Decisions name the perk they were made under: deactivate it instead.
        return False

    @admin.display(description="Up to", ordering="max_amount")
    def max_amount_display(self, obj: Perk) -> str:
        return format_money(obj.max_amount, settings.WALLET_CURRENCY)

    @admin.display(description="Changes")
    def propose(self, obj: Perk) -> SafeString:
        pending = obj.changes.filter(status=PerkChangeStatus.PENDING).count()
        waiting = (
            format_html(
                ' <a href="{}?status__exact=pending">{} awaiting approval</a>',
                reverse("admin:perks_perkchange_changelist"),
                pending,
            )
            if pending
            else ""
        )
        return format_html(
            '<a class="button" href="{}">Propose a change</a>{}', perk_change_add_url(obj), waiting
        )

    @admin.display(description="Rules")
    def rules_table(self, obj: Perk) -> SafeString:
        return rules_table_html(obj.rules, settings.WALLET_CURRENCY)

    @admin.display(description="Versions")
    def versions(self, obj: Perk) -> SafeString:
        return versions_html(obj)

    @admin.display(description="What the citizen reads before consenting")
    def requirements_preview(self, obj: Perk) -> SafeString:
        return requirements_html(obj.rules, obj.max_amount)


class PerkChangeDecisionForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Why: recorded with the rejection (required).",
    )


# The terms a change sets, as the page compares them: (field, label).
_TERMS = (
    ("max_amount", "Up to"),
    ("is_active", "Active"),
    *((name, name.replace("_", " ").capitalize()) for name in PERK_BOUND_RANGES),
    ("rules", "Rules"),
)


@admin.register(PerkChange)
class PerkChangeAdmin(admin.ModelAdmin):
    """Four eyes on perks: staff propose a change (or a new perk) here, its conditions
    and tiers as rows; it is rejected (or withdrawn by its proposer) here, on a page that
    shows the perk as it is and as it would be.

    There is no approve button here on purpose: a change goes live only with a fairness
    audit of exactly its terms, less than a day old (``perk_change_approve`` refuses it
    otherwise), which governance runs and attaches. Approval happens on the governance
    page (``governance.approvals.perk_change_approve_audited``), by a second member of
    staff; the proposer cannot approve their own change."""

    form = PerkChangeForm
    list_display = (
        "proposed_at",
        "merchant",
        "kind",
        "status",
        "proposed_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("merchant__name", "note")
    list_select_related = ("merchant", "proposed_by", "decided_by")
    autocomplete_fields = ("merchant",)
    readonly_fields = (
        "perk",
        "merchant",
        "kind",
        "status",
        "comparison",
        "note",
        "proposed_by",
        "proposed_at",
        "base_updated_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "decide",
    )

    def get_fieldsets(self, request: HttpRequest, obj: PerkChange | None = None) -> Any:
        if obj is None:
            return (
                (None, {"fields": ("perk", "merchant", "kind", "max_amount", "is_active", "note")}),
                ("Stays", {"fields": tuple(PERK_BOUND_RANGES)}),
                # The rules follow as rows (the template renders ``form.rules_rows``).
            )
        return (
            (None, {"fields": ("perk", "merchant", "kind", "status", "note", "decide")}),
            ("The perk as it is, and as it would be", {"fields": ("comparison",)}),
            ("Proposed", {"fields": ("proposed_by", "proposed_at", "base_updated_at")}),
            ("Decided", {"fields": ("decided_by", "decided_at", "decision_note")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: PerkChange | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and request.GET.get("perk"):
            # A change of an existing perk: its merchant and kind are the perk's.
            form.base_fields["merchant"].widget = forms.HiddenInput()
            form.base_fields["kind"].widget = forms.HiddenInput()
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A change starts from the perk as it is now."""
        initial: dict[str, Any] = super().get_changeform_initial_data(request)
        perk_id = request.GET.get("perk") or ""
        perk = Perk.objects.filter(pk=perk_id).first() if is_uuid(perk_id) else None
        if perk is not None:
            initial.update(
                perk=perk.pk,
                merchant=perk.merchant_id,
                kind=perk.kind,
                max_amount=perk.max_amount,
                is_active=perk.is_active,
                rules=perk.rules,
                **{name: getattr(perk, name) for name in PERK_BOUND_RANGES},
            )
        return initial

    def has_change_permission(self, request: HttpRequest, obj: PerkChange | None = None) -> bool:
        # A proposal is never edited: reject it and propose another.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PerkChange | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: PerkChange, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        saved = services.perk_change_propose(
            perk=data.get("perk"),
            merchant=data["merchant"],
            kind=data["kind"],
            max_amount=data["max_amount"],
            rules=data["rules"],
            is_active=data["is_active"],
            bounds=services.StayBounds(**{name: data[name] for name in PERK_BOUND_RANGES}),
            note=data.get("note", ""),
            by=_staff_user(request),
        )
        adopt(obj, saved)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            # Refused by the service after the form's checks (nothing to change, no right).
            self.message_user(request, f"Nothing was proposed: {exc.detail}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description="Compared")
    def comparison(self, obj: PerkChange) -> SafeString:
        perk = obj.perk if obj.status == PerkChangeStatus.PENDING else None
        rows = []
        for name, label in _TERMS:
            proposed = getattr(obj, name)
            current = getattr(perk, name) if perk is not None else None
            rows.append(
                (
                    label,
                    _term_html(name, current, obj),
                    _term_html(name, proposed, obj),
                    "" if current == proposed else "changed",
                )
            )
        table = format_html_join(
            "",
            "<tr class='{3}'><th>{0}</th><td>{1}</td><td>{2}</td><td>{3}</td></tr>",
            rows,
        )
        return format_html(
            "<table><thead><tr><th></th><th>Now</th><th>Proposed</th><th></th></tr></thead>"
            "<tbody>{}</tbody></table><p>What the citizen would read:</p>{}",
            table,
            requirements_html(obj.rules, obj.max_amount),
        )

    @admin.display(description="Decision")
    def decide(self, obj: PerkChange) -> SafeString:
        if obj.status != PerkChangeStatus.PENDING:
            return format_html("{}", obj.get_status_display())
        opts = self.opts
        # No approve button: approval needs a fairness audit of exactly these terms,
        # which governance runs and attaches; it happens on the governance page.
        return format_html(
            '<a class="button" href="{}">Reject</a>'
            '<p class="help">Approval happens on the governance page, with a fairness audit '
            "of exactly these terms less than a day old, by a second member of staff.</p>",
            reverse(f"admin:{opts.app_label}_{opts.model_name}_reject", args=[obj.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name=f"{opts.app_label}_{opts.model_name}_reject",
            ),
            *super().get_urls(),
        ]

    def reject_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Reject a change (or withdraw one's own), with a note saying why."""
        change = self.get_object(request, unquote(object_id))
        if change is None:
            raise Http404("No such perk change.")
        if not self.has_view_permission(request, change):
            raise PermissionDenied
        back = HttpResponseRedirect(change_url(change))
        form = PerkChangeDecisionForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                decided = services.perk_change_reject(
                    change=change, by=_staff_user(request), note=form.cleaned_data["note"]
                )
            except DomainError as exc:
                reason = "; ".join(error.message for error in exc.errors) or exc.detail
                self.message_user(request, f"Nothing was changed: {reason}", messages.ERROR)
                return back
            self.log_change(request, decided, decided.get_status_display())
            self.message_user(
                request, f"{decided}: {decided.get_status_display().lower()}.", messages.SUCCESS
            )
            return back
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Reject the change of {change.get_kind_display().lower()} at "
            f"{change.merchant}",
            "change": change,
            "comparison": self.comparison(change),
            "form": form,
            "back_url": change_url(change),
        }
        return TemplateResponse(request, "admin/perks/perkchange/decide.html", context)


def _term_html(name: str, value: Any, change: PerkChange) -> SafeString:
    if value is None:
        return format_html("{}", "-")
    if name == "rules":
        return rules_table_html(value, settings.WALLET_CURRENCY)
    if name == "max_amount":
        return format_html("{}", format_money(value, settings.WALLET_CURRENCY))
    if name == "is_active":
        return format_html("{}", "yes" if value else "no")
    return format_html("{}", value)


def _staff_user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # the admin site serves only signed-in staff
        raise PermissionDenied
    return request.user


# --- Decisions and bookings ------------------------------------------------------------


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the merchant was told, and the rules it was made under (its perk version's,
    whatever the perk's rules are now). The snapshot is named by id only: its page shows
    the score, and opening it is logged as a read of the citizen's file."""

    fields = (
        "id",
        "merchant",
        "citizen",
        "perk",
        "perk_version_shown",
        "consent",
        "eligible",
        "requested",
        "waived",
        "held",
        "reasons_list",
        "rules_explained",
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

    @admin.display(description="Perk version")
    def perk_version_shown(self, obj: Decision) -> str:
        version = obj.perk_version
        if version is None:
            return "Not recorded (made before perk versions were)"
        now = obj.perk.version_number
        later = f" (the perk is at v{now} now)" if now != version.version else " (still active)"
        return f"v{version.version}, active from {when(version.activated_at)}{later}"

    @admin.display(description="The rules it was made under")
    def rules_explained(self, obj: Decision) -> SafeString:
        lines = selectors.decision_rules_explained(obj)
        if not lines:
            return format_html("{}", "Not known: the decision is older than perk versions.")
        items = format_html_join("", "<li>{}</li>", ((line.text,) for line in lines))
        return format_html('<ul class="decision-rules">{}</ul>', items)


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
            (
                (format_money(line.amount, claim.currency), line.description)
                for line in claim.lines.all()
            ),
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
    StaffReadAdminMixin, DisputeResolveAdminMixin, ReadOnlyAdminMixin, AuditTrailAdmin
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
            format_html(
                "{} {}", format_money(claim.amount, claim.currency), claim_lines_html(claim)
            ),
            claim_evidence_html(claim),
            dispute.reason,
        ]

    def resolve_consequence(self, disputes: list[ClaimDispute], *, upheld: bool) -> str:
        (dispute,) = disputes
        claim = dispute.claim
        if not upheld:
            return (
                f"Rejecting charges the claim ({format_money(claim.amount, claim.currency)}) as if "
                "the guest had accepted it: from the deposit's hold if it is still held, then "
                "from the wallet's available balance; what cannot be collected is left "
                "unpaid and recorded."
            )
        to_refund = claim.paid_amount - claim.refunded_amount
        refund = (
            f" {format_money(to_refund, claim.currency)} collected for it goes back from "
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
        if request.method != "POST" and staff_read_purpose(request, dispute.citizen_id) is None:
            # The page shows the claim: it is read from the dispute's page, after saying why.
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
                f", {format_money(claim.refunded_amount, claim.currency)} refunded"
                if claim.refunded_amount
                else ""
            )
            return (
                f"Dispute upheld: {dispute.citizen} owes nothing, the deposit's hold is "
                f"released{refunded}."
            )
        return (
            f"Dispute rejected: the claim was charged "
            f"({format_money(claim.paid_amount, claim.currency)} collected, "
            f"{format_money(claim.unpaid_amount, claim.currency)} left to pay)."
        )
