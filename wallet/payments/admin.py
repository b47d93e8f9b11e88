"""Admin of money in and out: the reconciliation's reports, top-ups, payouts (citizens'
withdrawals and merchants' payouts) and the providers' notifications.

Everything here is read-only: money changes only through the services (a top-up by its
provider's confirmation, a payout through its relay). The one thing staff can start is a
reconciliation run ("Run the reconciliation now"), which only reads the ledger and stores
a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from common.admin import (
    MoneyAdminMixin,
    ReadOnlyAdminMixin,
    money_column,
    money_display,
    payload_amounts,
)
from wallet.models import (
    AccountKind,
    Payout,
    ProviderEvent,
    ReconciliationReport,
    TopUp,
)
from wallet.payments.reconciliation import CHECKS, reconcile


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> SafeString:
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


@admin.register(ReconciliationReport)
class ReconciliationReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The daily reconciliation's reports: a list by date with the difference, and a page
    with each check, each problem (naming the account, transfer or provider) and the
    providers' totals next to what the ledger booked."""

    list_display = (
        "business_date",
        "started_at",
        "ok",
        "difference_shown",
        "customer_funds_shown",
        "problem_count",
    )
    list_filter = ("ok", "business_date")
    date_hierarchy = "business_date"
    search_fields = ("=id",)
    fieldsets = (
        (None, {"fields": ("business_date", "started_at", "finished_at", "ok", "currency")}),
        (
            "Safeguarding",
            {
                "fields": (
                    "customer_funds_shown",
                    "provider_funds_shown",
                    "legacy_funds_shown",
                    "difference_shown",
                    "in_transit_shown",
                    "pending_payouts_shown",
                    "providers_table",
                )
            },
        ),
        ("Checks", {"fields": ("checks_table", "problems_table", "system_accounts_table")}),
    )
    # Every field: the page only shows.
    readonly_fields = (
        "business_date",
        "started_at",
        "finished_at",
        "ok",
        "currency",
        "customer_funds_shown",
        "provider_funds_shown",
        "legacy_funds_shown",
        "difference_shown",
        "in_transit_shown",
        "pending_payouts_shown",
        "providers_table",
        "checks_table",
        "problems_table",
        "system_accounts_table",
    )
    difference_shown = money_column("difference", "Difference")
    customer_funds_shown = money_column("customer_funds", "Customer funds")
    provider_funds_shown = money_column("provider_funds", "Provider funds (incl. legacy)")
    legacy_funds_shown = money_column("legacy_funds", "Legacy funds (booked before providers)")
    in_transit_shown = money_column("in_transit", "Payouts in transit")
    pending_payouts_shown = money_column("pending_payouts", "Pending payouts")

    @admin.display(description="Problems")
    def problem_count(self, obj: ReconciliationReport) -> int:
        return sum(check.get("found", 0) for check in obj.checks)

    def _money(self, obj: ReconciliationReport, amount: object) -> str:
        return money_display(amount, obj.currency) if isinstance(amount, int) else "—"

    @admin.display(description="Providers")
    def providers_table(self, obj: ReconciliationReport) -> SafeString:
        columns = (
            "received",
            "paid_out",
            "net",
            "booked",
            "difference",
            "top_ups_succeeded",
            "payouts_paid",
        )
        return _table(
            (
                "Provider",
                "Received",
                "Paid out",
                "Net (reported)",
                "Booked (ledger)",
                "Difference",
                "Top-ups succeeded",
                "Payouts paid",
            ),
            (
                (name, *(self._money(obj, totals.get(column)) for column in columns))
                for name, totals in sorted(obj.providers.items())
            ),
        )

    @admin.display(description="Checks")
    def checks_table(self, obj: ReconciliationReport) -> SafeString:
        return _table(
            ("Check", "What it checks", "Result", "Offenders"),
            (
                (
                    check["check"],
                    check.get("description") or CHECKS.get(check["check"], ""),
                    "ok" if check["ok"] else "DIFFERENCE",
                    check.get("found", 0),
                )
                for check in obj.checks
            ),
        )

    def _subject(self, subject: str) -> SafeString:
        """The problem's subject, linked to the account or transfer it names."""
        if subject.startswith("transfer "):
            transfer_id = subject.removeprefix("transfer ")
            url = reverse("admin:wallet_transfer_change", args=[transfer_id])
        elif ":" in subject:
            url = reverse("admin:wallet_ledgeraccount_changelist") + "?" + urlencode({"q": subject})
        else:
            return format_html("{}", subject)
        return format_html('<a href="{}">{}</a>', url, subject)

    @admin.display(description="Problems")
    def problems_table(self, obj: ReconciliationReport) -> SafeString:
        if not obj.problems:
            return format_html("{}", "None: every check passed.")
        return _table(
            ("Check", "Account, transfer or provider", "Expected", "Found", "Difference"),
            (
                (
                    problem["check"],
                    self._subject(problem["subject"]),
                    self._money(obj, problem["expected"]),
                    self._money(obj, problem["actual"]),
                    self._money(obj, problem["actual"] - problem["expected"]),
                )
                for problem in obj.problems
            ),
        )

    @admin.display(description="System accounts")
    def system_accounts_table(self, obj: ReconciliationReport) -> SafeString:
        return _table(
            ("Account", "Balance"),
            ((code, self._money(obj, balance)) for code, balance in obj.system_accounts.items()),
        )

    # --- "Run the reconciliation now" ------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "run/",
                self.admin_site.admin_view(require_POST(self.run_view)),
                name="wallet_reconciliationreport_run",
            ),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        """Run the reconciliation now (it only reads the ledger and stores its report),
        then show the new report. ``admin_view`` makes it staff-only and CSRF-protected."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        report = reconcile()
        if report.ok:
            self.message_user(request, "The reconciliation found no difference.", messages.SUCCESS)
        else:
            self.message_user(
                request,
                f"The reconciliation found {len(report.problems)} problem(s); difference "
                f"{money_display(report.difference, report.currency)}.",
                messages.ERROR,
            )
        return HttpResponseRedirect(
            reverse("admin:wallet_reconciliationreport_change", args=[report.pk])
        )


@admin.register(TopUp)
class TopUpAdmin(MoneyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields: ClassVar = {"amount": "currency"}
    list_display = (
        "created_at",
        "id",
        "user",
        "amount_shown",
        "status",
        "provider",
        "provider_reference",
        "resolved_at",
    )
    list_filter = ("status", "provider", "created_at")
    list_select_related = ("user",)
    search_fields = ("=id", "provider_reference", "user__username")
    date_hierarchy = "created_at"
    raw_id_fields = ("user", "transfer")
    amount_shown = money_column("amount", "Amount")


class PayoutKindFilter(admin.SimpleListFilter):
    """Citizens' withdrawals (from a wallet) or merchants' payouts (from a settlement
    account)."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (AccountKind.WALLET.value, "Withdrawal (citizen)"),
            (AccountKind.SETTLEMENT.value, "Payout (merchant)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payout]) -> QuerySet[Payout]:
        if self.value() in (AccountKind.WALLET, AccountKind.SETTLEMENT):
            return queryset.filter(account__kind=self.value())
        return queryset


@admin.register(Payout)
class PayoutAdmin(MoneyAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    money_fields: ClassVar = {"amount": "currency"}
    list_display = (
        "created_at",
        "id",
        "kind",
        "account",
        "amount_shown",
        "status",
        "provider",
        "destination",
        "resolved_at",
    )
    list_filter = ("status", "provider", PayoutKindFilter, "created_at")
    list_select_related = ("account", "account__user")
    search_fields = (
        "=id",
        "provider_reference",
        "account__user__username",
        "account__code",
        "destination",
    )
    date_hierarchy = "created_at"
    raw_id_fields = ("account", "requested_by")
    amount_shown = money_column("amount", "Amount")

    @admin.display(description="Kind", ordering="account__kind")
    def kind(self, obj: Payout) -> str:
        return "Withdrawal" if obj.account.kind == AccountKind.WALLET else "Merchant payout"


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every verified notification of a provider, once, with what it did (``outcome``:
    applied, ignored, refused)."""

    list_display = ("received_at", "provider", "kind", "event_id", "reference", "outcome", "detail")
    list_filter = ("provider", "kind", "outcome")
    search_fields = ("event_id", "reference")
    date_hierarchy = "received_at"
    # The payload is shown as the provider sent it (amounts in minor units); its amounts
    # are shown formatted beside it.
    readonly_fields = ("amounts",)

    @admin.display(description="Amounts in the payload")
    def amounts(self, obj: ProviderEvent) -> str:
        return payload_amounts(obj.payload)
