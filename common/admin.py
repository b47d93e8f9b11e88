"""Admin of the shared plumbing, and the read-only mixin every app's record admins use."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from common.models import IdempotencyKey


class ReadOnlyAdminMixin:
    """No add, change or delete: the admin shows these rows and nothing more."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("scope", "key", "response_status", "created_at")
    search_fields = ("scope", "key")
    date_hierarchy = "created_at"
