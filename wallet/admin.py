"""Admin for accounts and the ledger. Ledger rows are read-only: money moves only
through services, and corrections are new transfers."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from common.admin import AuditTrailAdmin, ReadOnlyAdminMixin
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

# What makes an account powerful. Only a superuser may change them, on anyone: a member
# of staff who could would grant themselves (or an accomplice) whatever they lack.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(AuditTrailAdmin, DjangoUserAdmin):
    """Accounts. A member of staff who is not a superuser sees the privilege fields
    read-only, cannot change a staff or superuser account at all (nor its password), and
    a forged POST that still tries to change a privilege is refused on the server."""

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

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return readonly + tuple(field for field in PRIVILEGE_FIELDS if field not in readonly)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and _privileged(obj) and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and _privileged(obj) and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool
    ) -> None:
        # The form of a non-superuser has no privilege fields, so Django ignores them in
        # a POST; this refuses anything that got through another way all the same.
        if not request.user.is_superuser:
            stored = User.objects.filter(pk=obj.pk).first() if change else None
            if _privileged(obj) or (stored is not None and _privileged(stored)):
                raise PermissionDenied("Only a superuser may change a staff account.")
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        if not request.user.is_superuser and any(
            field in form.changed_data for field in ("groups", "user_permissions")
        ):
            raise PermissionDenied("Only a superuser may grant groups or permissions.")
        super().save_related(request, form, formsets, change)

    def _set_identity_level(
        self, request: HttpRequest, queryset: QuerySet[User], level: IdentityLevel
    ) -> None:
        actor = request.user
        if not isinstance(actor, User):  # the admin site serves only signed-in staff
            raise PermissionDenied
        for user in queryset:
            services.user_identity_level_set(user=user, level=level, actor=actor)
        self.message_user(request, f"{queryset.count()} user(s) set to “{level.label}”.")

    @admin.action(description="Identity level: none", permissions=("change",))
    def set_level_none(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.NONE)

    @admin.action(description="Identity level: phone verified", permissions=("change",))
    def set_level_phone(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.PHONE)

    @admin.action(description="Identity level: identity document verified", permissions=("change",))
    def set_level_document(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_identity_level(request, queryset, IdentityLevel.DOCUMENT)

    @admin.display(description="Wallet (balance / available)")
    def wallet_balance(self, obj: User) -> str:
        account = getattr(obj, "wallet_account", None)
        if account is None:
            return "no wallet yet"
        balance = format_money(account.balance, account.currency)
        return f"{balance} / {format_money(account.available, account.currency)}"


def _privileged(user: User) -> bool:
    return user.is_staff or user.is_superuser


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
