"""Admin for accounts and the ledger. Ledger rows are read-only: money moves only
through services, and corrections are new transfers."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from common.admin import ReadOnlyAdminMixin
from common.money import format_money
from wallet import services
from wallet.models import (
    Entry,
    Hold,
    IdentityLevel,
    LedgerAccount,
    Transfer,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "display_name",
        "identity_level",
        "wallet_balance",
        "is_staff",
        "date_joined",
    )
    list_filter = ("identity_level", "is_staff", "is_active")
    list_select_related = ("wallet_account",)
    search_fields = ("username", "display_name", "email", "public_id")
    readonly_fields = (
        "public_id",
        "identity_level",
        "wallet_balance",
        "last_login",
        "date_joined",
    )
    actions = ("set_level_none", "set_level_phone", "set_level_document")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Open Sesame", {"fields": ("public_id", "display_name", "identity_level")}),
        ("Wallet", {"fields": ("wallet_balance",)}),
    )

    def _set_identity_level(
        self, request: HttpRequest, queryset: QuerySet[User], level: IdentityLevel
    ) -> None:
        for user in queryset:
            services.user_identity_level_set(user=user, level=level)
        self.message_user(request, f"{queryset.count()} user(s) set to “{level.label}”.")

    @admin.action(description="Identity level: none")
    def set_level_none(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.NONE)

    @admin.action(description="Identity level: phone verified")
    def set_level_phone(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.PHONE)

    @admin.action(description="Identity level: identity document verified")
    def set_level_document(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.DOCUMENT)

    @admin.display(description="Wallet (balance / available)")
    def wallet_balance(self, obj: User) -> str:
        account = getattr(obj, "wallet_account", None)
        if account is None:
            return "no wallet yet"
        balance = format_money(account.balance, account.currency)
        return f"{balance} / {format_money(account.available, account.currency)}"


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "kind", "name", "currency", "balance", "held", "created_at")
    list_filter = ("kind",)
    search_fields = ("code", "name", "user__username")
    list_select_related = ("user",)
    raw_id_fields = ("user",)


class EntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Entry
    fields = ("account", "amount", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        return super().get_queryset(request).select_related("account")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "currency", "description", "reference", "created_at")
    list_filter = ("kind",)
    search_fields = ("id", "reference", "description")
    date_hierarchy = "created_at"
    inlines = (EntryInline,)


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "account",
        "amount",
        "captured_amount",
        "status",
        "expires_at",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("id", "reference", "account__code")
    list_select_related = ("account",)


# The payments' admins (reports, top-ups, payouts, provider events) live beside their
# services; importing them here registers them.
from wallet.payments import admin as payments_admin  # noqa: E402, F401
