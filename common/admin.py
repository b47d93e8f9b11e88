"""Admin of the shared plumbing, the read-only mixin every app's record admins use, and
the audit trail's admin base."""

import uuid
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin

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


class AuditTrailAdmin(SimpleHistoryAdmin):
    """An admin whose "History" page is the model's audit trail (django-simple-history):
    every change with who made it, when, and each field's old and new value.

    The trail is read, never replayed: with ``SIMPLE_HISTORY_REVERT_DISABLED`` the page
    of a past version shows no "Revert" button, but simple-history would still save a
    POST to it; it is refused here, so a past version is a page to read and nothing more.
    (On PostgreSQL the history tables refuse UPDATE and DELETE too.)"""

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)


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


def is_uuid(value: str) -> bool:
    """Whether an object id from an admin URL can be a UUID primary key (anything else is
    a 404, never a database error)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
