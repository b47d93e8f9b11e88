"""Admin of the shared plumbing, the read-only mixin every app's record admins use, the
audit trail's admin base, and money as every admin page shows it."""

import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from common import services
from common.models import FailedTask, IdempotencyKey
from common.money import format_money

# What an admin page shows where there is no amount.
NO_AMOUNT = "—"


def money_display(amount: int | None, currency: str | None) -> str:
    """An amount in minor units as every admin page shows it: "2,800.00 CNY" (through
    ``common.money.format_money``, in the currency's own precision); a dash when there
    is no amount. Admin pages never show a raw minor-unit number."""
    if amount is None or not currency:
        return NO_AMOUNT
    return format_money(amount, currency)


def money_column(
    field: str,
    description: str,
    *,
    sortable: bool = True,
    currency: str | Callable[[Any], str | None] | None = None,
) -> Any:
    """A list column or read-only field showing ``obj.<field>`` (dotted through a
    relation, e.g. ``claim.amount``) as money: in ``currency`` when given (a code, or a
    function of the object), else in the ``currency`` of the object holding the field.

    Used as ``amount_shown = money_column("amount", "Amount")`` in a ModelAdmin, then
    named in ``list_display`` or ``readonly_fields``."""
    *path, name = field.split(".")

    @admin.display(description=description, ordering=field.replace(".", "__") if sortable else None)
    def show(model_admin: admin.ModelAdmin, obj: Any) -> str:
        holder: Any = obj  # the object at the end of the path, with its currency
        for step in path:
            holder = getattr(holder, step, None)
            if holder is None:
                return NO_AMOUNT
        code: str | None
        if callable(currency):
            code = currency(obj)
        else:
            code = currency if currency is not None else getattr(holder, "currency", None)
        return money_display(getattr(holder, name), code)

    return show


def payload_amounts(payload: Any) -> str:
    """The amounts in a JSON payload (an API's or a provider's, whose amounts are minor
    units by contract) as people read them: "amount: 413.27 CNY; paid_amount: ...",
    each ``*amount`` number next to a ``currency``, at any depth; a dash if none."""
    found: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            currency = value.get("currency")
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                amount = isinstance(item, int) and not isinstance(item, bool)
                if amount and str(key).endswith("amount") and isinstance(currency, str):
                    found.append(f"{path}: {money_display(item, currency)}")
                else:
                    walk(item, path)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    walk(payload, "")
    return "; ".join(found) or NO_AMOUNT


def _currency_at(path: str) -> Callable[[Any], str | None]:
    def currency(obj: Any) -> str | None:
        holder: Any = obj
        for step in path.split("."):
            holder = getattr(holder, step, None)
        return holder if isinstance(holder, str) else None

    return currency


class MoneyAdminMixin:
    """Money fields shown formatted on the change page, in place of their raw minor units.

    ``money_fields`` maps each amount field to where its currency is read, a dotted path
    from the object (``{"amount": "account.currency"}``); the page shows
    ``<field>_money`` (read-only, "2,800.00 CNY") where the field would be. List columns
    name ``<field>_money`` too."""

    money_fields: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, currency in cls.money_fields.items():
            label = name.replace("_", " ").capitalize()
            shown = money_column(name, label, currency=_currency_at(currency))
            setattr(cls, f"{name}_money", shown)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        shown = [f"{name}_money" for name in self.money_fields]
        return [*readonly, *(name for name in shown if name not in readonly)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        mapped = [
            f"{name}_money" if isinstance(name, str) and name in self.money_fields else name
            for name in fields
        ]
        return list(dict.fromkeys(mapped))


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
