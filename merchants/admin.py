"""Admin for merchants, their API keys, citizens' one-time codes and consents. Keys,
codes and consents are records: read-only here. Every write goes through
``merchants.services``: a merchant is created with its settlement account (through
``MerchantAdmin.merchant_create``, which ``merchants.perks.admin`` points at the service
that also gives a hotel its default perk), a key is created on its own page and shown
once, and keys are revoked by an action. A merchant's settlement balance is paid out
(``services.settlement_pay_out``, as the staff user who asked) from a button on its page
or an action on the list. The admin never writes those rows itself.

Secrets stay secret: an API key is shown on the page that created it and nowhere else
(not in a message, which may be kept in the session table), and no digest is shown.

The helpers at the top (``adopt``, ``money``, ``money_column``, ``change_url``) serve
the admins of ``merchants.perks`` and ``merchants.bills`` too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from common.admin import AuditTrailAdmin, ReadOnlyAdminMixin, money_display
from common.admin import money_column as money_column  # the merchant apps' admins use it
from common.domain import InvalidRequest
from merchants import selectors, services
from merchants.models import (
    ALL_SCOPES,
    ApiKey,
    ApiKeyScope,
    AuthorizationCode,
    Consent,
    Merchant,
)
from wallet.models import PayoutStatus, User


def adopt(obj: Model, saved: Model) -> None:
    """Make the admin's instance the row the service saved (its pk and every field), so
    that the admin's log entry and redirect point at it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def money(amount: int, currency: str) -> str:
    """Money as every admin page shows it (``common.admin.money_display``)."""
    return money_display(amount, currency)


def change_url(obj: Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


# --- Settlement payouts ----------------------------------------------------------------

PAYOUTS_SHOWN = 5


def payouts_url(merchant: Merchant) -> str | None:
    """The payouts' admin list filtered to the merchant's settlement account (None
    where the payouts have no admin list)."""
    try:
        url = reverse("admin:wallet_payout_changelist")
    except NoReverseMatch:
        return None
    return f"{url}?account__id__exact={merchant.settlement_id}"


def payout_message(result: services.SettlementPayout) -> tuple[str, int]:
    """What staff read after asking for a payout, and the message's level."""
    merchant = result.merchant
    currency = merchant.settlement.currency
    payout = result.payout
    if payout is not None:
        payout.refresh_from_db(fields=["status", "failure_reason"])
        paid = f"{money(payout.amount, payout.currency)} of {merchant}'s settlement balance"
        if payout.status == PayoutStatus.PAID:
            return f"Paid out {paid} to {payout.destination}.", messages.SUCCESS
        if payout.status == PayoutStatus.FAILED:
            return (
                f"The payout of {paid} to {payout.destination} failed "
                f"({payout.failure_reason or 'no reason given'}); the money is back on the "
                "settlement balance.",
                messages.ERROR,
            )
        return (
            f"Paying out {paid} to {payout.destination}: the payment provider has been "
            "asked and the payout is pending.",
            messages.SUCCESS,
        )
    balance = money(result.balance, currency)
    if result.reason == services.NoPayout.NO_DESTINATION:
        return (
            f"Nothing paid out to {merchant}: it has no payout destination (its settlement "
            f"balance is {balance}). Enter one on its page first.",
            messages.WARNING,
        )
    if result.balance < 0:
        return (
            f"Nothing paid out to {merchant}: its settlement balance is {balance} (refunds "
            "made after its last payout, made up from what it collects next).",
            messages.WARNING,
        )
    if result.balance < result.threshold:
        return (
            f"Nothing paid out to {merchant}: its settlement balance is {balance}.",
            messages.WARNING,
        )
    return f"Nothing paid out to {merchant}.", messages.WARNING


# --- Merchants and API keys ------------------------------------------------------------


class MerchantAddForm(forms.ModelForm):
    """A new merchant is a name and a category: ``MerchantAdmin.merchant_create`` makes
    the rest (the settlement account, and a hotel's or rental's default perk)."""

    class Meta:
        model = Merchant
        fields = ("name", "category")


class MerchantChangeForm(forms.ModelForm):
    """What staff may change: the name, whether it is active, and where its payouts go
    (``services.merchant_update`` saves them; nothing else is)."""

    class Meta:
        model = Merchant
        fields = ("name", "is_active", "payout_destination")


class ApiKeyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApiKey
    fields = (
        "prefix",
        "name",
        "scopes",
        "allowed_networks",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "API keys (create one with the button at the top of the page)"


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
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        initial=list(ALL_SCOPES),
        required=False,  # none ticked: the service says what to do
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do: each merchant endpoint needs one of these. Give a "
        "system only what it uses.",
    )
    allowed_networks = forms.CharField(
        required=False,
        label="Allowed networks",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40, "spellcheck": "false"}),
        help_text="Optional: the client addresses or CIDR blocks (203.0.113.0/24) the key is "
        "accepted from, one per line. Empty: any network.",
    )

    def clean_expires_at(self) -> datetime | None:
        expires_at: datetime | None = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("The expiry must be in the future.", code="past")
        return expires_at

    def clean_allowed_networks(self) -> list[str]:
        text: str = self.cleaned_data["allowed_networks"]
        return text.replace(",", " ").split()

    def add_domain_error(self, error: InvalidRequest) -> None:
        """The service's refusal, on the fields it names."""
        for problem in error.errors:
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        if not error.errors:
            self.add_error(None, error.detail)


@admin.register(Merchant)
class MerchantAdmin(AuditTrailAdmin):
    list_display = ("name", "category", "is_active", "created_at", "settlement_balance")
    list_filter = ("category", "is_active")
    search_fields = ("name",)
    list_select_related = ("settlement",)
    date_hierarchy = "created_at"
    actions = ("pay_out",)

    def get_fieldsets(self, request: HttpRequest, obj: Merchant | None = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("name", "category")}),)
        return (
            (None, {"fields": ("name", "category", "is_active", "created_at")}),
            (
                "Settlement",
                {"fields": ("settlement", "settlement_balance", "payout_destination", "payouts")},
            ),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Merchant | None = None) -> Any:
        if obj is None:
            return ()
        return ("category", "created_at", "settlement", "settlement_balance", "payouts")

    def get_form(
        self, request: HttpRequest, obj: Merchant | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        kwargs["form"] = MerchantChangeForm if obj is not None else MerchantAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request: HttpRequest, obj: Merchant | None) -> Any:
        return () if obj is None else (ApiKeyInline,)

    def has_delete_permission(self, request: HttpRequest, obj: Merchant | None = None) -> bool:
        # Its keys, perks, bookings and ledger account refer to it: deactivate it instead.
        return False

    def save_model(
        self, request: HttpRequest, obj: Merchant, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            adopt(
                obj,
                services.merchant_update(
                    merchant=obj,
                    name=form.cleaned_data["name"],
                    is_active=form.cleaned_data["is_active"],
                    payout_destination=form.cleaned_data["payout_destination"],
                ),
            )
            return
        data = form.cleaned_data
        adopt(obj, self.merchant_create(name=data["name"], category=data["category"]))

    def merchant_create(self, *, name: str, category: str) -> Merchant:
        """The service that takes a new merchant on. ``merchants.perks.admin`` replaces
        this admin with a subclass whose service also gives a hotel its default perk."""
        return services.merchant_create(name=name, category=category)

    @admin.display(description="Settlement balance", ordering="settlement__balance")
    def settlement_balance(self, obj: Merchant) -> str:
        return money(obj.settlement.balance, obj.settlement.currency)

    @admin.display(description="Payouts")
    def payouts(self, obj: Merchant) -> str:
        """The latest payouts, and a link to all of them on the payouts' list."""
        latest = list(selectors.payouts_for_merchant(merchant=obj)[:PAYOUTS_SHOWN])
        items = format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (
                    date_format(timezone.localtime(payout.created_at), "DATETIME_FORMAT"),
                    money(payout.amount, payout.currency),
                    payout.get_status_display(),
                    payout.destination,
                )
                for payout in latest
            ),
        )
        url = payouts_url(obj)
        every = format_html('<a href="{}">Every payout of {}</a>', url, obj) if url else ""
        if not latest:
            return format_html("None yet. {}", every)
        return format_html('<ul style="margin-left: 0">{}</ul>{}', items, every)

    # Paying the settlement balance out now: a button on the page (a confirmation page,
    # then a POST) and an action on the list, for staff who may change merchants.

    def has_pay_out_permission(self, request: HttpRequest, obj: Merchant | None = None) -> bool:
        return self.has_change_permission(request, obj)

    @admin.action(description="Pay out the settlement balance now", permissions=("pay_out",))
    def pay_out(self, request: HttpRequest, queryset: QuerySet[Merchant]) -> None:
        for merchant in queryset.order_by("pk"):
            self.pay_out_one(request, merchant)

    def pay_out_one(self, request: HttpRequest, merchant: Merchant) -> None:
        """Pay out any balance of 1 minor unit or more, as ``request.user``; say what was
        paid or why nothing was, and write it in the merchant's history."""
        staff = request.user
        if not isinstance(staff, User):  # the admin site serves only signed-in staff
            raise PermissionDenied
        result = services.settlement_pay_out(merchant=merchant, threshold=1, requested_by=staff)
        text, level = payout_message(result)
        if result.payout is not None:
            self.log_change(request, result.merchant, text)
        self.message_user(request, text, level)

    # The "Create API key" page: a form, then the key, once.

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts
        return [
            path(
                "<path:object_id>/pay-out/",
                self.admin_site.admin_view(self.pay_out_view),
                name=f"{opts.app_label}_{opts.model_name}_pay_out",
            ),
            path(
                "<path:object_id>/api-keys/new/",
                self.admin_site.admin_view(self.api_key_create_view),
                name=f"{opts.app_label}_{opts.model_name}_api_key_create",
            ),
            *super().get_urls(),
        ]

    def pay_out_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: what would be paid, where, and a button. POST: pay it out, then back to
        the merchant's page with a message saying what was paid or why nothing was."""
        merchant = self.get_object(request, unquote(object_id))
        if merchant is None:
            raise Http404("No such merchant.")
        if not self.has_pay_out_permission(request, merchant):
            raise PermissionDenied
        if request.method == "POST":
            self.pay_out_one(request, merchant)
            return HttpResponseRedirect(change_url(merchant))
        settlement = merchant.settlement
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Pay out the settlement balance of {merchant}",
            "merchant": merchant,
            "merchant_url": change_url(merchant),
            "balance": money(settlement.balance, settlement.currency),
            "can_pay": settlement.balance > 0 and bool(merchant.payout_destination),
        }
        return TemplateResponse(request, "admin/merchants/merchant/pay_out.html", context)

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
            "merchant_url": change_url(merchant),
        }
        created: tuple[ApiKey, str] | None = None
        if form.is_valid():
            try:
                created = services.api_key_create(
                    merchant=merchant,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.cleaned_data["expires_at"],
                    allowed_networks=form.cleaned_data["allowed_networks"],
                    by=_staff(request),
                )
            except InvalidRequest as error:
                form.add_domain_error(error)
        if created is not None:
            api_key, raw_key = created
            self.log_addition(request, api_key, [{"added": {}}])
            context.update(
                title=f"API key for {merchant}",
                api_key=api_key,
                raw_key=raw_key,
                api_key_url=change_url(api_key),
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


def _staff(request: HttpRequest) -> User:
    """The signed-in member of staff, whom the audit trail names as the actor."""
    if not isinstance(request.user, User):  # the admin site serves only signed-in staff
        raise PermissionDenied
    return request.user


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdminMixin, AuditTrailAdmin):
    """Keys are created on their merchant's page (shown once) and revoked here. The
    digest is never shown: it is not a field of any page, list or search."""

    fields = (
        "prefix",
        "merchant",
        "name",
        "state",
        "key_scopes",
        "networks",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    )
    readonly_fields = fields
    list_display = (
        "prefix",
        "merchant",
        "name",
        "state",
        "key_scopes",
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

    @admin.display(description="Scopes")
    def key_scopes(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes) or "none (it can call nothing)"

    @admin.display(description="Allowed networks")
    def networks(self, obj: ApiKey) -> str:
        return ", ".join(obj.allowed_networks) or "any"

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
            services.api_key_revoke(api_key=api_key, by=_staff(request))
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


# --- Codes and consents ----------------------------------------------------------------


def _limit_column(field: str, description: str) -> Any:
    """A billing limit as money in the deployment's currency; a dash for other scopes."""

    @admin.display(description=description)
    def show(model_admin: admin.ModelAdmin, obj: Model) -> str:
        return money_display(getattr(obj, field), settings.WALLET_CURRENCY)

    return show


@admin.register(AuthorizationCode)
class AuthorizationCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The code itself is never stored; its digest is not shown either. The terms the
    citizen agreed to (billing limits, the consent text shown) are."""

    fields = (
        "id",
        "citizen",
        "scope",
        "merchant",
        "created_at",
        "expires_at",
        "redeemed_at",
        "redeemed_by",
        "max_bill",
        "max_monthly",
        "text_version",
        "language",
        "text",
    )
    readonly_fields = fields
    list_display = (
        "created_at",
        "citizen",
        "scope",
        "merchant",
        "expires_at",
        "redeemed_at",
        "redeemed_by",
    )
    list_filter = ("scope",)
    search_fields = ("citizen__username", "merchant__name")
    list_select_related = ("citizen", "merchant", "redeemed_by")
    date_hierarchy = "created_at"

    max_bill = _limit_column("max_bill_amount", "Largest bill")
    max_monthly = _limit_column("max_monthly_amount", "Monthly total")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """One consent not revoked per citizen, merchant and scope; a new code renews it
    (``renewed_at``, ``code`` the latest). A billing consent has no end but its
    revocation."""

    fields = (
        "id",
        "citizen",
        "merchant",
        "scope",
        "code",
        "granted_at",
        "renewed_at",
        "expires_at",
        "revoked_at",
        "max_bill",
        "max_monthly",
        "text_version",
        "language",
        "text",
    )
    readonly_fields = fields
    list_display = (
        "granted_at",
        "citizen",
        "merchant",
        "scope",
        "max_bill",
        "max_monthly",
        "renewed_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = ("scope", "merchant")
    search_fields = ("citizen__username", "merchant__name")
    list_select_related = ("citizen", "merchant")
    date_hierarchy = "granted_at"

    max_bill = _limit_column("max_bill_amount", "Largest bill")
    max_monthly = _limit_column("max_monthly_amount", "Monthly total")
