"""Staff's read-only view of webhooks: endpoints (never their secrets), deliveries with
their attempts, and the events outbox. Changes are the merchants' (the console and the
API), through the services."""

from __future__ import annotations

from typing import ClassVar

from django.contrib import admin

from common.admin import ReadOnlyAdminMixin
from common.models import OutboxEvent
from merchants.console.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


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
    list_display = ("type", "merchant_id", "occurred_at", "relayed_at")
    list_filter = ("type",)
    search_fields = ("merchant_id", "id")
    date_hierarchy = "occurred_at"
