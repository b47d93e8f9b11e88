"""Staff's view of the console: merchants' members (read-only, with their audit trail, and
a reset of a lost second factor) and invitations (how a merchant's first owner gets in);
webhooks read-only: endpoints (never their secrets), deliveries with their attempts, and
the events outbox. Other changes are the merchants' (the console and the API), through
the services."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from common.admin import AuditTrailAdmin, ReadOnlyAdminMixin, payload_amounts
from common.models import OutboxEvent
from merchants.admin import adopt
from merchants.console import members
from merchants.console.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from merchants.console.services.account import otp_reset
from merchants.models import MemberInvite, MerchantMember


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("url", "merchant", "created_at", "disabled_reason", "deleted_at")
    list_filter = ("disabled_reason",)
    list_select_related = ("merchant",)
    search_fields = ("url", "merchant__name")
    date_hierarchy = "created_at"
    # Everything but the signing secret.
    fields = (
        "merchant",
        "url",
        "events",
        "description",
        "created_at",
        "created_by",
        "created_with_key",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "deleted_at",
    )
    raw_id_fields = ("merchant", "created_by", "created_with_key")


class WebhookAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "duration_ms", "error", "response_excerpt")
    extra = 0


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("event", "endpoint", "status", "attempts", "created_at", "next_attempt_at")
    list_filter = ("status", "event__type")
    list_select_related = ("event", "endpoint", "endpoint__merchant")
    search_fields = ("endpoint__url", "event__id")
    date_hierarchy = "created_at"
    raw_id_fields = ("endpoint", "event", "resent_by")
    inlines: ClassVar = [WebhookAttemptInline]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The events as merchants receive them: ``data`` is the payload as sent (amounts in
    minor units, as the API has them), and its amounts are shown formatted beside it."""

    list_display = ("type", "merchant_id", "occurred_at", "relayed_at")
    list_filter = ("type",)
    search_fields = ("merchant_id", "id")
    date_hierarchy = "occurred_at"
    readonly_fields = ("amounts",)

    @admin.display(description="Amounts in the payload")
    def amounts(self, obj: OutboxEvent) -> str:
        return payload_amounts(obj.data)


@admin.register(MerchantMember)
class MerchantMemberAdmin(ReadOnlyAdminMixin, AuditTrailAdmin):
    """Who works for each merchant, in which role; read here, changed in the console
    (``merchants.members``) by the merchant's own owners and managers. The "History"
    page is the membership's audit trail."""

    fields = ("merchant", "user", "role", "created_at", "added_by", "removed_at", "removed_by")
    readonly_fields = fields
    list_display = ("user", "merchant", "role", "created_at", "removed_at")
    list_filter = ("role", "merchant__category")
    search_fields = ("user__username", "merchant__name")
    list_select_related = ("user", "merchant")
    actions = ("second_factor_reset",)

    @admin.action(description="Reset the second factor (a lost phone): enrol again at sign-in")
    def second_factor_reset(self, request: HttpRequest, queryset: QuerySet[MerchantMember]) -> None:
        removed = otp_reset(user_ids=list(queryset.values_list("user_id", flat=True)))
        self.message_user(request, f"{removed} device(s) removed.")


class InviteAddForm(forms.ModelForm):
    class Meta:
        model = MemberInvite
        fields = ("merchant", "role", "note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        merchant, role = data.get("merchant"), data.get("role")
        if (
            merchant is not None
            and role
            and role not in members.roles_of_category(merchant.category)
        ):
            self.add_error("role", f"A {merchant.get_category_display()} has no {role} role.")
        return data


@admin.register(MemberInvite)
class MemberInviteAdmin(admin.ModelAdmin):
    """Invitations to a merchant's console. Staff make the first owner's (the link is
    shown once, in the message after saving: send it to the owner); owners and managers
    invite the rest from the console. An open invitation can be withdrawn (action)."""

    list_display = (
        "merchant",
        "role",
        "note",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("role",)
    search_fields = ("merchant__name", "note")
    list_select_related = ("merchant",)
    readonly_fields = (
        "merchant",
        "role",
        "note",
        "created_at",
        "expires_at",
        "created_by",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    actions = ("withdraw",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = InviteAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ("merchant", "role", "note")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        invite, token = members.invite_create(
            merchant=form.cleaned_data["merchant"],
            role=form.cleaned_data["role"],
            note=form.cleaned_data["note"],
            staff=request.user,  # type: ignore[arg-type]
        )
        adopt(obj, invite)
        link = request.build_absolute_uri(reverse("console:invite", args=[token]))
        messages.warning(
            request,
            format_html(
                "Send this one-time link to the new {} (shown only now; it expires {}): {}",
                invite.get_role_display().lower(),
                date_format(timezone.localtime(invite.expires_at), "DATETIME_FORMAT"),
                link,
            ),
        )

    @admin.action(description="Withdraw the selected open invitations")
    def withdraw(self, request: HttpRequest, queryset: QuerySet[MemberInvite]) -> None:
        count = members.invites_withdraw(invite_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} invitation(s) withdrawn.")
