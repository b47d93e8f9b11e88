"""Admin of the shared plumbing, and the read-only mixin every app's record admins use."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from common import services
from common.models import FailedTask, IdempotencyKey


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


@admin.register(FailedTask)
class FailedTaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Dead letters: tasks that failed for good. Sending one again marks it resolved."""

    list_display = (
        "failed_at",
        "task_name",
        "exception_type",
        "attempts",
        "resolved",
        "resent_as",
    )
    list_filter = ("resolved", "task_name", "exception_type")
    search_fields = ("task_name", "task_id", "exception_message")
    date_hierarchy = "failed_at"
    actions = ("resend",)

    @admin.action(description="Send again (marks them resolved)")
    def resend(self, request: HttpRequest, queryset: QuerySet[FailedTask]) -> None:
        sent = 0
        for failed_task in queryset.filter(resolved=False).order_by("pk"):
            try:
                services.failed_task_resend(failed_task=failed_task)
            except Exception as error:  # the broker refused, or (eager) the task failed again
                self.message_user(
                    request,
                    f"{failed_task.task_name} [{failed_task.task_id}] was not sent: {error}",
                    messages.ERROR,
                )
                continue
            sent += 1
        self.message_user(request, f"{sent} task(s) sent again.", messages.SUCCESS)
